// What every page shares: API calls to this page's own server only,
// number formatting, and a poll loop for live updates.
'use strict';

const hp = {};

// Fetches a path of this server's API; throws an Error with the server's
// message on an error reply. meta (optional) gets the reply's age: how
// long ago the server read it from the database (X-HP-Age-Ms).
hp.get = async function (path, meta) {
  const res = await fetch(path, { headers: { Accept: 'application/json' } });
  if (meta) meta.ageMs = Number(res.headers.get('X-HP-Age-Ms') || 0);
  let body;
  try {
    body = await res.json();
  } catch (e) {
    throw new Error(path + ': HTTP ' + res.status);
  }
  if (!res.ok) throw new Error(body.message || ('HTTP ' + res.status));
  return body;
};

// Every row of a paginated list path (?offset=&limit=). With expected
// (the rows the caller knows of, e.g. the study's trial count) the pages
// that covers are asked for at once, in parallel; any rows beyond, page by
// page.
hp.getAll = async function (path, key, limit, expected) {
  const sep = path.includes('?') ? '&' : '?';
  const pageAt = (offset) => hp.get(path + sep + 'offset=' + offset + '&limit=' + limit);
  const first = [];
  for (let offset = 0; offset < Math.max(1, expected || 0); offset += limit) first.push(pageAt(offset));
  let rows = [];
  let total = 0;
  for (const page of await Promise.all(first)) {
    rows = rows.concat(page[key]);
    total = page.total;
  }
  for (let offset = first.length * limit; rows.length < total; offset += limit) {
    const page = await pageAt(offset);
    if (page[key].length === 0) break;
    rows = rows.concat(page[key]);
    total = page.total;
  }
  return rows;
};

// Resolves once the page's scripts have all run: a page starts its API
// requests before the chart library's 1 MB has been parsed, and draws
// after.
hp.ready = document.readyState === 'loading'
  ? new Promise((resolve) => document.addEventListener('DOMContentLoaded', resolve))
  : Promise.resolve();

hp.fmt = function (v) {
  if (v === null || v === undefined) return '';
  if (typeof v !== 'number') return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : String(Number(v.toPrecision(4)));
};

hp.time = function (t) {
  return t ? new Date(t * 1000).toLocaleTimeString() : '';
};

hp.esc = function (s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
};

// Runs fn now and then every ms while keepGoing() says so; the page's
// header shows when it last updated.
hp.poll = function (fn, ms) {
  const live = document.getElementById('live');
  async function tick() {
    let again = false;
    try {
      again = await fn();
      if (live) live.textContent = (again ? 'live, updated ' : 'updated ') + new Date().toLocaleTimeString();
    } catch (e) {
      if (live) live.textContent = 'update failed: ' + e.message;
      again = true;
    }
    if (again) setTimeout(tick, ms);
  }
  tick();
};

// One chart per element id, created once, kept sized with its box.
hp.charts = {};
hp.chart = function (id) {
  if (!hp.charts[id]) {
    const el = document.getElementById(id);
    if (typeof echarts === 'undefined') {
      // a build that could not install the chart library: the chart's
      // place says why (the server's charts-missing.txt), the rest works
      hp.charts[id] = { setOption() {} };
      el.classList.add('charts-missing');
      el.textContent = 'No chart: ' + (hp.chartsMissing || 'the chart library did not load.');
      if (hp.chartsMissing === undefined) {
        hp.chartsMissing = null;
        fetch('/static/charts-missing.txt')
          .then((r) => (r.ok ? r.text() : null))
          .then((t) => {
            if (!t) return;
            hp.chartsMissing = t;
            document.querySelectorAll('.charts-missing').forEach((e) => {
              e.textContent = 'No chart: ' + t;
            });
          });
      }
      return hp.charts[id];
    }
    hp.charts[id] = echarts.init(el, null, { renderer: 'canvas' });
    new ResizeObserver(() => hp.charts[id].resize()).observe(el);
  }
  return hp.charts[id];
};
