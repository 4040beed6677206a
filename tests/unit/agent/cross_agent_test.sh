#!/bin/sh
# The cross-built aarch64 agent (cmake/AgentCross.cmake) is an ARM aarch64,
# statically linked executable, and its `version` run under qemu-user says
# aarch64.
#
#   cross_agent_test.sh AGENT_DIR
#
# A missing prerequisite (no cross-built agent, no qemu-aarch64-static) skips
# with exit 125, or fails with BPFLEET_REQUIRE_ALL=1 (CI).
set -u

dir=${1:?usage: cross_agent_test.sh AGENT_DIR}
agent=$dir/bpfleet-agent
stripped=$dir/bpfleet-agent.stripped

missing() {
    if [ "${BPFLEET_REQUIRE_ALL:-}" = 1 ]; then
        echo "FAIL: prerequisite missing (BPFLEET_REQUIRE_ALL=1): $1"
        exit 1
    fi
    echo "SKIP: $1"
    exit 125
}
fail() {
    echo "FAIL: $1"
    exit 1
}

[ -x "$agent" ] || missing "no aarch64 agent at $agent (BPFLEET_CROSS_AGENT off or g++-aarch64-linux-gnu missing)"
[ -x "$stripped" ] || fail "no stripped aarch64 agent at $stripped"

if command -v file >/dev/null 2>&1; then
    for f in "$agent" "$stripped"; do
        desc=$(file -b "$f")
        echo "$f: $desc"
        case $desc in *"ARM aarch64"*) ;; *) fail "$f is not an ARM aarch64 executable" ;; esac
        case $desc in *"statically linked"*) ;; *) fail "$f is not statically linked" ;; esac
    done
    case $(file -b "$stripped") in *", stripped"*) ;; *) fail "$stripped is not stripped" ;; esac
else
    missing "file(1) is not installed"
fi

qemu=$(command -v qemu-aarch64-static || true)
[ -n "$qemu" ] || missing "qemu-aarch64-static is not installed (Debian qemu-user-static)"

out=$("$qemu" "$stripped" version 2>&1) || fail "'$stripped version' under qemu failed: $out"
echo "$out"
case $out in
    "bpfleet-agent "*" aarch64 "*) ;;
    *) fail "version does not say aarch64: $out" ;;
esac

# The probe's facts come from the (emulated) host; qemu-user reports aarch64.
out=$("$qemu" "$stripped" probe 2>&1) || fail "'probe' under qemu failed"
case $out in
    *'"schema": "bpfleet.probe/v1"'*'"arch": "aarch64"'*) ;;
    *) fail "probe under qemu did not report bpfleet.probe/v1 for aarch64" ;;
esac
echo "PASS"
