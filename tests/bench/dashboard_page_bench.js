// The study page of a large study in headless Chromium: milliseconds from
// navigation until the trial table and the history chart hold every trial
// (tests/bench/dashboard_bench.py runs it). Prints one JSON line.
//   node dashboard_page_bench.js URL STUDY TRIALS   (HP_BROWSER_MODULES, CHROMIUM)
'use strict';
const path = require('node:path');
const { chromium } = require(path.join(process.env.HP_BROWSER_MODULES, 'playwright-core'));

(async () => {
  const [url, study, trials] = process.argv.slice(2);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
  const runs = [];
  for (let i = 0; i < 3; i++) {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(url + 'studies/' + encodeURIComponent(study));
    await page.waitForFunction((n) => {
      const el = document.getElementById('history');
      const c = el && window.echarts && echarts.getInstanceByDom(el);
      return document.getElementById('trial-count').textContent === '(' + n + ')' && c &&
        c.getOption().series[0].data.length > 0;
    }, trials, { timeout: 120000, polling: 20 });
    runs.push(await page.evaluate(() => performance.now()));
    await page.close();
  }
  await browser.close();
  runs.sort((a, b) => a - b);
  console.log(JSON.stringify({ interactive_ms: runs[1], runs: runs }));
})().catch((e) => { console.error(e); process.exit(1); });
