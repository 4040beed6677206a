#!/usr/bin/env bash
# Runs `bpfleet-agent check` on every test object and on a few bad inputs, and
# validates each bpfleet.check/v1 document it prints against the JSON Schema.
#
# usage: validate_check_documents.sh AGENT BPF_DIR SCHEMA
#
# Checked per document: stdout is exactly one JSON document; it validates
# against SCHEMA; the exit status is the one expected for the input (2 for a
# bad input, 0 or 1 for an object) and agrees with the document (2 when
# "error" is set, 1 when a program failed or errored, 0 otherwise); the summary
# counts the programs' overall verdicts.
#
# Objects checked: BPF_DIR/*.bpf.o, each with a full check and with
# --load-only, plus the *.o in BPFLEET_EXTRA_BPF_DIR (default
# /usr/lib/<arch>-linux-gnu/bpf, where Debian's libxdp1 puts real third-party
# objects) when that folder exists; set it empty to leave them out.
#
# Exit status: 0 all passed, 1 something failed, 2 usage, 125 skipped (not
# root, agent or python3-jsonschema missing, no objects built). With
# BPFLEET_REQUIRE_ALL=1 a missing prerequisite is a failure (1), not a skip.
set -euo pipefail

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
readonly AGENT_TIMEOUT=300 # seconds per agent run; its own watchdog is 120 s

# Test objects that are invalid as a whole by design: the agent answers 2.
readonly OBJECT_LEVEL_FAILURES=(
    legacy_maps.bpf.o # pre-BTF "maps" section, which libbpf 1.0+ refuses
)

if [[ $# -ne 3 ]]; then
    echo "usage: $0 AGENT BPF_DIR SCHEMA" >&2
    exit 2
fi
agent=$1
bpf_dir=$2
schema=$3

if [[ ! -r "$schema" ]]; then
    echo "schema: cannot read the schema '$schema'" >&2
    exit 1
fi
require_root_and_jsonschema
if [[ ! -x "$agent" ]]; then
    skip "no agent at '$agent' (build bpfleet-agent first)"
fi

shopt -s nullglob
objects=("$bpf_dir"/*.bpf.o)
if [[ ${#objects[@]} -eq 0 ]]; then
    skip "no *.bpf.o in '$bpf_dir' (build the bpfleet_test_objects target first)"
fi
extra_dir=${BPFLEET_EXTRA_BPF_DIR-/usr/lib/$(uname -m)-linux-gnu/bpf}
extra_objects=()
if [[ -n "$extra_dir" && -d "$extra_dir" ]]; then
    extra_objects=("$extra_dir"/*.o)
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/bpfleet-schema.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

# The bad inputs: each must give exit status 2 and a document with "error" set.
bad="$work/bad"
mkdir -p "$bad/a-directory.bpf.o"
: >"$bad/empty.bpf.o"
head -c 4096 /dev/urandom >"$bad/random.bpf.o"
real=${objects[0]}
for candidate in "${objects[@]}"; do
    if [[ $(basename "$candidate") == pass.bpf.o ]]; then
        real=$candidate
    fi
done
real_size=$(stat -c %s "$real")
head -c $((real_size / 2)) "$real" >"$bad/truncated.bpf.o"
non_bpf_elf=/bin/true
[[ -e "$non_bpf_elf" ]] || non_bpf_elf=/usr/bin/true
bad_inputs=(
    "$bad/empty.bpf.o"
    "$bad/random.bpf.o"
    "$bad/truncated.bpf.o"
    "$non_bpf_elf"
    "$bad/missing.bpf.o"
    "$bad/a-directory.bpf.o"
)

manifest="$work/manifest.tsv"
: >"$manifest"
count=0
# run_agent LABEL EXPECTED PATH [OPTION...]: EXPECTED is "2" or "0|1".
run_agent() {
    local label=$1 expected=$2 path=$3
    shift 3
    count=$((count + 1))
    local out="$work/$count.json" err="$work/$count.err" rc=0
    timeout --kill-after=10 "$AGENT_TIMEOUT" "$agent" check --object "$path" "$@" \
        >"$out" 2>"$err" </dev/null || rc=$?
    printf '%s\t%s\t%s\t%s\t%s\n' "$label" "$expected" "$rc" "$out" "$err" >>"$manifest"
}

for object in "${objects[@]}"; do
    name=$(basename "$object")
    expected="0|1"
    for failure in "${OBJECT_LEVEL_FAILURES[@]}"; do
        if [[ $name == "$failure" ]]; then
            expected=2
        fi
    done
    run_agent "$name" "$expected" "$object"
    run_agent "$name --load-only" "$expected" "$object" --load-only
done
for object in "${extra_objects[@]}"; do
    run_agent "$(basename "$object") ($extra_dir)" "0|1" "$object"
done
for input in "${bad_inputs[@]}"; do
    label=$(basename "$input")
    [[ $input == "$non_bpf_elf" ]] && label="$input (not BPF)"
    run_agent "bad: $label" 2 "$input"
done

"$PYTHON" - "$schema" "$manifest" <<'EOF'
import json
import sys

from jsonschema import Draft202012Validator

schema_path, manifest_path = sys.argv[1], sys.argv[2]
with open(schema_path, encoding="utf-8") as f:
    schema = json.load(f)
Draft202012Validator.check_schema(schema)
validator = Draft202012Validator(schema)


def overall(program):
    """A program's verdict over its stages, as the summary counts it."""
    stages = [program[s] for s in ("load", "attach", "fire") if s in program]
    verdicts = [s["verdict"] for s in stages]
    if "error" in verdicts or "miss" in verdicts:
        return "error"
    if "fail" in verdicts:
        return "fail"
    return "skip" if program["load"]["verdict"] == "skip" else "pass"


def status_of(doc):
    """The exit status the document itself calls for."""
    if doc.get("error") is not None:
        return 2
    s = doc["summary"]
    return 1 if s["fail"] > 0 or s["error"] > 0 else 0


def problems_of(expected, rc, out_path):
    with open(out_path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    if not text.strip():
        return [f"no document on stdout (exit {rc})"]
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        return [f"stdout is not one JSON document: {e}"]
    problems = []
    for e in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))[:5]:
        where = "/".join(str(p) for p in e.absolute_path) or "(root)"
        problems.append(f"schema: {where}: {e.message[:200]}")
    if str(rc) not in expected.split("|"):
        problems.append(f"exit status {rc}, expected {expected.replace('|', ' or ')}")
    if problems:
        return problems
    if rc != status_of(doc):
        problems.append(f"exit status {rc} disagrees with the document ({status_of(doc)})")
    verdicts = [overall(p) for p in doc["programs"]]
    counted = {
        "programs": len(verdicts),
        "pass": verdicts.count("pass"),
        "fail": verdicts.count("fail"),
        "skip": verdicts.count("skip"),
        "error": verdicts.count("error"),
    }
    if counted != doc["summary"]:
        problems.append(f"summary {doc['summary']} does not count the verdicts {counted}")
    return problems


passed = failed = 0
with open(manifest_path, encoding="utf-8") as f:
    for line in f:
        label, expected, rc, out_path, err_path = line.rstrip("\n").split("\t")
        problems = problems_of(expected, int(rc), out_path)
        if problems:
            failed += 1
            print(f"FAIL {label} (exit {rc})")
            for p in problems:
                print(f"     {p}")
            with open(err_path, encoding="utf-8", errors="replace") as e:
                for err_line in e.read().splitlines()[-5:]:
                    print(f"     stderr: {err_line}")
        else:
            passed += 1
            print(f"ok   {label} (exit {rc})")
print(f"schema: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
EOF
