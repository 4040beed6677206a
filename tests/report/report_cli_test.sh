#!/usr/bin/env bash
# `bpfleet report render|diff` on the committed report fixtures
# (tests/fixtures/reports): each output — table, junit.xml, summary.md,
# report.html, report.json, the diff in text and JSON — against its golden
# file (tests/fixtures/reports/golden), junit.xml against the JUnit schema
# (xmllint), the exit statuses, and bad input — a truncated report, a future
# schema version, two runs that cannot be compared — refused with exit 2
# naming the file, nothing written.
#
# usage: report_cli_test.sh BPFLEET FIXTURES_DIR (exit 125: skipped, no xmllint)
# BPFLEET_UPDATE_GOLDEN=1 rewrites the golden files from this build's output
# (then review the diff before committing it).
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 BPFLEET FIXTURES_DIR" >&2
    exit 2
fi
if ! command -v xmllint >/dev/null; then
    echo "report-cli: skipped: no xmllint (apt-get install libxml2-utils)" >&2
    [[ "${BPFLEET_REQUIRE_ALL:-0}" == 1 ]] && exit 1
    exit 125
fi
bpfleet=$(readlink -f "$1")
export COLUMNS=100 # the table is fitted to the terminal: the golden files are 100 wide
fixtures=$(readlink -f "$2")
reports=$fixtures/reports
golden=$reports/golden
work=$(mktemp -d "${TMPDIR:-/tmp}/bpfleet-report-cli.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
failed=0

fail() {
    echo "FAIL $*"
    failed=1
}

# expect_run LABEL STATUS GOLDEN|- ARGS...: bpfleet ARGS exits STATUS and, unless
# GOLDEN is -, prints exactly the golden file (paths as given below: run from $reports).
expect_run() {
    local label=$1 want=$2 gold=$3 rc=0
    shift 3
    (cd "$reports" && "$bpfleet" "$@") >"$work/$label.out" 2>"$work/$label.err" || rc=$?
    if [[ $rc -ne $want ]]; then
        fail "$label: exit $rc, expected $want; stderr: $(head -c 400 "$work/$label.err")"
        return
    fi
    if [[ $gold != - ]]; then
        if [[ "${BPFLEET_UPDATE_GOLDEN:-0}" == 1 ]]; then
            cp "$work/$label.out" "$golden/$gold"
        elif ! diff -u "$golden/$gold" "$work/$label.out" >"$work/$label.diff"; then
            fail "$label: output differs from golden/$gold:"
            head -40 "$work/$label.diff"
            return
        fi
    fi
    echo "ok   $label"
}

# expect_refused LABEL NAMED ARGS...: exit 2 and stderr names NAMED.
expect_refused() {
    local label=$1 named=$2
    shift 2
    expect_run "$label" 2 - "$@"
    if ! grep -qF -- "$named" "$work/$label.err"; then
        fail "$label: stderr does not name '$named': $(cat "$work/$label.err")"
    fi
}

# render: every format, from the nightly fixture (exit 1: it has failures)
expect_run render-table 1 nightly.table.txt report render nightly.json
expect_run render-matrix 1 nightly.matrix.txt report render --format matrix nightly.json
expect_run render-junit 1 nightly.junit.xml report render --format junit nightly.json
expect_run render-markdown 1 nightly.summary.md report render --format markdown nightly.json
expect_run render-html 1 nightly.report.html report render --format html nightly.json
expect_run render-json 1 nightly.report.json report render --format json nightly.json
expect_run render-baseline-junit 1 baseline.junit.xml report render --format junit baseline.json
expect_run render-probe 0 probe.table.txt report render probe.json
for label in render-junit render-baseline-junit; do
    if ! xmllint --noout --schema "$fixtures/junit.xsd" "$work/$label.out" 2>"$work/$label.xmllint"; then
        fail "$label: not valid against the JUnit schema: $(head -5 "$work/$label.xmllint")"
    fi
done
# -o: every file `run` writes
expect_run render-dir 1 - report render nightly.json -o "$work/rendered"
for f in report.json junit.xml summary.md report.html; do
    [[ -s "$work/rendered/$f" ]] || fail "render -o: no $f"
done
cmp -s "$work/rendered/junit.xml" "$golden/nightly.junit.xml" ||
    [[ "${BPFLEET_UPDATE_GOLDEN:-0}" == 1 ]] || fail "render -o: junit.xml differs from --format junit"

expect_run diff-text 1 diff.txt report diff baseline.json nightly.json
expect_run diff-json 1 diff.json report diff --format json baseline.json nightly.json
expect_run diff-reverse 1 diff-reverse.txt report diff nightly.json baseline.json
expect_run diff-same 0 - report diff baseline.json baseline.json

head -c 2000 "$reports/nightly.json" >"$work/truncated.json"
expect_refused diff-truncated "$work/truncated.json" report diff baseline.json "$work/truncated.json"
sed 's/"bpfleet.run\/v1"/"bpfleet.run\/v2"/' "$reports/nightly.json" >"$work/future.json"
expect_refused diff-future "$work/future.json" report diff "$work/future.json" nightly.json
expect_refused diff-unrelated "not two runs of the same check" report diff baseline.json probe.json
expect_refused diff-missing "absent.json" report diff baseline.json absent.json
# bad input to render: exit 2 naming the file, and nothing written
mkdir -p "$work/untouched"
expect_refused render-truncated "$work/truncated.json" report render "$work/truncated.json" \
    -o "$work/untouched"
expect_refused render-future "$work/future.json" report render --format junit "$work/future.json"
[[ -z "$(ls -A "$work/untouched")" ]] || fail "render of a bad report wrote: $(ls "$work/untouched")"

exit $failed
