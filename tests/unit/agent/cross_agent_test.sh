#!/bin/sh
# A cross-built agent (cmake/AgentCross.cmake) is a statically linked
# executable of its architecture, and its `version` and `probe` run under
# qemu-user say that architecture.
#
#   cross_agent_test.sh AGENT_DIR ARCH     (ARCH: aarch64 or armv7l)
#
# A missing prerequisite (no cross-built agent, no qemu-user) skips with exit
# 125, or fails with BPFLEET_REQUIRE_ALL=1 (CI).
set -u

dir=${1:?usage: cross_agent_test.sh AGENT_DIR ARCH}
arch=${2:?usage: cross_agent_test.sh AGENT_DIR ARCH}
case $arch in
    aarch64) elf="ARM aarch64" qemu_name=qemu-aarch64-static compiler=g++-aarch64-linux-gnu ;;
    armv7l) elf="ARM, EABI5" qemu_name=qemu-arm-static compiler="g++-arm-linux-gnueabihf and the armhf sysroot" ;;
    *) echo "FAIL: unknown architecture $arch"; exit 1 ;;
esac
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

[ -x "$agent" ] || missing "no $arch agent at $agent (BPFLEET_CROSS_AGENT off or $compiler missing)"
[ -x "$stripped" ] || fail "no stripped $arch agent at $stripped"

if command -v file >/dev/null 2>&1; then
    for f in "$agent" "$stripped"; do
        desc=$(file -b "$f")
        echo "$f: $desc"
        case $desc in *"$elf"*) ;; *) fail "$f is not an $elf executable" ;; esac
        case $desc in *"statically linked"*) ;; *) fail "$f is not statically linked" ;; esac
    done
    case $(file -b "$stripped") in *", stripped"*) ;; *) fail "$stripped is not stripped" ;; esac
else
    missing "file(1) is not installed"
fi

qemu=$(command -v $qemu_name || true)
[ -n "$qemu" ] || missing "$qemu_name is not installed (Debian qemu-user-static)"

out=$("$qemu" "$stripped" version 2>&1) || fail "'$stripped version' under qemu failed: $out"
echo "$out"
case $out in
    "bpfleet-agent "*" $arch "*) ;;
    *) fail "version does not say $arch: $out" ;;
esac

# The probe's facts come from the (emulated) host; qemu-user reports $arch.
out=$("$qemu" "$stripped" probe 2>&1) || fail "'probe' under qemu failed"
case $out in
    *'"schema": "bpfleet.probe/v1"'*'"arch": "'$arch'"'*) ;;
    *) fail "probe under qemu did not report bpfleet.probe/v1 for $arch" ;;
esac
echo "PASS"
