// The study page of a large study in headless Chromium: milliseconds from
// navigation until the trial table and the history chart hold every trial
// (interactive_ms), and until every chart is drawn (drawn_ms); the median
// of RUNS (default 3) fresh pages, the first of them on the server's cold
// reply cache (tests/bench/dashboard_bench.py runs it). Prints one JSON line.
//   node dashboard_page_bench.js URL STUDY TRIALS   (HP_BROWSER_MODULES, CHROMIUM)
'use strict';
const path = require('node:path');
const { chromium } = require(path.join(process.env.HP_BROWSER_MODULES, 'playwright-core'));

(async () => {
  const [url, study, trials] = process.argv.slice(2);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
  const runs = [], drawn = [];
  for (let i = 0; i < Number(process.env.RUNS || 3); i++) {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(url + 'studies/' + encodeURIComponent(study));
    // the chart's own data (not getOption(), which copies every point on
    // each poll and so slows the page it measures)
    // and the time when the condition held, read in the same poll (a later
    // evaluate would wait for whatever the page draws next)
    const at = await page.waitForFunction((n) => {
      const el = document.getElementById('history');
      const c = el && window.echarts && echarts.getInstanceByDom(el);
      const series = c && c.getModel() && c.getModel().getSeriesByIndex(0);
      return document.getElementById('trial-count').textContent === '(' + n + ')' && series &&
        series.getData().count() > 0 && performance.now();
    }, trials, { timeout: 120000, polling: 20 });
    runs.push(await at.jsonValue());
    await page.waitForFunction(() => window.hpState && window.hpState.drawnAt, null,
      { timeout: 120000, polling: 50 });
    drawn.push(await page.evaluate(() => window.hpState.drawnAt));
    await page.close();
  }
  await browser.close();
  const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(JSON.stringify({ interactive_ms: median(runs), drawn_ms: median(drawn), cold_ms: runs[0], cold_drawn_ms: drawn[0], runs: runs,
    drawn: drawn }));
})().catch((e) => { console.error(e); process.exit(1); });
