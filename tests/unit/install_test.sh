#!/bin/sh
# `cmake --install` of the default build bundles every agent where bpfleet
# finds it by itself: `bpfleet version` of the installed tree names the
# x86_64, aarch64 and armv7l agents under its own lib/bpfleet/, and still does
# after the tree is moved. The lab's scripts are installed beside it.
#
#   install_test.sh BUILD_DIR
#
# Skips (125) when a cross-built agent is missing, unless BPFLEET_REQUIRE_ALL=1.
set -u

build=${1:?usage: install_test.sh BUILD_DIR}
fail() {
    echo "FAIL: $1"
    exit 1
}
for arch in aarch64 armv7l; do
    if [ ! -x "$build/agent-$arch/bpfleet-agent.stripped" ]; then
        if [ "${BPFLEET_REQUIRE_ALL:-}" = 1 ]; then
            fail "prerequisite missing (BPFLEET_REQUIRE_ALL=1): no $arch agent in $build"
        fi
        echo "SKIP: no $arch agent in $build (cross compiler missing)"
        exit 125
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bpfleet-install.XXXXXX") || fail "mktemp"
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/a" >"$tmp/install.log" 2>&1 ||
    fail "cmake --install failed: $(tail -n 5 "$tmp/install.log")"

check() { # $1 prefix
    out=$(env -u BPFLEET_AGENT -u BPFLEET_AGENT_X86_64 -u BPFLEET_AGENT_AARCH64 \
        -u BPFLEET_AGENT_ARMV7L "$1/bin/bpfleet" version 2>&1) || fail "bpfleet version: $out"
    echo "$out"
    for arch in x86_64 aarch64 armv7l; do
        echo "$out" | grep -qx "agent $arch *$1/lib/bpfleet/$arch/bpfleet-agent" ||
            fail "bpfleet in $1 does not find its $arch agent"
    done
    file -b "$1/lib/bpfleet/armv7l/bpfleet-agent" | grep -q "ARM, EABI5.*statically linked" ||
        fail "the installed armv7l agent is not a static 32-bit ARM executable"
    for script in debian-fetch.sh lab-image.sh; do
        "$1/share/bpfleet/lab/$script" --help >/dev/null 2>&1 ||
            fail "$script is not installed (runnable) in $1/share/bpfleet/lab"
    done
}
check "$tmp/a"
mv "$tmp/a" "$tmp/b"
check "$tmp/b"
echo "PASS"
