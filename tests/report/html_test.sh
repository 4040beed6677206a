#!/usr/bin/env bash
# report.html of the nightly fixture in headless Chromium (html_chromium.mjs):
# what the page must show is worked out here from the fixture itself.
#
# usage: html_test.sh BPFLEET FIXTURES_DIR [SCREENSHOT_PNG]
#        html_test.sh --html REPORT_HTML REPORT_JSON [SCREENSHOT_PNG]  (a page made elsewhere)
# Exit 125: skipped (no chromium or node), unless BPFLEET_REQUIRE_ALL=1.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
skip() {
    echo "report-html: skipped: $*" >&2
    [[ "${BPFLEET_REQUIRE_ALL:-0}" == 1 ]] && exit 1
    exit 125
}
chromium=$(command -v chromium || command -v chromium-browser || true)
[[ -n "$chromium" ]] || skip "no chromium (apt-get install chromium)"
command -v node >/dev/null || skip "no node (apt-get install nodejs)"

work=$(mktemp -d "${TMPDIR:-/tmp}/bpfleet-report-html.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
if [[ "${1:-}" == --html ]]; then
    html=$2
    report=$3
    screenshot=${4:-}
else
    report=$2/reports/nightly.json
    screenshot=${3:-}
    html=$work/report.html
    rc=0
    "$1" report render --format html "$report" >"$html" || rc=$?
    [[ $rc -eq 1 ]] || { echo "FAIL render --format html: exit $rc"; exit 1; }
fi

# What the matrix must hold: a row per artifact/object/program, a cell per host
# with the program's overall verdict, miss where the pair has no verdict; the
# click goes to the first failed program that has a verifier log.
python3 - "$report" >"$work/expect.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
def overall(p):
    stages = [p["load"]] + [p[k] for k in ("attach", "fire") if p.get(k)]
    if any(s["verdict"] in ("error", "miss") for s in stages):
        return "error"
    if any(s["verdict"] == "fail" for s in stages):
        return "fail"
    return "skip" if p["load"]["verdict"] == "skip" else "pass"
rows, cells, click = {}, {}, None
missing = {(m["host"], m["artifact"]) for m in r["summary"]["missing"]}
for h in r["hosts"]:
    for c in h["checks"]:
        for p in c["report"]["programs"]:
            rows.setdefault((c["artifact"], c["object"], p["name"]), set()).add(overall(p))
            cells[h["name"] + "|" + p["name"]] = overall(p)
            log = (p["load"].get("log") or {}).get("text", "")
            if click is None and overall(p) == "fail" and log:
                click = {"host": h["name"], "program": p["name"], "log_contains": log.strip().splitlines()[-1]}
for h in r["hosts"]:
    for (artifact, obj, prog) in rows:
        if (h["name"], artifact) in missing:
            cells[h["name"] + "|" + prog] = "miss"
with_fail = sum(1 for v in rows.values() if "fail" in v)
json.dump({"rows": len(rows), "cells": cells, "click": click, "rows_with_fail": with_fail}, sys.stdout)
PY
rc=0
node "$here/html_chromium.mjs" "$chromium" "$html" "$work/expect.json" ${screenshot:+"$screenshot"} || rc=$?
exit $rc
