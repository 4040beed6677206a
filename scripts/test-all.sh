#!/usr/bin/env bash
# The whole test suite: set everything up, build with warnings as errors, run
# every ctest label (unit, privileged, ...), then a bounded fuzzing run.
# ctest prints the closing summary line ("N% tests passed, ...").
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset ci
cmake --build --preset ci -j"$(nproc)"
ctest --preset ci -j"$(nproc)" --timeout 600
scripts/run-fuzz.sh "${BPFLEET_FUZZ_SECONDS:-60}"
scripts/run-fuzz-oci.sh "${BPFLEET_FUZZ_SECONDS:-60}"
