#!/usr/bin/env bash
# The whole test suite: set everything up, check the style (clang-format before
# the build, clang-tidy after it), build with warnings as errors, run
# every ctest label (unit, privileged, ...), then a bounded fuzzing run.
# The fuzzing runs take a fixed seed (BPFLEET_FUZZ_SEED, default 1) so that a
# run explores the same inputs each time: a finding then reproduces on the
# next run instead of coming and going; scripts/run-fuzz.sh without a seed
# explores further.
# ctest prints the closing summary line ("N% tests passed, ...").
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/check-style.sh --format-only
cmake --preset ci
cmake --build --preset ci -j"$(nproc)"
# clang-tidy needs the build's compile_commands.json and generated headers.
scripts/check-style.sh --tidy-only --build build/ci
# The lab tier's downloads (Debian kernels and packages), made once per run.
export BPFLEET_LAB_CACHE="${BPFLEET_LAB_CACHE:-$PWD/build/ci/lab-cache}"
ctest --preset ci -j"$(nproc)" --timeout 600
export BPFLEET_FUZZ_SEED="${BPFLEET_FUZZ_SEED:-1}"
scripts/run-fuzz.sh "${BPFLEET_FUZZ_SECONDS:-60}"
scripts/run-fuzz-oci.sh "${BPFLEET_FUZZ_SECONDS:-60}"
