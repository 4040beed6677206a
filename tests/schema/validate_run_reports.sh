#!/usr/bin/env bash
# Runs `bpfleet run` and `bpfleet probe` in the situations that shape a
# report (every program passes; a program fails; --load-only; a host without
# an answer next to one that answered, with tags, groups and vars (checked
# to reach the report); an
# artifact with no object for the host's architecture; probe), and validates
# every report.json against docs/run.schema.json (each check report against
# docs/check.schema.json), together with the committed report fixtures.
#
# usage: validate_run_reports.sh BPFLEET AGENT BPF_DIR DOCS_DIR FIXTURES_DIR
#
# Checked per report: it validates; the junit.xml next to it validates against
# the JUnit schema (FIXTURES_DIR/junit.xsd, xmllint); the exit status bpfleet gave is the one
# expected and the report's own exit_status (130/143 aside); summary.miss is
# the length of summary.missing and complete says whether it is 0.
#
# Exit status: 0 all passed, 1 something failed, 2 usage, 125 skipped (not
# root, python3-jsonschema missing). With BPFLEET_REQUIRE_ALL=1 a missing
# prerequisite is a failure (1), not a skip.
set -euo pipefail

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if [[ $# -ne 5 ]]; then
    echo "usage: $0 BPFLEET AGENT BPF_DIR DOCS_DIR FIXTURES_DIR" >&2
    exit 2
fi
bpfleet=$1
agent=$2
bpf_dir=$3
docs=$4
fixtures=$5

require_root_and_jsonschema
command -v xmllint >/dev/null || skip "no xmllint for junit.xml (apt-get install libxml2-utils)"
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

# Expectations (docs/expectations.md): a known failure met, a stale one, the
# arch opt-out, and an unmet one.
cat >"$work/expect-known.toml" <<'TOML'
[[expect]]
artifact = "*/mixed.bpf.o"
program = "bad_*"
verdict = "fail"
code = "VERIFIER_REJECT"
reason = "reads the packet without a bounds check"

[[expect]]
artifact = "*/pass.bpf.o"
verdict = "fail"
reason = "stale on purpose: it passes"
TOML
cat >"$work/expect-arch.toml" <<'TOML'
[[expect]]
hosts = "arch:x86_64"
artifact = "oci:*"
verdict = "miss"
reason = "arm64 boards only"
TOML
cat >"$work/expect-unmet.toml" <<'TOML'
[[expect]]
program = "good_pass"
verdict = "skip"

[[expect]]
program = "bad_unchecked"
verdict = "fail"
code = "HELPER_UNAVAILABLE"
TOML
run_case expect-known 0 run -q -a "$bpf_dir/mixed.bpf.o" -a "$bpf_dir/pass.bpf.o" \
    --expect "$work/expect-known.toml"
run_case expect-arch 0 run -q -a "oci:$arm_layout:v1" --expect "$work/expect-arch.toml"
run_case expect-unmet 1 run -q -a "$bpf_dir/mixed.bpf.o" --expect "$work/expect-unmet.toml"

# Baselines (docs/report-diff.md): the same run again is no regression; the
# same host name now unreachable turns every pass into miss: exit 1.
cat >"$work/localhost-down.toml" <<TOML
[hosts.localhost]
address = "127.0.0.1"
port = $port
connect_timeout = 2
TOML
run_case baseline-same 0 run -q -a "$bpf_dir/pass.bpf.o" --baseline "$work/pass/report.json"
run_case baseline-regressed 1 run -q -i "$work/localhost-down.toml" --host-retries 0 \
    -a "$bpf_dir/pass.bpf.o" --baseline "$work/pass/report.json"

# Shards (docs/ci.md): three hosts (all this machine, through the local
# transport) in three --shard auto jobs run as parallel processes, then merged.
cat >"$work/three.toml" <<'TOML'
[hosts.s-a]
transport = "local"
[hosts.s-b]
transport = "local"
[hosts.s-c]
transport = "local"
TOML
pids=()
for i in 1 2 3; do
    CI_NODE_INDEX=$i CI_NODE_TOTAL=3 timeout --kill-after=10 300 "$bpfleet" run -q \
        -i "$work/three.toml" -a "$bpf_dir/pass.bpf.o" --agent "x86_64=$agent" --shard auto \
        -o "$work/shard-$i" >"$work/shard-$i.out" 2>&1 </dev/null &
    pids+=($!)
done
for p in "${pids[@]}"; do
    wait "$p" || { echo "FAIL shard job: exit $?: $(cat "$work"/shard-*.out)"; exit 1; }
done
rc=0
"$bpfleet" report merge -o "$work/merged" "$work"/shard-{1,2,3}/report.json \
    >"$work/merged.out" 2>&1 || rc=$?
printf '%s\t%s\t%s\t%s\n' merged 0 "$rc" "$work/merged/report.json" >>"$manifest"
rc=0
"$bpfleet" report merge -o "$work/overlap" "$work/shard-1/report.json" \
    "$work/shard-1/report.json" >"$work/overlap.out" 2>&1 || rc=$?
if [[ $rc -ne 2 ]] || ! grep -q "overlap\|again" "$work/overlap.out" || [[ -e "$work/overlap/report.json" ]]; then
    echo "FAIL merge of a shard with itself: exit $rc: $(cat "$work/overlap.out")"
    exit 1
fi
echo "ok   merge of a shard with itself refused: $(head -c 160 "$work/overlap.out")"

# A typo in the file: exit 2 naming FILE:LINE:COL, before anything is run or written.
printf '[[expect]]\nverdict = "fail"\nprogramm = "bad_*"\n' >"$work/expect-typo.toml"
rc=0
"$bpfleet" run -q -a "$bpf_dir/mixed.bpf.o" --expect "$work/expect-typo.toml" \
    -o "$work/expect-typo" 2>"$work/expect-typo.err" || rc=$?
if [[ $rc -ne 2 ]] || ! grep -q "expect-typo.toml:3:1" "$work/expect-typo.err" ||
    [[ -e "$work/expect-typo/report.json" ]]; then
    echo "FAIL expect-typo: exit $rc, stderr: $(cat "$work/expect-typo.err")"
    exit 1
fi
echo "ok   expect-typo (exit 2: $(head -c 200 "$work/expect-typo.err"))"

"$PYTHON" - "$docs" "$manifest" "$fixtures" <<'PY'
import glob
import json
import os
import subprocess
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


# What the inventory of the `unanswered` case gives its host `here`.
INVENTORY_HERE = {"tags": ["local", "x86"], "groups": ["lab"], "vars": {"owner": "ci", "rack": "B2"}}


def problems_of(label, path, expected, rc):
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
    junit = os.path.join(os.path.dirname(path), "junit.xml")
    if expected is not None and doc["run"]["mode"] == "run" and os.path.exists(junit):
        x = subprocess.run(["xmllint", "--noout", "--schema", os.path.join(fixtures, "junit.xsd"),
                            junit], capture_output=True, text=True)
        if x.returncode != 0:
            problems.append("junit.xml is not valid JUnit: " + x.stderr[:300])
    elif expected is not None and doc["run"]["mode"] == "run":
        problems.append("no junit.xml next to the report")
    s = doc["summary"]
    if s["miss"] != len(s["missing"]) or s["complete"] != (s["miss"] == 0):
        problems.append(f"summary miss/missing/complete disagree: {s}")
    if expected is not None:
        run = doc["run"]
        if label != "merged" and run["command_line"][1:2] != [run["mode"]]:
            problems.append(f"run.command_line does not start with the command: {run['command_line']}")
        if len(run["artifacts"]) != len(doc["artifacts"]):
            problems.append("run.artifacts and artifacts disagree")
        want = {"expect-known": (1, 0, 3), "expect-arch": (1, 0, 0), "expect-unmet": (0, 1, 1)}
        if label in want:
            e = doc.get("expectations", {})
            got = (e.get("met"), e.get("unmet"), e.get("stale"))
            if got != want[label]:
                problems.append(f"expectations met/unmet/stale {got}, expected {want[label]}")
        if label == "merged":
            names = sorted(h["name"] for h in doc["hosts"])
            if names != ["s-a", "s-b", "s-c"] or doc["run"]["shard"] != "":
                problems.append(f"merged: hosts {names}, shard {doc['run']['shard']!r}")
            for f in ("junit.xml", "summary.md", "report.html"):
                if not os.path.exists(os.path.join(os.path.dirname(path), f)):
                    problems.append(f"merged: no {f}")
        want_regressions = {"baseline-same": 0, "baseline-regressed": 3}
        if label in want_regressions:
            got = doc.get("baseline", {}).get("counts", {}).get("regressions")
            if got != want_regressions[label]:
                problems.append(f"baseline regressions {got}, expected {want_regressions[label]}")
        if label == "unanswered":
            here = [h for h in doc["hosts"] if h["name"] == "here"]
            got = {k: here[0][k] for k in INVENTORY_HERE} if here else None
            if got != INVENTORY_HERE:
                problems.append(f"host here: tags/groups/vars {got}, expected {INVENTORY_HERE}")
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
    problems = problems_of(label, path, expected, rc)
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
