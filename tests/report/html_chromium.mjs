// report.html in headless Chromium, driven over the DevTools protocol on a
// pipe (--remote-debugging-pipe: no port, no npm package). Loads the page and
// checks: no console error, no exception, no request but the file itself
// (the page is self-contained); the matrix has one row per program and the
// expected cell per host; a real mouse click on a failed cell shows that
// program's verifier log; the filters hide what they should.
//
// usage: node html_chromium.mjs CHROMIUM REPORT_HTML EXPECT_JSON [SCREENSHOT_PNG]
// EXPECT_JSON: {"rows": N, "cells": {"HOST|PROGRAM": "VERDICT", ...},
//               "click": {"host": H, "program": P, "log_contains": TEXT}}
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [chromium, htmlPath, expectPath, screenshot] = process.argv.slice(2);
const expected = JSON.parse(readFileSync(expectPath, 'utf8'));
const profile = mkdtempSync(join(tmpdir(), 'bpfleet-chromium-'));
const problems = [];

const browser = spawn(chromium, [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-extensions',
  '--remote-debugging-pipe', `--user-data-dir=${profile}`, '--window-size=1400,900', 'about:blank',
], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
let stderr = '';
browser.stderr.on('data', d => { stderr += d; });

let nextId = 1;
const waiting = new Map();
const listeners = [];
let buffer = Buffer.alloc(0);
browser.stdio[4].on('data', chunk => {
  buffer = Buffer.concat([buffer, chunk]);
  let end;
  while ((end = buffer.indexOf(0)) >= 0) {
    const msg = JSON.parse(buffer.subarray(0, end).toString('utf8'));
    buffer = buffer.subarray(end + 1);
    if (msg.id && waiting.has(msg.id)) {
      const { ok, fail } = waiting.get(msg.id);
      waiting.delete(msg.id);
      msg.error ? fail(new Error(JSON.stringify(msg.error))) : ok(msg.result);
    } else if (msg.method) {
      listeners.forEach(l => l(msg));
    }
  }
});

function send(method, params = {}, sessionId) {
  const id = nextId++;
  const msg = { id, method, params };
  if (sessionId) msg.sessionId = sessionId;
  browser.stdio[3].write(JSON.stringify(msg) + '\0');
  return new Promise((ok, fail) => waiting.set(id, { ok, fail }));
}

function once(method, timeoutMs = 20000) {
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`no ${method} within ${timeoutMs} ms`)), timeoutMs);
    listeners.push(msg => { if (msg.method === method) { clearTimeout(timer); ok(msg.params); } });
  });
}

const watchdog = setTimeout(() => {
  console.error('html: timed out; chromium said:\n' + stderr.slice(-2000));
  browser.kill('SIGKILL');
  process.exit(1);
}, 60000);

