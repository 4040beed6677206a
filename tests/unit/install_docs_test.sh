#!/bin/bash
# What `cmake --install` and `cpack -G DEB` put in place besides the binaries:
# the man pages (rendered by man(1) without a warning), the bash completion
# (driven here as bash drives it on TAB) and the zsh completion (parsed by
# zsh), all generated at build time from the command lines; then the .deb
# holds the same files, the three agents and the dependencies the
# controller needs, and its bpfleet finds its agents.
#
#   install_docs_test.sh BUILD_DIR
#
# Skips (125) when a cross-built agent or zsh is missing, unless
# BPFLEET_REQUIRE_ALL=1.
set -u

build=${1:?usage: install_docs_test.sh BUILD_DIR}
fail() {
    echo "FAIL: $1"
    exit 1
}
skip() {
    if [ "${BPFLEET_REQUIRE_ALL:-}" = 1 ]; then
        fail "prerequisite missing (BPFLEET_REQUIRE_ALL=1): $1"
    fi
    echo "SKIP: $1"
    exit 125
}
for arch in aarch64 armv7l; do
    [ -x "$build/agent-$arch/bpfleet-agent.stripped" ] || skip "no $arch agent in $build"
done
command -v zsh >/dev/null || skip "zsh is not installed (scripts/install-deps.sh)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bpfleet-docs.XXXXXX") || fail "mktemp"
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/p" >"$tmp/install.log" 2>&1 ||
    fail "cmake --install failed: $(tail -n 5 "$tmp/install.log")"

# Man pages: rendered without warnings; every subcommand and option in them.
for page in bpfleet bpfleet-agent; do
    file="$tmp/p/share/man/man1/$page.1"
    [ -f "$file" ] || fail "$page.1 is not installed in share/man/man1"
    MANWIDTH=100 man --warnings -l "$file" >"$tmp/$page.txt" 2>"$tmp/$page.warn" ||
        fail "man -l $page.1 failed: $(cat "$tmp/$page.warn")"
    [ ! -s "$tmp/$page.warn" ] || fail "man warns about $page.1: $(head -5 "$tmp/$page.warn")"
done
for text in "bpfleet run" "bpfleet report diff" "--list-hosts" "--color WHEN" "NO_COLOR" \
    "EXIT STATUS"; do
    grep -qF -- "$text" "$tmp/bpfleet.txt" || fail "man bpfleet lacks '$text'"
done
for text in "bpfleet-agent check" "--ignore-kernel-btf" "bpfleet-agent probe"; do
    grep -qF -- "$text" "$tmp/bpfleet-agent.txt" || fail "man bpfleet-agent lacks '$text'"
done

# bash: what TAB offers after the words typed so far.
completions() { # $1 completion file, $2 function, then the words (the last is being typed)
    local file=$1 fn=$2
    shift 2
    bash --norc --noprofile -c '
        source "$1"; fn=$2; shift 2
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
        "$fn"; printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$file" "$fn" "$@"
}
expect() { # $1 what, $2 needle (a whole line), $3 output
    printf '%s\n' "$3" | grep -qx -- "$2" || fail "$1: '$2' not offered; got: $(echo $3)"
}
bash_file="$tmp/p/share/bash-completion/completions/bpfleet"
[ -f "$bash_file" ] || fail "no bash completion in share/bash-completion/completions"
out=$(completions "$bash_file" _bpfleet bpfleet ru)
expect "bpfleet ru<TAB>" run "$out"
out=$(completions "$bash_file" _bpfleet bpfleet run --li)
expect "bpfleet run --li<TAB>" --limit "$out"
expect "bpfleet run --li<TAB>" --list-hosts "$out"
out=$(completions "$bash_file" _bpfleet bpfleet run -i fleet.toml --color "")
expect "--color <TAB>" never "$out"
expect "--color <TAB>" always "$out"
out=$(completions "$bash_file" _bpfleet bpfleet report "")
expect "bpfleet report <TAB>" diff "$out"
expect "bpfleet report <TAB>" merge "$out"
out=$(completions "$bash_file" _bpfleet bpfleet report diff --)
printf '%s\n' "$out" | grep -qx -- --limit && fail "report diff offers run's --limit"
agent_file="$tmp/p/share/bash-completion/completions/bpfleet-agent"
out=$(completions "$agent_file" _bpfleet_agent bpfleet-agent ch)
expect "bpfleet-agent ch<TAB>" check "$out"
out=$(completions "$agent_file" _bpfleet_agent bpfleet-agent check --ob)
expect "bpfleet-agent check --ob<TAB>" --object "$out"

# zsh: both files parse, and name what the bash ones do.
for f in _bpfleet _bpfleet-agent; do
    file="$tmp/p/share/zsh/vendor-completions/$f"
    [ -f "$file" ] || fail "no zsh completion $f in share/zsh/vendor-completions"
    zsh -n "$file" || fail "zsh cannot parse $f"
done
grep -q -- "'--list-hosts:" "$tmp/p/share/zsh/vendor-completions/_bpfleet" ||
    fail "_bpfleet lacks --list-hosts"

# The .deb: the same tree under /usr, the agents, the controller's libraries.
(cd "$build" && cpack -G DEB -B "$tmp/deb" >"$tmp/cpack.log" 2>&1) ||
    fail "cpack -G DEB failed: $(tail -n 5 "$tmp/cpack.log")"
deb=$(ls "$tmp"/deb/bpfleet_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "cpack made no bpfleet_*.deb: $(tail -n 5 "$tmp/cpack.log")"
dpkg-deb -c "$deb" >"$tmp/deb.list" || fail "dpkg-deb cannot read $deb"
for path in ./usr/bin/bpfleet ./usr/lib/bpfleet/x86_64/bpfleet-agent \
    ./usr/lib/bpfleet/aarch64/bpfleet-agent ./usr/lib/bpfleet/armv7l/bpfleet-agent \
    ./usr/share/man/man1/bpfleet.1 ./usr/share/bash-completion/completions/bpfleet \
    ./usr/share/zsh/vendor-completions/_bpfleet; do
    grep -q " $path\$" "$tmp/deb.list" || fail "$deb lacks $path"
done
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libssh-4 libbpf1 libcurl4 libarchive13; do
    echo "$depends" | grep -q "$lib" || fail "the .deb does not depend on $lib: $depends"
done
dpkg-deb -x "$deb" "$tmp/root" || fail "dpkg-deb -x"
out=$(env -u BPFLEET_AGENT "$tmp/root/usr/bin/bpfleet" version 2>&1) || fail "bpfleet version: $out"
echo "$out" | grep -q "agent aarch64 *$tmp/root/usr/lib/bpfleet/aarch64/bpfleet-agent" ||
    fail "the packaged bpfleet does not find its aarch64 agent: $out"
echo "PASS"
