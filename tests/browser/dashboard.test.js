// The dashboard in a real browser: Debian's Chromium, headless, driven by
// Playwright (playwright-core from npm), against `hpsearch dashboard --db`
// on the database of a real study (examples/asha-toy.yaml, two workers).
// Checks that the pages render their charts with the right number of
// points, that the trial table sorts and filters, that a trial page shows
// its learning curve, that a running study's count rises without a reload,
// and that no request goes to any host but the dashboard's own server.
//
// Run through ctest (tests/browser/run.sh installs what it needs):
//   HP_SOURCE_DIR=... HP_BIN_DIR=... CHROMIUM=/usr/bin/chromium node dashboard.test.js
'use strict';

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require(path.join(process.env.HP_BROWSER_MODULES || path.join(__dirname, 'node_modules'), 'playwright-core'));

const SRC = process.env.HP_SOURCE_DIR;
const BIN = process.env.HP_BIN_DIR;
const GUARD_MS = 120000; // a guard against hangs, never a timing
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hp-browser-'));
const children = [];

after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

function hpsearch(args, opts) {
  const c = spawn(path.join(BIN, 'hpsearch'), args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  children.push(c);
  c.out = '';
  c.err = '';
  c.stdout.on('data', (d) => { c.out += d; });
  c.stderr.on('data', (d) => { c.err += d; });
  return c;
}

function exited(c) {
  return new Promise((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) resolve(c.exitCode);
    else c.on('exit', (code) => resolve(code));
  });
}

async function until(what, fn) {
  const end = Date.now() + GUARD_MS;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('gave up waiting for ' + what);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function dashboard(db) {
  const d = hpsearch(['dashboard', '--db', db, '--listen', 'http://127.0.0.1:0']);
  const url = await until('the dashboard URL', () => (d.out.match(/^dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/m) || [])[1]);
  return { proc: d, url: url };
}

async function api(url, p) {
  const res = await fetch(new URL(p, url));
  assert.equal(res.status, 200, p);
  return res.json();
}

// A page whose every request is logged, and refused unless it is for the
// dashboard's own host.
async function openPage(browser, url) {
  const host = new URL(url).host;
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 2200 } });
  const foreign = [];
  await ctx.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.host === host || u.protocol === 'data:') return route.continue();
    foreign.push(u.href);
    return route.abort();
  });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.protocol !== 'data:' && u.host !== host) foreign.push(u.href);
  });
  return { ctx, page, foreign, errors };
}

// series data lengths of the ECharts instance in element id
function seriesLengths(page, id) {
  return page.evaluate((id) => {
    const el = document.getElementById(id);
    const chart = el && echarts.getInstanceByDom(el);
    if (!chart || !el.querySelector('canvas')) return null;
    return chart.getOption().series.map((s) => (s.data || []).length);
  }, id);
}

let browser;
let study; // { db, url, proc }

test('setup: a real study and its dashboard', async () => {
  const db = path.join(dir, 'toy.db');
  const run = hpsearch(['run', 'examples/asha-toy.yaml', '--workers', '2', '--db', db], { cwd: SRC });
  const code = await exited(run);
  assert.equal(code, 0, 'hpsearch run: ' + run.err);
  study = { db: db, ...(await dashboard(db)) };
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
});