try {
  const { targetInfos } = await send('Target.getTargets');
  const page = targetInfos.find(t => t.type === 'page');
  const { sessionId } = await send('Target.attachToTarget', { targetId: page.targetId, flatten: true });
  const call = (m, p) => send(m, p, sessionId);
  const fileUrl = pathToFileURL(resolve(htmlPath)).href;
  listeners.push(msg => {
    if (msg.sessionId !== sessionId) return;
    if (msg.method === 'Runtime.consoleAPICalled' && (msg.params.type === 'error' || msg.params.type === 'warning'))
      problems.push('console ' + msg.params.type + ': ' + JSON.stringify(msg.params.args.map(a => a.value)));
    if (msg.method === 'Runtime.exceptionThrown')
      problems.push('exception: ' + JSON.stringify(msg.params.exceptionDetails).slice(0, 500));
    if (msg.method === 'Log.entryAdded' && msg.params.entry.level === 'error')
      problems.push('log: ' + msg.params.entry.text);
    if (msg.method === 'Network.requestWillBeSent' && msg.params.request.url !== fileUrl)
      problems.push('network request: ' + msg.params.request.url);
  });
  await call('Runtime.enable');
  await call('Log.enable');
  await call('Network.enable');
  await call('Page.enable');
  const loaded = once('Page.loadEventFired');
  await call('Page.navigate', { url: fileUrl });
  await loaded;

  const evaluate = async expr => {
    const r = await call('Runtime.evaluate', { expression: expr, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error('evaluate: ' + JSON.stringify(r.exceptionDetails));
    return r.result.value;
  };
  const rows = await evaluate(`document.querySelectorAll('#matrix tr').length - 2`);
  if (rows !== expected.rows) problems.push(`matrix: ${rows} program rows, expected ${expected.rows}`);
  const cells = await evaluate(`Object.fromEntries([...document.querySelectorAll('#matrix td.cell[data-host]')]
      .map(td => [td.dataset.host + '|' + td.dataset.program, td.dataset.verdict]))`);
  for (const [key, verdict] of Object.entries(expected.cells)) {
    if (cells[key] !== verdict) problems.push(`cell ${key}: ${cells[key]}, expected ${verdict}`);
  }

  // A real click (mouse events at the cell's place), then the details.
  const c = expected.click;
  const box = await evaluate(`(() => { const td = [...document.querySelectorAll('#matrix td.cell')]
      .find(td => td.dataset.host === ${JSON.stringify(c.host)} && td.dataset.program === ${JSON.stringify(c.program)});
      if (!td) return null; td.scrollIntoView(); const r = td.getBoundingClientRect();
      return { x: r.x + r.width / 2, y: r.y + r.height / 2 }; })()`);
  if (!box) {
    problems.push(`no cell for ${c.host} ${c.program}`);
  } else {
    for (const type of ['mousePressed', 'mouseReleased'])
      await call('Input.dispatchMouseEvent', { type, x: box.x, y: box.y, button: 'left', clickCount: 1 });
    const details = await evaluate(`(() => { const d = document.getElementById('details');
        const log = d.querySelector('pre.verifier-log');
        return { hidden: d.hidden, title: d.querySelector('h2')?.textContent, log: log ? log.textContent : null }; })()`);
    if (details.hidden) problems.push('click: the details stayed hidden');
    else if (!details.log || !details.log.includes(c.log_contains))
      problems.push(`click: the details show no verifier log with '${c.log_contains}': ${JSON.stringify(details).slice(0, 300)}`);
  }
  // Filters: only failed cells' rows are left, and a tag hides the other hosts.
  const filtered = await evaluate(`(() => { const v = document.getElementById('verdict-filter');
      v.value = 'fail'; v.dispatchEvent(new Event('change'));
      const rows = document.querySelectorAll('#matrix tr').length - 2;
      v.value = ''; v.dispatchEvent(new Event('change')); return rows; })()`);
  if (filtered !== expected.rows_with_fail) problems.push(`verdict filter: ${filtered} rows, expected ${expected.rows_with_fail}`);

  if (screenshot) {
    await evaluate(`document.getElementById('details').scrollIntoView(); window.scrollTo(0, 0)`);
    await call('Emulation.setDeviceMetricsOverride', { width: 1400, height: 1500, deviceScaleFactor: 1, mobile: false });
    const shot = await call('Page.captureScreenshot', { format: 'png', captureBeyondViewport: false });
    writeFileSync(screenshot, Buffer.from(shot.data, 'base64'));
  }
  await send('Browser.close').catch(() => {});
} catch (e) {
  problems.push('driver: ' + e.message);
  browser.kill('SIGKILL');
}
clearTimeout(watchdog);
await new Promise(r => (browser.exitCode !== null ? r() : browser.on('exit', r)));
rmSync(profile, { recursive: true, force: true });
if (problems.length) {
  console.log('FAIL report.html in chromium:\n  ' + problems.join('\n  '));
  process.exit(1);
}
console.log('ok   report.html in chromium: no console error, no request, matrix, click, filter');
