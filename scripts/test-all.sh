#!/usr/bin/env bash
# The whole test suite: set everything up, check the style (clang-format before
# the build, clang-tidy after it), build with warnings as errors, run
# every ctest label (unit, privileged, ...), then a bounded fuzzing run.
# The fuzzing runs take a fixed seed (BPFLEET_FUZZ_SEED, default 1) so that a
# run explores the same inputs each time: a finding then reproduces on the
# next run instead of coming and going; scripts/run-fuzz.sh without a seed
# explores further.
# ctest prints the closing summary line ("N% tests passed, ...").
# Each phase's elapsed time is printed when it ends, and all of them (with the
# load average) once the run stops, also when a phase fails: CI's time budget
# is 40 minutes, and this is where it goes.
set -euo pipefail
cd "$(dirname "$0")/.."

phase_names=()
phase_seconds=()
run_start=$SECONDS

# phase NAME COMMAND...: run COMMAND as the phase NAME and record its time.
phase() {
    local name=$1 start=$SECONDS status=0
    shift
    echo "test-all: phase $name: $*"
    "$@" || status=$?
    phase_names+=("$name")
    phase_seconds+=($((SECONDS - start)))
    echo "test-all: phase $name took $((SECONDS - start)) s$( ((status == 0)) || echo " and failed ($status)")"
    return "$status"
}

phase_summary() {
    local status=$? i
    echo "test-all: phase times (s), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg):"
    for i in "${!phase_names[@]}"; do
        printf 'test-all:   %-16s %5d\n' "${phase_names[$i]}" "${phase_seconds[$i]}"
    done
    printf 'test-all:   %-16s %5d%s\n' total $((SECONDS - run_start)) \
        "$( ((status == 0)) || echo " (stopped by a failure, status $status)")"
}
trap phase_summary EXIT

phase install-deps scripts/install-deps.sh
phase format scripts/check-style.sh --format-only
phase configure cmake --preset ci
phase build cmake --build --preset ci -j"$(nproc)"
# clang-tidy needs the build's compile_commands.json and generated headers.
phase clang-tidy scripts/check-style.sh --tidy-only --build build/ci
# The lab tier's downloads (Debian kernels and packages), made once per run.
export BPFLEET_LAB_CACHE="${BPFLEET_LAB_CACHE:-$PWD/build/ci/lab-cache}"
phase ctest ctest --preset ci -j"$(nproc)" --timeout 600
export BPFLEET_FUZZ_SEED="${BPFLEET_FUZZ_SEED:-1}"
# The fuzz scripts build what they run themselves; built here first, their
# build time is counted apart from their fuzzing time.
phase fuzz-build bash -c 'cmake --preset fuzz \
    ${BPFLEET_FUZZ_LIBBPF_SOURCE:+-DBPFLEET_FUZZ_LIBBPF_SOURCE=$BPFLEET_FUZZ_LIBBPF_SOURCE} >/dev/null &&
    cmake --build --preset fuzz -j"$(nproc)" \
    --target bpfleet_fuzz_object_inspect bpfleet_test_objects bpfleet_fuzz_seeds \
    bpfleet_fuzz_oci_manifest bpfleet_fuzz_oci_archive'
phase fuzz-object scripts/run-fuzz.sh "${BPFLEET_FUZZ_SECONDS:-60}"
phase fuzz-oci scripts/run-fuzz-oci.sh "${BPFLEET_FUZZ_SECONDS:-60}"
