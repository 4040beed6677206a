#!/usr/bin/env bash
# Style checks, one command: clang-format (the repo's .clang-format, clang-format 14)
# and clang-tidy (the repo's .clang-tidy, clang-tidy 14) over the project's C++
# sources. BPF C sources (tests/bpf, examples, fuzz seeds) are left alone: their
# include order matters (vmlinux.h first).
#
#   scripts/check-style.sh                 format check + tidy on all sources
#   scripts/check-style.sh --fix           reformat in place, then tidy
#   scripts/check-style.sh --format-only   format check only (seconds)
#   scripts/check-style.sh --tidy-only [--build DIR] [FILE...]
#
# clang-tidy reads compile_commands.json from --build DIR (default build/ci,
# else build/default). Exit status: 0 clean, 1 a file needs formatting or tidy
# reported a warning, 2 usage or a missing tool.
set -euo pipefail
cd "$(dirname "$0")/.."

fix=0 do_format=1 do_tidy=1 build_dir="" files=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --fix) fix=1 ;;
        --format-only) do_tidy=0 ;;
        --tidy-only) do_format=0 ;;
        --build) build_dir=${2:?--build needs a directory}; shift ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "check-style: unknown option '$1' (see --help)" >&2; exit 2 ;;
        *) files+=("$1") ;;
    esac
    shift
done

for tool in clang-format-14 clang-tidy-14; do
    if ! command -v "$tool" >/dev/null; then
        echo "check-style: $tool not found (apt-get install clang-format-14 clang-tidy-14)" >&2
        exit 2
    fi
done

# The project's C++ sources: tracked .cpp/.hpp/.h outside the BPF C folders.
sources() {
    git ls-files '*.cpp' '*.hpp' '*.h' | grep -Ev '^(tests/bpf/|examples/|tests/fuzz/seeds/)'
}
if [[ ${#files[@]} -eq 0 ]]; then
    mapfile -t files < <(sources)
fi

status=0
if [[ $do_format -eq 1 ]]; then
    if [[ $fix -eq 1 ]]; then
        clang-format-14 -i "${files[@]}"
    else
        bad=()
        for f in "${files[@]}"; do
            clang-format-14 --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
        done
        if [[ ${#bad[@]} -gt 0 ]]; then
            echo "check-style: ${#bad[@]} file(s) need clang-format (scripts/check-style.sh --fix):" >&2
            printf '  %s\n' "${bad[@]}" >&2
            status=1
        else
            echo "check-style: clang-format: ${#files[@]} file(s) formatted"
        fi
    fi
fi

if [[ $do_tidy -eq 1 ]]; then
    if [[ -z $build_dir ]]; then
        for d in build/ci build/default; do
            [[ -f $d/compile_commands.json ]] && { build_dir=$d; break; }
        done
    fi
    if [[ -z $build_dir || ! -f $build_dir/compile_commands.json ]]; then
        echo "check-style: no compile_commands.json (configure first: cmake --preset ci)" >&2
        exit 2
    fi
    # Only translation units the build compiles (headers are checked through
    # them, HeaderFilterRegex in .clang-tidy).
    mapfile -t units < <(printf '%s\n' "${files[@]}" | grep '\.cpp$' |
        while read -r f; do grep -q "\"file\": \"$PWD/$f\"" "$build_dir/compile_commands.json" && echo "$f"; done)
    if [[ ${#units[@]} -gt 0 ]]; then
        log=$(mktemp)
        trap 'rm -f "$log"' EXIT
        run-clang-tidy-14 -quiet -p "$build_dir" -j "$(nproc)" "${units[@]/#/$PWD/}" >"$log" 2>&1 || true
        sed -i 's/\x1b\[[0-9;]*m//g' "$log"  # run-clang-tidy colours its output
        if grep -qE '(warning|error): ' "$log"; then
            grep -E -A3 '(warning|error): ' "$log" | grep -v '^--$' >&2 || true
            echo "check-style: clang-tidy reported the warnings above" >&2
            status=1
        else
            echo "check-style: clang-tidy: ${#units[@]} translation unit(s) clean"
        fi
    fi
fi
exit $status
