#!/usr/bin/env bash
# The main job: set everything up, build, and check the shipped example
# artifact on this machine, printing the per-program table.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset default >/dev/null
cmake --build --preset default --target bpfleet-agent bpfleet_examples

agent=build/default/agent/bpfleet-agent
"$agent" version
"$agent" check --object build/default/examples/hello.bpf.o --format table
