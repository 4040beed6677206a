#!/usr/bin/env bash
# Records classifier fixtures (tests/fixtures/verifier-logs/<label>/) from a real kernel:
# this machine's (`local`), or a Debian kernel booted under QEMU (`auto61`, `auto612`, or
# a kernel package name; see scripts/lab/run-in-kernel.sh).
#
#   scripts/record-verifier-logs.sh local|auto61|auto612|PKG LABEL [BUILD_DIR]
#
# Runs `bpfleet-agent check --load-only` on every failing test object and turns each
# failed program into a fixture with scripts/extract-verifier-fixtures.py.
set -euo pipefail
cd "$(dirname "$0")/.."
kernel=${1:?usage: record-verifier-logs.sh local|auto61|auto612|PKG LABEL [BUILD_DIR]}
label=${2:?label, e.g. 6.1}
build=${3:-build/default}
agent=$build/agent/bpfleet-agent
objects=(verifier_reject mixed long_log_reject helper_not_allowed core_missing_field
         zero_sized_ringbuf fentry)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [[ $kernel == local ]]; then
    for o in "${objects[@]}"; do
        "$agent" check --load-only --object "$build/tests/bpf/$o.bpf.o" > "$work/$o.json" || true
    done
else
    files=(--file "$agent:/in/bpfleet-agent")
    for o in "${objects[@]}"; do
        files+=(--file "$build/tests/bpf/$o.bpf.o:/in/$o.bpf.o")
    done
    # One document per object, separated by a marker line.
    scripts/lab/run-in-kernel.sh --kernel-package "$kernel" "${files[@]}" -- sh -c \
        'for f in /in/*.bpf.o; do /in/bpfleet-agent check --load-only --object "$f"; echo "@@split@@"; done' \
        > "$work/all.out" || true
    /usr/bin/python3 - "$work" <<'PY'
import sys, pathlib
work = pathlib.Path(sys.argv[1])
parts = (work / "all.out").read_text().split("@@split@@\n")
for i, part in enumerate(p for p in parts if p.strip()):
    (work / f"doc{i}.json").write_text(part)
PY
fi
/usr/bin/python3 scripts/extract-verifier-fixtures.py "tests/fixtures/verifier-logs/$label" "$work"/*.json
