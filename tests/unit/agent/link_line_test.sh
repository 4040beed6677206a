#!/usr/bin/env bash
# The agent links none of the controller's libraries: not Asio (Boost), libssh,
# libcurl, libarchive or OpenSSL (nor CLI11 or spdlog). Three views of the same build, each of which
# a regression would show in:
#   1. what CMake links into bpfleet-agent, transitively (CLOSURE, written at
#      configure time by cmake/LinkClosure.cmake): no such target or library;
#   2. the link command ninja runs for it: no such library on it;
#   3. the headers every object on that command was compiled from (ninja's
#      dependency log): none of theirs (boost/asio, libssh/, curl/, archive.h,
#      openssl/). Asio is header-only, so this is where it would show.
#
# usage: link_line_test.sh BUILD_DIR CLOSURE NINJA
# Exit status: 0 clean, 1 a forbidden dependency (each one printed), 2 usage,
# 125 skipped (not a Ninja build, or not built yet); with
# BPFLEET_REQUIRE_ALL=1 a skip is a failure.
set -euo pipefail

if [[ $# -ne 3 ]]; then
    echo "usage: $0 BUILD_DIR CLOSURE NINJA" >&2
    exit 2
fi
build=$1 closure=$2 ninja=$3

skip() {
    if [[ "${BPFLEET_REQUIRE_ALL:-}" == 1 ]]; then
        echo "prerequisite missing (BPFLEET_REQUIRE_ALL=1): $1" >&2
        exit 1
    fi
    echo "skipped: $1"
    exit 125
}

[[ -r "$closure" ]] || skip "no link closure at $closure (configure first)"
[[ -f "$build/build.ninja" && -x "$(command -v "$ninja" || true)" ]] ||
    skip "not a Ninja build ($build)"

failed=0
fail() {
    echo "FAIL: $*"
    failed=1
}

# 1. CMake's view.
forbidden_names='asio|boost|ssh|curl|archive|openssl|ssl|crypto|cli11|spdlog'
while IFS= read -r item; do
    if [[ "${item,,}" =~ $forbidden_names ]]; then
        fail "bpfleet-agent links '$item' (CMake link closure)"
    fi
done <"$closure"
echo "1. CMake: $(grep -c . "$closure") items linked"

# 2. The link command.
link=$("$ninja" -C "$build" -t commands bpfleet-agent | grep -- ' -o agent/bpfleet-agent ' | tail -n 1 || true)
[[ -n "$link" ]] || skip "no link command for agent/bpfleet-agent in $build"
link=${link#: && }   # ninja's prefix
link=${link%% && *} # the strip and size report follow it
read -r -a words <<<"$link"
forbidden_libs='^(-l|.*/lib)(boost[^ ]*|ssh[^ ]*|curl[^ ]*|archive|ssl|crypto|spdlog)(\.a|\.so[.0-9]*)?$'
objects=()
for word in "${words[@]}"; do
    if [[ "$word" =~ $forbidden_libs ]]; then
        fail "the agent's link command has '$word'"
    fi
    if [[ "$word" == *.o ]]; then
        objects+=("$word")
    elif [[ "$word" =~ ^(.*/)?lib(bpfleet_[a-z_]+)\.a$ ]]; then
        # Our own static library: every object compiled into it.
        dir="${BASH_REMATCH[1]}CMakeFiles/${BASH_REMATCH[2]}.dir/"
        objects+=("$dir")
    fi
done
[[ ${#objects[@]} -gt 0 && "$link" == *" -o agent/bpfleet-agent "* ]] ||
    fail "cannot read the agent's link command: $link"
echo "2. link command: ${#words[@]} words"

# 3. The headers behind every object on it.
forbidden_headers='/boost/asio|/libssh/|/curl/|/archive\.h$|/archive_entry\.h$|/openssl/|/CLI/|/spdlog/'
deps=$("$ninja" -C "$build" -t deps)
checked=$(awk -v prefixes="${objects[*]}" -v pattern="$forbidden_headers" '
    BEGIN { n = split(prefixes, p, " ") }
    /^[^ ]/ {
        obj = $1; sub(/:$/, "", obj); mine = 0
        for (i = 1; i <= n; i++) {
            if (obj == p[i] || index(obj, p[i]) == 1) { mine = 1 }
        }
        if (mine) { count++ }
        next
    }
    mine && $1 ~ pattern {
        if (!(obj in reported)) { print "FAIL: " obj " includes " $1 " (and maybe more)" }
        reported[obj] = 1; bad = 1
    }
    END { print "objects " count + 0; exit bad }' <<<"$deps") || failed=1
echo "$checked" | grep '^FAIL' || true
count=$(echo "$checked" | sed -n 's/^objects //p')
# Every object of the agent itself and of the libraries it links was seen.
[[ "$count" -ge ${#objects[@]} ]] || fail "only $count objects in ninja's dependency log (build first)"
[[ "$count" -gt 0 ]] || fail "no object of the agent in ninja's dependency log"
echo "3. headers: $count objects"

exit "$failed"
