// The page of report.html (html_writer.hpp): HTML, CSS and script in one
// string, with a marker where the report's data goes. Long because it is the
// whole page; there is no C++ logic here. The script builds everything with
// createElement/textContent: nothing from the report is ever parsed as HTML.

#include <string_view>

namespace bpfleet::report {

extern const std::string_view kReportHtmlDataMarker;
extern const std::string_view kReportHtmlPage;

const std::string_view kReportHtmlDataMarker = "@BPFLEET_DATA@";

const std::string_view kReportHtmlPage = R"PAGE(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>bpfleet report</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.2em; color: #1d2329; background: #fff; }
h1 { font-size: 1.4em; margin: 0 0 .3em; }
h2 { font-size: 1.1em; margin: 1.4em 0 .4em; }
.status-0 { color: #1a7f37; } .status-1 { color: #cf222e; } .status-3 { color: #9a6700; }
.meta { color: #57606a; }
#filters { display: flex; gap: 1em; flex-wrap: wrap; margin: .8em 0; align-items: center; }
#filters label { display: flex; gap: .3em; align-items: center; }
table { border-collapse: collapse; }
th, td { border: 1px solid #d0d7de; padding: 2px 6px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
th.group { text-align: center; }
th.host { writing-mode: vertical-rl; transform: rotate(180deg); white-space: nowrap; font-weight: 500; }
td.cell { text-align: center; cursor: pointer; min-width: 2.2em; white-space: nowrap; font-size: 12px; }
td.pass { background: #dafbe1; } td.fail { background: #ffcecb; } td.error { background: #ffd8b5; }
td.skip { background: #eaeef2; } td.miss { background: #fff8c5; } td.none { background: #fff; color: #8c959f; cursor: default; }
td.dim { opacity: .25; }
td.selected { outline: 3px solid #0969da; outline-offset: -3px; }
td.warn { background: #fff8c5; } td.danger { background: #ffcecb; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
#details { border: 1px solid #d0d7de; padding: .6em 1em; margin-top: 1em; background: #f6f8fa; }
#details[hidden] { display: none; }
pre { background: #fff; border: 1px solid #d0d7de; padding: .5em; max-height: 30em; overflow: auto; white-space: pre-wrap; }
.stage { margin: .6em 0; }
.k { color: #57606a; min-width: 11em; display: inline-block; }
</style>
</head>
<body>
<h1 id="title">bpfleet report</h1>
<div id="summary" class="meta"></div>
<div id="filters">
  <label>Group hosts by <select id="group-by"><option value="kernel">kernel</option><option value="tag">tag</option><option value="arch">arch</option></select></label>
  <label>Tag <select id="tag-filter"><option value="">all</option></select></label>
  <label>Verdict <select id="verdict-filter"><option value="">all</option><option>pass</option><option>fail</option><option>error</option><option>skip</option><option>miss</option></select></label>
  <label>Code <select id="code-filter"><option value="">all</option></select></label>
</div>
<h2>Programs × hosts</h2>
<div id="matrix-wrap"><table id="matrix"></table></div>
<section id="details" hidden></section>
<h2>Verifier instructions processed, per kernel</h2>
<p class="meta">The most any host of the kernel reported for the program's load; the verifier gives up at 1,000,000.</p>
<table id="insns"></table>
<div id="unanswered"></div>
<div id="missing"></div>
<div id="expectations"></div>
<div id="baseline"></div>
<script type="application/json" id="bpfleet-data">@BPFLEET_DATA@</script>
<script>
'use strict';
const D = JSON.parse(document.getElementById('bpfleet-data').textContent);
const R = D.report;
const INSNS_LIMIT = 1000000;

function el(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === 'class') e.className = v;
    else if (k.startsWith('data-')) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function section(id, title, table) {
  const box = document.getElementById(id);
  box.replaceChildren(el('h2', {}, title), table);
}

function simpleTable(head, rows) {
  const t = el('table');
  t.append(el('tr', {}, ...head.map(h => el('th', {}, h))));
  for (const r of rows) t.append(el('tr', {}, ...r.map(c => el('td', {}, c))));
  return t;
}

const MARK = { pass: '✓', fail: '✗', error: '!', skip: '–', miss: '?' };

function groupKeys(host, by) {
  if (by === 'tag') return host.tags.length ? host.tags : ['(no tag)'];
  if (by === 'arch') return [host.arch || '(no answer)'];
  return [host.kernel || '(no answer)'];
}

function header() {
  const s = R.summary;
  const status = D.exit_status;
  const word = status === 0 ? 'passed' : status === 1 ? 'failed' : status === 3 ? 'incomplete' : 'cancelled';
  const title = document.getElementById('title');
  title.textContent = 'bpfleet: ' + word + ' (exit ' + status + ')';
  title.className = 'status-' + status;
  const run = R.run || {};
  document.getElementById('summary').textContent =
    s.hosts + ' host(s): ' + s.hosts_ok + ' ok, ' + s.hosts_unanswered + ' without answer · ' +
    s.programs + ' program(s): ' + s.pass + ' pass, ' + s.fail + ' fail, ' + s.skip + ' skip, ' +
    s.error + ' error · ' + s.miss + ' miss · run ' + (run.id || '?') + ', ' + R.started +
    ' → ' + R.finished + (run.bpfleet_version ? ', bpfleet ' + run.bpfleet_version : '');
}

function fillFilters() {
  const tags = new Set(), codes = new Set();
  for (const h of D.hosts) h.tags.forEach(t => tags.add(t));
  for (const r of D.rows) for (const c of Object.values(r.cells)) if (c.code) codes.add(c.code);
  const tagSel = document.getElementById('tag-filter');
  [...tags].sort().forEach(t => tagSel.append(el('option', { value: t }, t)));
  const codeSel = document.getElementById('code-filter');
  [...codes].sort().forEach(c => codeSel.append(el('option', { value: c }, c)));
  for (const id of ['group-by', 'tag-filter', 'verdict-filter', 'code-filter'])
    document.getElementById(id).addEventListener('change', drawMatrix);
}

function drawMatrix() {
  const by = document.getElementById('group-by').value;
  const tag = document.getElementById('tag-filter').value;
  const verdict = document.getElementById('verdict-filter').value;
  const code = document.getElementById('code-filter').value;
  const hosts = D.hosts.filter(h => !tag || h.tags.includes(tag));
  const groups = new Map();
  for (const h of hosts) for (const k of groupKeys(h, by)) {
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(h);
  }
  const last = k => k.startsWith('(') ? 1 : 0; // "(no answer)", "(no tag)" after the rest
  const keys = [...groups.keys()].sort((a, b) => last(a) - last(b) || (a < b ? -1 : a > b ? 1 : 0));
  const columns = [];
  for (const k of keys) for (const h of groups.get(k)) columns.push(h);
  const t = document.getElementById('matrix');
  t.replaceChildren();
  const top = el('tr', {}, el('th', { rowSpan: 2 }, 'artifact · object · program'));
  for (const k of keys) top.append(el('th', { class: 'group', colSpan: groups.get(k).length }, k));
  const second = el('tr');
  for (const h of columns) second.append(el('th', { class: 'host', title: h.name + ' ' + h.kernel }, h.name));
  t.append(top, second);
  const wanted = c => c && (!verdict || c.verdict === verdict) && (!code || c.code === code);
  for (const r of D.rows) {
    if ((verdict || code) && !columns.some(h => wanted(r.cells[h.name]))) continue;
    const tr = el('tr', {}, el('th', {}, r.artifact + ' · ' + r.object + ' · ', el('b', {}, r.program)));
    for (const h of columns) {
      const c = r.cells[h.name];
      if (!c) { tr.append(el('td', { class: 'cell none', title: 'not in this host\'s object' }, '·')); continue; }
      const td = el('td', { class: 'cell ' + c.verdict + (wanted(c) || !(verdict || code) ? '' : ' dim'),
                            title: h.name + ': ' + c.verdict + (c.code ? ' ' + c.code : ''),
                            'data-host': h.name, 'data-program': r.program, 'data-verdict': c.verdict },
                    MARK[c.verdict] + (c.code ? ' ' + c.code : ''));
      td.addEventListener('click', () => showDetails(r, h, c, td));
      tr.append(td);
    }
    t.append(tr);
  }
}

function kv(k, v) {
  if (v === null || v === undefined || v === '') return null;
  return el('div', {}, el('span', { class: 'k' }, k), String(v));
}

function showDetails(row, host, cell, td) {
  document.querySelectorAll('td.selected').forEach(x => x.classList.remove('selected'));
  td.classList.add('selected');
  const box = document.getElementById('details');
  box.hidden = false;
  const parts = [el('h2', {}, host.name + ' · ' + row.object + ' · ' + row.program),
                 kv('host', host.name + ' — ' + [host.kernel, host.arch, host.distro].filter(Boolean).join(', ')),
                 kv('artifact', row.artifact)];
  if (!cell.at) {
    const m = D.missing.find(x => x.host === host.name && x.artifact === row.artifact);
    parts.push(kv('verdict', 'miss'), kv('why', m ? m.reason : 'no verdict'));
    box.replaceChildren(...parts.filter(Boolean));
    return;
  }
  const [hi, ci, pi] = cell.at;
  const p = R.hosts[hi].checks[ci].report.programs[pi];
  parts.push(kv('verdict', cell.verdict + (cell.code ? ' ' + cell.code : '')), kv('section', p.section), kv('type', p.type));
  for (const name of ['load', 'attach', 'fire']) {
    const s = p[name];
    if (!s) continue;
    const div = el('div', { class: 'stage' }, el('h3', {}, name + ': ' + s.verdict + (s.code ? ' ' + s.code : '')),
      kv('errno', s.errno ? s.errno + ' ' + (s.errno_name || '') : ''), kv('message', s.message),
      kv('evidence', s.evidence), kv('hint', s.hint), kv('insns processed', s.insns_processed),
      kv('verification time (µs)', s.verification_time_us), kv('strategy', s.strategy), kv('target', s.target),
      kv('trigger', s.trigger), kv('fired', s.fired), kv('run count', s.run_count));
    if (name === 'load' && cell.log) div.append(kv('log file', cell.log));
    if (s.log && s.log.text) div.append(el('pre', { class: 'verifier-log' }, s.log.text));
    parts.push(div);
  }
  box.replaceChildren(...parts.filter(Boolean));
}

function drawInsns() {
  const kernels = [...new Set(D.hosts.filter(h => h.kernel).map(h => h.kernel))].sort();
  const t = document.getElementById('insns');
  t.append(el('tr', {}, el('th', {}, 'program'), ...kernels.map(k => el('th', {}, k))));
  for (const r of D.rows) {
    const tr = el('tr', {}, el('th', {}, r.object + ' · ' + r.program));
    for (const k of kernels) {
      let most = null;
      for (const h of D.hosts.filter(h => h.kernel === k)) {
        const c = r.cells[h.name];
        if (c && typeof c.insns === 'number') most = Math.max(most || 0, c.insns);
      }
      const cls = most === null ? 'num' : most >= 0.9 * INSNS_LIMIT ? 'num danger' : most >= 0.5 * INSNS_LIMIT ? 'num warn' : 'num';
      tr.append(el('td', { class: cls }, most === null ? '' : most.toLocaleString('en')));
    }
    t.append(tr);
  }
}

function drawLists() {
  const down = D.hosts.filter(h => h.status !== 'ok');
  if (down.length)
    section('unanswered', 'Hosts without an answer',
            simpleTable(['host', 'status', 'stage', 'error'], down.map(h => [h.name, h.status, h.stage, h.error])));
  if (D.missing.length)
    section('missing', 'Pairs without a verdict (miss)',
            simpleTable(['host', 'artifact', 'why'], D.missing.map(m => [m.host, m.artifact, m.reason])));
  const e = R.expectations;
  if (e) {
    const rows = e.results.filter(r => r.outcome !== 'met').map(r =>
      [r.outcome, r.host, r.program ? r.object + ' · ' + r.program : r.artifact,
       r.expected + (r.expected_code ? ' ' + r.expected_code : ''), r.actual + (r.actual_code ? ' ' + r.actual_code : ''),
       r.rule + (r.reason ? ': ' + r.reason : '')]);
    section('expectations', 'Expectations (' + e.file + '): ' + e.met + ' met, ' + e.unmet + ' unmet, ' + e.stale + ' stale',
            simpleTable(['outcome', 'host', 'program', 'expected', 'got', 'rule'], rows));
  }
  const b = R.baseline;
  if (b) {
    const rows = [];
    const add = (kind, list) => list.forEach(c => rows.push([kind, c.host, c.object + ' · ' + c.program,
      c.old.verdict + (c.old.code ? ' ' + c.old.code : ''), c.new.verdict + (c.new.code ? ' ' + c.new.code : '')]));
    add('regression', b.regressions); add('improvement', b.improvements); add('code change', b.code_changes);
    add('other change', b.other_changes); add('new program', b.new_programs); add('vanished program', b.vanished_programs);
    b.new_hosts.forEach(h => rows.push(['new host', h, '', '', '']));
    b.vanished_hosts.forEach(h => rows.push(['vanished host', h, '', '', '']));
    section('baseline', 'Against the baseline ' + b.old + ': ' + b.regressions.length + ' regression(s)',
            simpleTable(['change', 'host', 'program', 'was', 'is'], rows));
  }
}

header();
fillFilters();
drawMatrix();
drawInsns();
drawLists();
</script>
</body>
</html>
)PAGE";

} // namespace bpfleet::report