test('the study list shows state, progress and the best value', async () => {
  const { studies } = await api(study.url, '/api/studies');
  const s = studies.find((x) => x.name === 'asha-toy');
  const { ctx, page, foreign, errors } = await openPage(browser, study.url);
  await page.goto(study.url);
  const row = page.locator('tr[data-study="asha-toy"]');
  await row.waitFor({ timeout: GUARD_MS });
  const text = await row.innerText();
  assert.match(text, /completed/);
  assert.match(text, /30 \/ 30/);
  assert.equal(await row.locator('td.best').innerText(), String(Number(s.best.toPrecision(4))));
  assert.deepEqual(foreign, []);
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('the study page renders its charts, and the table sorts and filters', async () => {
  const trials = (await api(study.url, '/api/studies/asha-toy/trials?limit=5000')).trials;
  const attempts = (await api(study.url, '/api/studies/asha-toy/attempts?limit=5000')).attempts;
  const done = trials.filter((t) => t.state === 'completed');
  const pruned = trials.filter((t) => t.state === 'pruned');
  const { ctx, page, foreign, errors } = await openPage(browser, study.url);
  await page.goto(study.url + 'studies/asha-toy');
  await page.locator('#trial-count', { hasText: '(30)' }).waitFor({ timeout: GUARD_MS });
  assert.equal(await page.locator('#summary [data-key="trials"]').innerText(), 'TRIALS\n30');

  const want = {
    history: [done.length, done.length], // objective points, best-so-far line
    parallel: [done.length],
    slice: [done.length],
    importance: [2], // lr, width
    pair: [24 * 24, done.length], // the interpolated surface's cells, then the trials
    bv: [5], // the five terms
  };
  for (const [id, lens] of Object.entries(want)) {
    const got = await until(id + ' chart', () => seriesLengths(page, id));
    assert.deepEqual(got, lens, id);
  }
  // importance is the server's fANOVA, and the page names the method
  const imp = (await api(study.url, '/api/studies/asha-toy/importance')).importance;
  assert.equal(imp.method, 'fANOVA (random forest, 64 trees)');
  assert.deepEqual(imp.params.map((q) => q.name).sort(), ['lr', 'width']);
  const method = await until('the importance method', async () => {
    const t = await page.locator('#importance-method').innerText();
    return /completed trial/.test(t) ? t : null;
  });
  assert.match(method, /^Method: fANOVA \(random forest, 64 trees\) on \d+ completed trials/);
  // the timeline: a segment per attempt, in a series per outcome
  const timeline = await until('timeline chart', () => seriesLengths(page, 'timeline'));
  assert.equal(timeline.length, new Set(attempts.map((a) => a.outcome)).size);
  assert.equal(timeline.reduce((a, b) => a + b, 0), attempts.length, 'a bar per attempt');
  // a polyline per trial in a series per state, then the pruning marks
  const curves = (await seriesLengths(page, 'curves')).slice(0, -1); // less the axes' extent
  const states = new Set(trials.map((t) => t.state));
  assert.equal(curves.length, states.size + 1);
  assert.equal(curves.slice(0, -1).reduce((a, b) => a + b, 0), trials.length, 'a curve per trial');
  assert.equal(curves[curves.length - 1], pruned.length, 'one mark per pruned trial');
  await page.screenshot({ path: process.env.HP_SCREENSHOT || path.join(dir, 'dashboard.png'), fullPage: true });

  // sort by the objective: best first, then worst first
  const valueHeader = page.locator('#trials th[data-key="value"]');
  await valueHeader.click();
  const best = done.reduce((a, b) => (b.value < a.value ? b : a));
  assert.equal(await page.locator('#trials tbody tr').first().getAttribute('data-number'), String(best.number));
  await valueHeader.click();
  const worst = done.reduce((a, b) => (b.value > a.value ? b : a));
  assert.equal(await page.locator('#trials tbody tr').first().getAttribute('data-number'), String(worst.number));
  // filter by state, then by text
  await page.selectOption('#state-filter', 'pruned');
  assert.equal(await page.locator('#trials tbody tr').count(), pruned.length);
  await page.selectOption('#state-filter', '');
  await page.fill('#filter', 'healthy');
  assert.equal(await page.locator('#trials tbody tr').count(), trials.filter((t) => t.diagnosis === 'healthy').length);
  await page.fill('#filter', '');
  assert.equal(await page.locator('#trials tbody tr').count(), trials.length);

  // open the best trial: its learning curve, every step
  await page.locator('#trials tbody tr[data-number="' + best.number + '"] a').click();
  await page.waitForURL('**/studies/asha-toy/trials/' + best.number);
  const curve = await until('the trial curve', () => seriesLengths(page, 'curve'));
  assert.deepEqual(curve, [27]);
  assert.deepEqual(foreign, []);
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('a coarse-to-fine study shows how each round narrowed', async () => {
  const spec = path.join(dir, 'c2f.yaml');
  fs.writeFileSync(spec, [
    'name: c2f-branin',
    'objective: {metric: value, goal: minimize}',
    'search: {algorithm: coarse-to-fine, max_trials: 12, rounds: 3, parallelism: 2, seed: 5}',
    'space:',
    '  x1: {type: float, low: -5, high: 10}',
    '  x2: {type: float, low: 0, high: 15}',
    'trial: {function: branin}',
    '',
  ].join('\n'));
  const db = path.join(dir, 'c2f.db');
  const run = hpsearch(['run', spec, '--workers', '1', '--db', db]);
  assert.equal(await exited(run), 0, 'hpsearch run: ' + run.err);
  const d = await dashboard(db);
  const { ctx, page, foreign, errors } = await openPage(browser, d.url);
  await page.goto(d.url + 'studies/c2f-branin');
  await page.locator('#c2f-card:not([hidden])').waitFor({ timeout: GUARD_MS });
  // a box per round, and every trial in its round
  assert.deepEqual(await until('the c2f chart', () => seriesLengths(page, 'c2f')), [3, 12]);
  assert.deepEqual(foreign, []);
  assert.deepEqual(errors, []);
  await ctx.close();
  d.proc.kill('SIGTERM');
  await exited(d.proc);
});

test('a study with two objectives shows its Pareto front', async () => {
  const prog = path.join(dir, 'zdt.sh');
  fs.writeFileSync(prog, 'awk -v x="$HPSEARCH_PARAM_X" -v y="$HPSEARCH_PARAM_Y" \'BEGIN { g = 1 + 9 * y; ' +
    'printf "val_error=%.17g latency_ms=%.17g\\n", x, g * (1 - sqrt(x / g)) }\'\n');
  const spec = path.join(dir, 'mo.yaml');
  fs.writeFileSync(spec, [
    'name: mo-zdt',
    'objective:',
    '  - {metric: val_error, goal: minimize}',
    '  - {metric: latency_ms, goal: minimize}',
    'search: {algorithm: bayes, max_trials: 14, n_initial: 6, parallelism: 2, seed: 3}',
    'space:',
    '  x: {type: float, low: 0, high: 1}',
    '  y: {type: float, low: 0, high: 1}',
    'trial: {command: [sh, ' + JSON.stringify(prog) + '], retries: 0}',
    '',
  ].join('\n'));
  const db = path.join(dir, 'mo.db');
  const run = hpsearch(['run', spec, '--workers', '2', '--db', db]);
  assert.equal(await exited(run), 0, 'hpsearch run: ' + run.err);
  const d = await dashboard(db);
  const trials = (await api(d.url, '/api/studies/mo-zdt/trials?limit=5000')).trials;
  assert.equal(trials.length, 14);
  // the API carries every objective's value
  for (const t of trials) assert.deepEqual(Object.keys(t.objectives), ['val_error', 'latency_ms']);
  // the front, worked out here from the API's values
  const dom = (p, q) => p.val_error <= q.val_error && p.latency_ms <= q.latency_ms &&
    (p.val_error < q.val_error || p.latency_ms < q.latency_ms);
  const front = trials.filter((t) => !trials.some((o) => o !== t && dom(o.objectives, t.objectives)));
  const { ctx, page, foreign, errors } = await openPage(browser, d.url);
  await page.goto(d.url + 'studies/mo-zdt');
  await page.locator('#pareto-card:not([hidden])').waitFor({ timeout: GUARD_MS });
  // the dominated trials, then the front
  assert.deepEqual(await until('the Pareto chart', () => seriesLengths(page, 'pareto')),
    [trials.length - front.length, front.length]);
  // the table has a column per objective
  await page.locator('#trials th[data-key="o:latency_ms"]').waitFor({ timeout: GUARD_MS });
  assert.deepEqual(foreign, []);
  assert.deepEqual(errors, []);
  await ctx.close();
  d.proc.kill('SIGTERM');
  await exited(d.proc);
});

test('a running study updates live, without a reload', async () => {
  const spec = path.join(dir, 'live.yaml');
  fs.writeFileSync(spec, [
    'name: live-toy',
    'objective: {metric: loss, goal: minimize}',
    'search: {algorithm: random, max_trials: 400, parallelism: 1, seed: 3}',
    'space:',
    '  x: {type: float, low: 0, high: 1}',
    'trial:',
    '  command: [sh, -c, \'sleep 0.2; echo "loss=$1"\', sh, "{x}"]',
    '  timeout: 60',
    '',
  ].join('\n'));
  const db = path.join(dir, 'live.db');
  const run = hpsearch(['run', spec, '--workers', '1', '--db', db]);
  await until('the live database', () => fs.existsSync(db));
  const d = await dashboard(db);
  const { ctx, page, foreign, errors } = await openPage(browser, d.url);
  await page.goto(d.url + 'studies/live-toy');
  await page.evaluate(() => { window.hpNoReload = true; });
  const count = async () => Number(((await page.locator('#summary [data-key="completed"]').innerText().catch(() => '')).match(/\d+/) || [])[0]);
  const first = await until('a completed trial on the page', async () => { const c = await count(); return c > 0 ? c : 0; });
  await until('the count to rise past ' + first, async () => (await count()) > first);
  assert.equal(await page.evaluate(() => window.hpNoReload), true, 'the page was not reloaded');
  assert.match(await page.locator('#live').innerText(), /^live/);
  assert.deepEqual(foreign, []);
  assert.deepEqual(errors, []);
  await ctx.close();
  run.kill('SIGINT');
  await exited(run);
  d.proc.kill('SIGTERM');
  await exited(d.proc);
});

test('teardown', async () => {
  if (browser) await browser.close();
  study.proc.kill('SIGTERM');
  assert.equal(await exited(study.proc), 0, 'hpsearch dashboard stops cleanly on SIGTERM');
});
