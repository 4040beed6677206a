#!/usr/bin/env bash
# The main job: set everything up, build, and check the shipped example
# artifact on this machine with `bpfleet run` (local transport), printing the
# host x program table. Reports land in ./bpfleet-out/.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default --target bpfleet bpfleet-agent bpfleet_examples

build/default/controller/bpfleet run -a build/default/examples/hello.bpf.o -o bpfleet-out
