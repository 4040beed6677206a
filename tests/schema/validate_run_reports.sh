#!/usr/bin/env bash
# Runs `bpfleet run` and `bpfleet probe` in the situations that shape a
# report (every program passes; a program fails; --load-only; a host without
# an answer next to one that answered, with tags, groups and vars; an
# artifact with no object for the host's architecture; probe), and validates
# every report.json against docs/run.schema.json (each check report against
# docs/check.schema.json), together with the committed report fixtures.
#
# usage: validate_run_reports.sh BPFLEET AGENT BPF_DIR DOCS_DIR FIXTURES_DIR
#
# Checked per report: it validates; the exit status bpfleet gave is the one
# expected and the report's own exit_status (130/143 aside); summary.miss is
# the length of summary.missing and complete says whether it is 0.
#
# Exit status: 0 all passed, 1 something failed, 2 usage, 125 skipped (not
# root, python3-jsonschema missing). With BPFLEET_REQUIRE_ALL=1 a missing
# prerequisite is a failure (1), not a skip.
set -euo pipefail

readonly PYTHON=/usr/bin/python3 # not the python3 on PATH: it may lack jsonschema

skip() {
    echo "schema: skipped: $*" >&2
    if [[ "${BPFLEET_REQUIRE_ALL:-0}" == 1 ]]; then
        echo "schema: BPFLEET_REQUIRE_ALL=1: a missing prerequisite is a failure" >&2
        exit 1
    fi
    exit 125
}

