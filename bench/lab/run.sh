#!/usr/bin/env bash
# Lab benchmark (not a timed test): ROUNDS times, `bpfleet lab up` of all six
# kernels at once, then `bpfleet run` of the lab's three objects (each VM its
# own architecture's build) on every VM and on this machine, then `lab down`.
# Per VM: the median time from QEMU's start to an SSH banner (boot) and the
# median time of its whole check (connect, deploy, three objects); the
# baselines of the same command are one VM booted alone (6.1-amd64: what
# parallel boots cost each other) and this machine's check (what TCG costs).
#   bench/lab/run.sh [ROUNDS]
# Needs a built tree (BPFLEET_BUILD_DIR, default build/default) and a lab
# cache ($BPFLEET_LAB_CACHE; the first round fills it, so it is not counted
# when the cache was empty). Runs as root.
set -euo pipefail
cd "$(dirname "$0")/../.."

rounds=${1:-3}
build=${BPFLEET_BUILD_DIR:-build/default}
bpfleet=$build/controller/bpfleet
objdir=$build/tests/lab/bpf
for f in "$bpfleet" "$objdir/lab_features.bpf.o" "$objdir/lab_features.arm.bpf.o"; do
    [[ -e $f ]] || { echo "bench: $f missing: build the tree first" >&2; exit 2; }
done
command -v python3 >/dev/null || { echo "bench: python3 missing" >&2; exit 2; }

work=$(mktemp -d)
lab=$work/lab
cleanup() {
    "$bpfleet" lab down --dir "$lab" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

warm=${BPFLEET_LAB_CACHE:-}
if [[ -z $warm || ! -d $warm ]]; then
    echo "bench: warming the lab cache (not counted)" >&2
    "$bpfleet" lab up --dir "$lab" >/dev/null
    "$bpfleet" lab down --dir "$lab" >/dev/null
fi

# `run` takes one object set per architecture through --limit tag:ARCH.
objects() { # $1 suffix ("" for x86)
    for o in lab_features lab_btf lab_maps; do printf -- '-a\n%s/%s%s.bpf.o\n' "$objdir" "$o" "$1"; done
}
for round in $(seq 1 "$rounds"); do
    "$bpfleet" lab up --dir "$lab" --kernels 6.1-amd64 >/dev/null 2>&1
    cp "$lab/vms/lab-6.1-amd64/state" "$work/alone.$round"
    "$bpfleet" lab down --dir "$lab" >/dev/null
    start=$(date +%s.%N)
    "$bpfleet" lab up --dir "$lab" >/dev/null 2>&1
    echo "$(date +%s.%N) $start" >"$work/up.$round"
    for vm in "$lab"/vms/*; do cp "$vm/state" "$work/$(basename "$vm").$round"; done
    for spec in x86_64: aarch64:.arm64 armv7l:.arm; do
        mapfile -t args < <(objects "${spec#*:}")
        "$bpfleet" run -i "$lab/inventory.toml" --limit "tag:${spec%%:*}" "${args[@]}" \
            -o "$work/run-${spec%%:*}.$round" -q >/dev/null || true
    done
    mapfile -t args < <(objects "")
    "$bpfleet" run "${args[@]}" -o "$work/run-local.$round" -q >/dev/null || true
    "$bpfleet" lab down --dir "$lab" >/dev/null
done

python3 - "$work" "$rounds" <<'PY'
import glob, json, os, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
def state(path):
    return dict(l.strip().split("=", 1) for l in open(path) if "=" in l)
boot = {}
for path in glob.glob(os.path.join(work, "lab-*.*")):
    name = os.path.basename(path).rsplit(".", 1)[0]
    boot.setdefault(name, []).append(int(state(path)["boot_ms"]) / 1000)
alone = [int(state(p)["boot_ms"]) / 1000 for p in glob.glob(os.path.join(work, "alone.*"))]
ups = []
for p in glob.glob(os.path.join(work, "up.*")):
    end, start = map(float, open(p).read().split())
    ups.append(end - start)
check = {}
for rep in glob.glob(os.path.join(work, "run-*", "report.json")):
    for h in json.load(open(rep))["hosts"]:
        check.setdefault(h["name"], []).append(h["duration_ms"] / 1000)
local = statistics.median(check.pop("localhost", [0]) or [0])
print(f"rounds: {rounds}; `lab up` of all six (warm cache): median {statistics.median(ups):.1f} s")
print(f"one VM alone (6.1-amd64): boot median {statistics.median(alone):.1f} s")
print()
print("| VM | boot to SSH, six at once (median) | vs. alone | check of 3 objects (median) | vs. this machine |")
print("|---|---|---|---|---|")
for name in sorted(boot):
    b = statistics.median(boot[name])
    c = statistics.median(check.get(name, [0]))
    print(f"| {name} | {b:.1f} s | {b / statistics.median(alone):.2f}x | {c:.1f} s | "
          f"{c / local if local else 0:.1f}x |")
print(f"| this machine (local transport) | - | - | {local:.2f} s | 1.0x |")
PY
