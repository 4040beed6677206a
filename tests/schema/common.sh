# Sourced by the schema validation scripts: what they all need before they
# start, and how they skip when they cannot run.
#
# Exit status of a skip: 125 (ctest's SKIP_RETURN_CODE); with
# BPFLEET_REQUIRE_ALL=1 a missing prerequisite is a failure (1), not a skip.

readonly PYTHON=/usr/bin/python3 # not the python3 on PATH: it may lack jsonschema

skip() {
    echo "schema: skipped: $*" >&2
    if [[ "${BPFLEET_REQUIRE_ALL:-0}" == 1 ]]; then
        echo "schema: BPFLEET_REQUIRE_ALL=1: a missing prerequisite is a failure" >&2
        exit 1
    fi
    exit 125
}

# Root (the agent loads BPF programs) and python3-jsonschema >= 4.
require_root_and_jsonschema() {
    if [[ $(id -u) -ne 0 ]]; then
        skip "needs root: the agent loads BPF programs"
    fi
    if [[ ! -x "$PYTHON" ]]; then
        skip "$PYTHON is missing"
    fi
    if ! "$PYTHON" -c 'from jsonschema import Draft202012Validator' 2>/dev/null; then
        skip "$PYTHON has no jsonschema >= 4 (apt-get install python3-jsonschema)"
    fi
}