if [[ $# -ne 5 ]]; then
    echo "usage: $0 BPFLEET AGENT BPF_DIR DOCS_DIR FIXTURES_DIR" >&2
    exit 2
fi
bpfleet=$1
agent=$2
bpf_dir=$3
docs=$4
fixtures=$5

if [[ $(id -u) -ne 0 ]]; then
    skip "needs root: the agent loads BPF programs"
fi
if ! "$PYTHON" -c 'from jsonschema import Draft202012Validator' 2>/dev/null; then
    skip "$PYTHON has no jsonschema >= 4 (apt-get install python3-jsonschema)"
fi
for f in "$bpfleet" "$agent" "$bpf_dir/pass.bpf.o" "$bpf_dir/mixed.bpf.o"; do
    [[ -e "$f" ]] || skip "'$f' is missing (build first)"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/bpfleet-run-schema.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
manifest="$work/manifest.tsv"
: >"$manifest"

# run_case LABEL EXPECTED_EXIT ARGS...: bpfleet ARGS -o $work/LABEL.
run_case() {
    local label=$1 expected=$2 rc=0
    shift 2
    timeout --kill-after=10 300 "$bpfleet" "$@" -o "$work/$label" --agent "x86_64=$agent" \
        >"$work/$label.out" 2>"$work/$label.err" </dev/null || rc=$?
    printf '%s\t%s\t%s\t%s\n' "$label" "$expected" "$rc" "$work/$label/report.json" >>"$manifest"
}

# An arm64-only object: the x86_64 machine has nothing to check in it.
arm_layout="$work/arm64-only"
mkdir -p "$arm_layout/blobs/sha256"
"$PYTHON" - "$arm_layout" "$bpf_dir/pass.bpf.o" <<'PY'
import hashlib, json, os, sys
root, obj = sys.argv[1], sys.argv[2]
def blob(data):
    d = hashlib.sha256(data).hexdigest()
    open(os.path.join(root, "blobs", "sha256", d), "wb").write(data)
    return {"digest": "sha256:" + d, "size": len(data)}
layer = blob(open(obj, "rb").read())
layer["mediaType"] = "application/vnd.gadget.ebpf.program.v1+binary"
config = blob(b"name: arm-only\n")
config["mediaType"] = "application/vnd.gadget.config.v1+yaml"
manifest = blob(json.dumps({"schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "artifactType": "application/vnd.gadget.v1+binary",
    "config": config, "layers": [layer]}).encode())
manifest["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
manifest["platform"] = {"architecture": "arm64", "os": "linux"}
index = blob(json.dumps({"schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [manifest]}).encode())
index["mediaType"] = "application/vnd.oci.image.index.v1+json"
index["annotations"] = {"org.opencontainers.image.ref.name": "v1"}
json.dump({"schemaVersion": 2, "manifests": [index]}, open(os.path.join(root, "index.json"), "w"))
open(os.path.join(root, "oci-layout"), "w").write('{"imageLayoutVersion": "1.0.0"}')
PY

# This machine (local transport) and a closed port next to it.
port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/inventory.toml" <<TOML
[groups.lab]
tags = ["x86"]
vars = { rack = "B2" }

[hosts.here]
transport = "local"
groups = ["lab"]
tags = ["local"]
vars = { owner = "ci" }

[hosts.gone]
address = "127.0.0.1"
port = $port
connect_timeout = 2
TOML

run_case pass 0 run -q -a "$bpf_dir/pass.bpf.o"
run_case fail 1 run -q -a "$bpf_dir/mixed.bpf.o" -a "$bpf_dir/pass.bpf.o"
run_case load-only 0 run -q --load-only -a "$bpf_dir/five_kinds.bpf.o"
run_case unanswered 3 run -q -i "$work/inventory.toml" --host-retries 0 -a "$bpf_dir/pass.bpf.o"
run_case no-object-for-arch 3 run -q -a "oci:$arm_layout:v1"
run_case probe 0 probe -q

"$PYTHON" - "$docs" "$manifest" "$fixtures" <<'PY'
import glob
import json
import os
import sys

from jsonschema import Draft202012Validator, RefResolver

docs, manifest_path, fixtures = sys.argv[1:4]
with open(os.path.join(docs, "run.schema.json"), encoding="utf-8") as f:
    run_schema = json.load(f)
with open(os.path.join(docs, "check.schema.json"), encoding="utf-8") as f:
    check_schema = json.load(f)
Draft202012Validator.check_schema(run_schema)
resolver = RefResolver.from_schema(run_schema, store={check_schema["$id"]: check_schema})
validator = Draft202012Validator(run_schema, resolver=resolver)


def problems_of(path, expected, rc):
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        return [f"no readable report: {e}"]
    problems = []
    for e in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))[:5]:
        where = "/" + "/".join(str(p) for p in e.absolute_path)
        problems.append(f"schema: {where}: {e.message[:200]}")
    if problems:
        return problems
    s = doc["summary"]
    if s["miss"] != len(s["missing"]) or s["complete"] != (s["miss"] == 0):
        problems.append(f"summary miss/missing/complete disagree: {s}")
    if expected is not None:
        if rc != expected:
            problems.append(f"exit status {rc}, expected {expected}")
        if doc["exit_status"] != rc:
            problems.append(f"exit status {rc}, the report says {doc['exit_status']}")
    return problems


cases = []
with open(manifest_path, encoding="utf-8") as f:
    for line in f:
        label, expected, rc, path = line.rstrip("\n").split("\t")
        cases.append((label, path, int(expected), int(rc)))
for path in sorted(glob.glob(os.path.join(fixtures, "reports", "*.json"))):
    cases.append(("fixture " + os.path.basename(path), path, None, None))

failed = 0
for label, path, expected, rc in cases:
    problems = problems_of(path, expected, rc)
    if problems:
        failed += 1
        print(f"FAIL {label}")
        for p in problems:
            print(f"     {p}")
        err = os.path.join(os.path.dirname(os.path.dirname(path)), label + ".err")
        if os.path.exists(err):
            for line in open(err, encoding="utf-8", errors="replace").read().splitlines()[-5:]:
                print(f"     stderr: {line}")
    else:
        print(f"ok   {label}")
print(f"schema: {len(cases) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
