#!/usr/bin/env bash
# Bounded libFuzzer run of the object-inspection path (what CI calls).
#
#   scripts/run-fuzz.sh [SECONDS]        default 60
#
# Configures and builds the `fuzz` preset when needed (clang, ASan + UBSan,
# build/fuzz), builds a seed corpus in a temporary directory from the test BPF
# objects, the fuzz seeds (tests/fuzz/seeds/), the third-party objects
# installed on this machine (libxdp1, xdp-tests) and the regression inputs in
# tests/fixtures/hostile-objects/, then fuzzes for SECONDS.
#
# Exit status: 0 no finding; 1 a crash, leak, timeout or OOM (the input's path
# is printed; inputs are kept under build/fuzz/fuzz-artifacts/, outside git);
# 2 usage or build error.
#
# Environment:
#   BPFLEET_FUZZ_CORPUS=DIR   keep the working corpus in DIR across runs (e.g. a
#                             CI cache) instead of a throwaway directory
#   BPFLEET_FUZZ_JOBS=N       run N fuzzing processes (libFuzzer -fork=N)
#   BPFLEET_FUZZ_SEED=N       libFuzzer's random seed (default: a new one each
#                             run); a fixed seed makes the mutations the same
#                             from run to run, as scripts/test-all.sh does
#   BPFLEET_FUZZ_LIBBPF_SOURCE=DIR  libbpf source tree (same version as the
#                             installed headers) to link instrumented; only
#                             used when the preset is configured here
set -euo pipefail

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
}

case "${1:-}" in
-h | --help)
    usage
    exit 0
    ;;
esac
seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
    echo "run-fuzz.sh: SECONDS must be a positive integer, not '$seconds'" >&2
    usage >&2
    exit 2
fi
jobs="${BPFLEET_FUZZ_JOBS:-1}"
fuzz_seed="${BPFLEET_FUZZ_SEED:-}"
if [[ -n "$fuzz_seed" && ! "$fuzz_seed" =~ ^[1-9][0-9]*$ ]]; then
    echo "run-fuzz.sh: BPFLEET_FUZZ_SEED must be a positive integer, not '$fuzz_seed'" >&2
    exit 2
fi
if ! [[ "$jobs" =~ ^[1-9][0-9]*$ ]]; then
    echo "run-fuzz.sh: BPFLEET_FUZZ_JOBS must be a positive integer, not '$jobs'" >&2
    exit 2
fi

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$repo/build/fuzz"
target=bpfleet_fuzz_object_inspect
fuzzer="$build/tests/fuzz/$target"

cd "$repo"
if [[ ! -f "$build/CMakeCache.txt" ]]; then
    extra=()
    if [[ -n "${BPFLEET_FUZZ_LIBBPF_SOURCE:-}" ]]; then
        extra+=("-DBPFLEET_FUZZ_LIBBPF_SOURCE=$BPFLEET_FUZZ_LIBBPF_SOURCE")
    fi
    cmake --preset fuzz "${extra[@]}" || exit 2
fi
cmake --build --preset fuzz --target "$target" bpfleet_test_objects bpfleet_fuzz_seeds || exit 2
if [[ ! -x "$fuzzer" ]]; then
    echo "run-fuzz.sh: $fuzzer was not built" >&2
    exit 2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/bpfleet-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT
seed="$work/seed"
mkdir -p "$seed"

# Seeds: real objects, the same without DWARF (smaller inputs mutate faster)
# and as the BPF static linker writes them (DATASEC offsets and sizes filled
# in, which libbpf then trusts). Missing tools or third-party objects only
# mean fewer seeds.
add_seed() { # add_seed FILE PREFIX
    local name
    name="$2$(basename "$1")"
    cp "$1" "$seed/$name"
    if command -v llvm-strip >/dev/null 2>&1; then
        llvm-strip -g -o "$seed/nodebug-$name" "$1" 2>/dev/null || rm -f "$seed/nodebug-$name"
    fi
    if command -v bpftool >/dev/null 2>&1; then
        bpftool gen object "$seed/linked-$name" "$1" >/dev/null 2>&1 ||
            rm -f "$seed/linked-$name"
    fi
}
shopt -s nullglob
for f in "$build"/tests/bpf/*.bpf.o; do add_seed "$f" test-; done
for f in "$build"/tests/fuzz/seeds/*.bpf.o; do add_seed "$f" seed-; done
for f in /usr/lib/*/bpf/*.o; do add_seed "$f" libxdp-; done
for f in /usr/libexec/xdp-tools/*.o; do add_seed "$f" xdp-tests-; done
for f in "$repo"/tests/fixtures/hostile-objects/*.o; do cp "$f" "$seed/hostile-$(basename "$f")"; done
shopt -u nullglob
echo "run-fuzz.sh: $(find "$seed" -type f | wc -l) seed inputs"

corpus="${BPFLEET_FUZZ_CORPUS:-$work/corpus}"
mkdir -p "$corpus"
artifacts="$build/fuzz-artifacts/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$artifacts"

args=(-max_len=65536 -timeout=10 -rss_limit_mb=2048 -max_total_time="$seconds"
      -print_final_stats=1 -artifact_prefix="$artifacts/")
if ((jobs > 1)); then
    args+=(-fork="$jobs")
fi
if [[ -n "$fuzz_seed" ]]; then
    args+=(-seed="$fuzz_seed")
fi

echo "run-fuzz.sh: fuzzing $target for ${seconds}s (jobs $jobs), findings go to $artifacts/"
status=0
# Fork mode writes per-job logs into the current directory: keep them in $work.
(cd "$work" && "$fuzzer" "${args[@]}" "$corpus" "$seed") 2>&1 | tee "$work/fuzz.log" ||
    status=$?

mapfile -t findings < <(find "$artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' \
    -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
if ((${#findings[@]} > 0)); then
    echo
    echo "run-fuzz.sh: FAILED: ${#findings[@]} finding(s); reproduce with '$fuzzer FILE':"
    printf '  %s\n' "${findings[@]}"
    # The artifacts stay on the machine that ran this; a CI log is often all
    # there is. Each input, base64: `base64 -d > FILE` on the block restores it.
    for f in "${findings[@]}"; do
        if (($(stat -c %s "$f") <= 65536)); then
            echo "run-fuzz.sh: $(basename "$f") as base64:"
            base64 "$f"
            echo "run-fuzz.sh: end of $(basename "$f")"
        fi
    done
    exit 1
fi
rmdir "$artifacts" 2>/dev/null || true
if ((status != 0)); then
    echo "run-fuzz.sh: the fuzzer exited with status $status without leaving an input" >&2
    exit 1
fi
execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log" | tail -1)"
rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/fuzz.log" | tail -1)"
echo "run-fuzz.sh: no findings in ${seconds}s (${execs:-?} executions, ${rate:-?}/s)"
