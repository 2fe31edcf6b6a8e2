// The study page: every chart and the trial table, from this server's API,
// refreshed every 1.5 s while the study runs.
'use strict';

const NAME = decodeURIComponent(location.pathname.split('/')[2] || '');
const API = '/api/studies/' + encodeURIComponent(NAME);
const POLL_MS = 1500;
const TABLE_ROWS = 500; // rows drawn at once; sorting and filtering cover every trial
const CURVES = 500; // the latest trials' learning curves drawn
const OUTCOME_COLORS = {
  completed: '#1a7f37', pruned: '#d4a72c', failed: '#cf222e', lost: '#000000',
  running: '#0969da', cancelled: '#8c959f', interrupted: '#8250df',
};
const state = { study: null, trials: [], params: [], space: {}, sort: { key: 'number', dir: 'asc' }, sig: '' };
window.hpState = state; // for the browser test and for curious users

function completed() {
  return state.trials.filter((t) => t.state === 'completed' && typeof t.value === 'number');
}

// several objectives: the spec's list [{metric, goal}], else null
function objectives() {
  const o = state.study && state.study.spec && state.study.spec.objective;
  return Array.isArray(o) && o.length > 1 ? o : null;
}

function better(a, b) {
  return state.study.goal === 'maximize' ? a > b : a < b;
}

function isLog(p) {
  return !!(state.space[p] && state.space[p].log);
}

function isCategorical(p) {
  return !!(state.space[p] && state.space[p].type === 'categorical');
}

function fillSelect(id, names, pick) {
  const sel = document.getElementById(id);
  if (sel.options.length === names.length) return;
  sel.innerHTML = names.map((n) => '<option>' + hp.esc(n) + '</option>').join('');
  if (pick !== undefined && names[pick]) sel.value = names[pick];
  sel.onchange = drawAll;
}

function summary() {
  const s = state.study;
  document.title = s.name + ' — hpsearch dashboard';
  document.getElementById('name').textContent = s.name;
  document.getElementById('title').textContent = s.name;
  const done = s.completed + s.pruned + s.failed;
  const items = [
    ['state', s.state + (s.reason ? ' (' + s.reason + ')' : '')],
    ['objective', objectives() ? objectives().map((o) => o.goal + ' ' + o.metric).join(', ') : s.goal + ' ' + s.metric],
    ['algorithm', (s.spec.search && s.spec.search.algorithm) || ''],
    ['progress', done + (s.max_trials ? ' / ' + s.max_trials : '') + ' finished'],
    ['trials', s.trials], ['completed', s.completed], ['pruned', s.pruned],
    ['failed', s.failed], ['running', s.running], ['pending', s.pending],
    ['best', hp.fmt(s.best) + (s.best_trial === null ? '' : ' (trial ' + s.best_trial + ')')],
  ];
  document.getElementById('summary').innerHTML = items.map(([k, v]) =>
    '<div data-key="' + k + '"><b>' + k + '</b>' + hp.esc(v) + '</div>').join('');
}

function drawHistory() {
  const pts = completed().sort((a, b) => a.number - b.number);
  let best = null;
  const bestLine = [];
  for (const t of pts) {
    if (best === null || better(t.value, best)) best = t.value;
    bestLine.push([t.number, best]);
  }
  hp.chart('history').setOption({
    animation: false,
    tooltip: { trigger: 'item', formatter: (p) => 'trial ' + p.value[0] + ': ' + hp.fmt(p.value[1]) },
    legend: { top: 0 },
    dataZoom: [{ type: 'inside' }],
    xAxis: { type: 'value', name: 'trial', nameLocation: 'middle', nameGap: 24 },
    yAxis: { type: 'value', name: state.study.metric, scale: true },
    series: [
      { name: 'objective', type: 'scatter', symbolSize: 6, data: pts.map((t) => [t.number, t.value]) },
      { name: 'best so far', type: 'line', step: 'end', showSymbol: false, data: bestLine },
    ],
  }, true);
}

// One 'lines' series of polylines per trial state (ECharts draws thousands
// of polylines in one series far faster than a series per trial).
function drawCurves(curves) {
  const drawn = curves.filter((c) => c.steps.length);
  const states = [...new Set(drawn.map((c) => c.state))].sort();
  const series = states.map((st) => ({
    name: st, type: 'lines', coordinateSystem: 'cartesian2d', polyline: true, large: drawn.length > 2000,
    color: OUTCOME_COLORS[st] || '#888', lineStyle: { width: 1, opacity: 0.6 },
    data: drawn.filter((c) => c.state === st).map((c) => {
      const coords = c.steps.map((s, i) => [s, c.values[i]]);
      if (coords.length === 1) coords.push(coords[0]); // a polyline needs two points
      return { coords: coords, trial: c.number, diagnosis: c.diagnosis };
    }),
  }));
  const stops = drawn.filter((c) => c.state === 'pruned').map((c) => {
    const i = c.pruned_step === null ? c.steps.length - 1 : Math.max(0, c.steps.lastIndexOf(c.pruned_step));
    return [c.steps[i], c.values[i], c.number, c.pruned_step];
  });
  series.push({
    name: 'pruned here', type: 'scatter', symbol: 'triangle', symbolSize: 9, color: '#cf222e', z: 5, data: stops,
  });
  // the axes' extent: 'lines' series do not set it
  let lo = Infinity, hi = -Infinity, maxStep = 1;
  for (const c of drawn) {
    for (const v of c.values) if (v !== null) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    maxStep = Math.max(maxStep, c.steps[c.steps.length - 1]);
  }
  hp.chart('curves').setOption({
    animation: false,
    legend: { top: 0, data: states.concat(['pruned here']) },
    tooltip: {
      trigger: 'item',
      formatter: (p) => p.seriesName === 'pruned here'
        ? 'trial ' + p.value[2] + ' pruned at step ' + p.value[3]
        : 'trial ' + p.data.trial + ' (' + p.seriesName + ')' + (p.data.diagnosis ? '<br>diagnosis: ' + p.data.diagnosis : ''),
    },
    xAxis: { type: 'value', name: 'step', nameLocation: 'middle', nameGap: 24 },
    yAxis: { type: 'value', name: state.study.metric, scale: true },
    series: series.concat(isFinite(lo) ? [{
      // 'lines' series do not size the axes: two unseen points do
      name: 'extent', type: 'scatter', symbolSize: 0, silent: true, tooltip: { show: false },
      data: [[0, lo], [maxStep, hi]],
    }] : []),
  }, true);
}

function paramAxis(p, i) {
  if (isCategorical(p)) {
    return { dim: i, name: p, type: 'category', data: state.space[p].values.map(String) };
  }
  return { dim: i, name: p, type: isLog(p) ? 'log' : 'value', scale: true };
}

function drawParallel() {
  const ps = state.params;
  const rows = completed().map((t) => ps.map((p) => isCategorical(p) ? String(t.params[p]) : t.params[p]).concat([t.value]));
  hp.chart('parallel').setOption({
    animation: false,
    parallelAxis: ps.map(paramAxis).concat([{ dim: ps.length, name: state.study.metric, type: 'value', scale: true }]),
    visualMap: {
      type: 'continuous', dimension: ps.length, show: false, calculable: false,
      min: Math.min(...rows.map((r) => r[ps.length]), 0), max: Math.max(...rows.map((r) => r[ps.length]), 1),
      inRange: { color: state.study.goal === 'maximize' ? ['#c6dbef', '#08306b'] : ['#08306b', '#c6dbef'] },
    },
    parallel: { left: 40, right: 60, top: 30, bottom: 20 },
    series: [{ name: 'trials', type: 'parallel', lineStyle: { width: 1, opacity: 0.5 }, data: rows }],
  }, true);
}

function drawSlice() {
  const p = document.getElementById('slice-param').value;
  if (!p) return;
  const cat = isCategorical(p);
  hp.chart('slice').setOption({
    animation: false,
    tooltip: { trigger: 'item', formatter: (q) => 'trial ' + q.value[2] + ': ' + p + ' ' + hp.fmt(q.value[0]) + ', ' + hp.fmt(q.value[1]) },
    xAxis: cat ? { type: 'category', name: p, data: state.space[p].values.map(String) }
      : { type: isLog(p) ? 'log' : 'value', name: p, scale: true, nameLocation: 'middle', nameGap: 24 },
    yAxis: { type: 'value', name: state.study.metric, scale: true },
    series: [{
      name: p, type: 'scatter', symbolSize: 6,
      data: completed().map((t) => [cat ? String(t.params[p]) : t.params[p], t.value, t.number]),
    }],
  }, true);
}

// Parameter importance from the server (/api/studies/NAME/importance):
// fANOVA on a random forest, computed on the dashboard's threads.
function drawImportance(r) {
  const note = document.getElementById('importance-method');
  if (!r) {
    note.textContent = state.study.completed ? 'Method: fANOVA (random forest, 64 trees): computing…' : 'No completed trial yet.';
    return;
  }
  const imp = r.importance;
  const used = imp.trials === undefined ? '' : ' on ' + imp.trials + ' completed trial' + (imp.trials === 1 ? '' : 's') +
    (r.completed > imp.trials ? ' (the latest ' + imp.trials + ' of ' + r.completed + ')' : '');
  note.textContent = 'Method: ' + imp.method + used + '. ' + (imp.error
    ? 'Not ranked: ' + imp.error + '.'
    : 'Each bar is the share of the objective\'s variance that the parameter explains alone (its main effect), ' +
      'normalised so the bars sum to 1; main effects explain ' + Math.round(100 * imp.explained) +
      '% of the variance, interactions the rest.');
  const ps = imp.params.slice().reverse(); // the most important on top
  hp.chart('importance').setOption({
    animation: false,
    tooltip: { trigger: 'item', formatter: (p) => { const q = ps[p.dataIndex]; return q.name + ': ' + hp.fmt(q.importance) + ' (share ' + hp.fmt(q.share) + ' ± ' + hp.fmt(q.sd) + ', active in ' + q.active + ' trials)'; } },
    grid: { left: 90 },
    xAxis: { type: 'value', min: 0, max: 1, name: 'importance' },
    yAxis: { type: 'category', data: ps.map((q) => q.name) },
    series: [{ name: 'importance', type: 'bar', data: ps.map((q) => Number(q.importance.toFixed(3))) }],
  }, true);
}

const GRID = 24; // cells per side of the pair's interpolated surface

// The objective over a GRID x GRID grid of the pair, each cell's centre
// given the inverse-distance-weighted (power 2) mean of the completed
// trials, distances in the unit square (log first for log parameters).
function surface(x, y, ts) {
  const tf = (p) => (isLog(p) ? Math.log10 : (v) => v);
  const fx = tf(x), fy = tf(y);
  const px = ts.map((t) => fx(t.params[x])), py = ts.map((t) => fy(t.params[y]));
  const range = (p, f, vs) => state.space[p] && state.space[p].low !== undefined
    ? [f(state.space[p].low), f(state.space[p].high)] : [Math.min(...vs), Math.max(...vs)];
  const [x0, x1] = range(x, fx, px), [y0, y1] = range(y, fy, py);
  const wx = (x1 - x0) || 1, wy = (y1 - y0) || 1;
  const back = (p, v) => (isLog(p) ? 10 ** v : v);
  const cells = [];
  for (let i = 0; i < GRID; i++) {
    for (let j = 0; j < GRID; j++) {
      const cx = (i + 0.5) / GRID, cy = (j + 0.5) / GRID;
      let num = 0, den = 0, exact = null;
      for (let k = 0; k < ts.length; k++) {
        const d2 = ((px[k] - x0) / wx - cx) ** 2 + ((py[k] - y0) / wy - cy) ** 2;
        if (d2 < 1e-12) { exact = ts[k].value; break; }
        num += ts[k].value / d2;
        den += 1 / d2;
      }
      cells.push([back(x, x0 + (i / GRID) * wx), back(y, y0 + (j / GRID) * wy),
        back(x, x0 + ((i + 1) / GRID) * wx), back(y, y0 + ((j + 1) / GRID) * wy),
        exact !== null ? exact : num / den]);
    }
  }
  return cells;
}

function drawPair() {
  const x = document.getElementById('pair-x').value, y = document.getElementById('pair-y').value;
  if (!x || !y) return;
  const ts = completed();
  const axis = (p, name) => isCategorical(p)
    ? { type: 'category', name: name, data: state.space[p].values.map(String) }
    : { type: isLog(p) ? 'log' : 'value', name: name, scale: true };
  const vals = ts.map((t) => t.value);
  const colors = state.study.goal === 'maximize' ? ['#fde0dd', '#7a0177'] : ['#7a0177', '#fde0dd'];
  const lo = vals.length ? Math.min(...vals) : 0, hi = vals.length ? Math.max(...vals) : 1;
  const numeric = !isCategorical(x) && !isCategorical(y) && x !== y && ts.length >= 3;
  const series = [];
  if (numeric) {
    series.push({
      name: 'surface', type: 'custom', silent: true, data: surface(x, y, ts), encode: { x: [0, 2], y: [1, 3] },
      renderItem: (params, api) => {
        const a = api.coord([api.value(0), api.value(1)]), b = api.coord([api.value(2), api.value(3)]);
        return { type: 'rect', shape: { x: a[0], y: b[1], width: b[0] - a[0] + 0.5, height: a[1] - b[1] + 0.5 }, style: { fill: api.visual('color'), opacity: 0.55 } };
      },
    });
  }
  series.push({
    name: 'trials', type: 'scatter', symbolSize: 9, itemStyle: { borderColor: '#fff', borderWidth: 1 },
    data: ts.map((t) => [isCategorical(x) ? String(t.params[x]) : t.params[x], isCategorical(y) ? String(t.params[y]) : t.params[y], t.value, t.number]),
  });
  const n = series.length;
  const visualMap = [{
    type: 'continuous', seriesIndex: n - 1, dimension: 2, right: 0, top: 'middle', calculable: true, precision: 3,
    min: lo, max: hi, inRange: { color: colors },
  }];
  if (numeric) visualMap.push({ type: 'continuous', seriesIndex: 0, dimension: 4, show: false, min: lo, max: hi, inRange: { color: colors } });
  hp.chart('pair').setOption({
    animation: false,
    tooltip: { trigger: 'item', formatter: (q) => 'trial ' + q.value[3] + ': ' + hp.fmt(q.value[2]) },
    grid: { right: 80 },
    xAxis: axis(x, x), yAxis: axis(y, y),
    visualMap: visualMap,
    series: series,
  }, true);
}

// Each attempt as a thick horizontal segment on its worker's lane: one
// 'lines' series per outcome, which ECharts draws fast for many attempts.
function drawTimeline(attempts) {
  const lane = (a) => (a.worker === null ? '(asked)' : a.worker);
  const workers = [...new Set(attempts.map(lane))].sort();
  const now = Date.now();
  const outcomes = [...new Set(attempts.map((a) => a.outcome))].sort();
  const lanePx = Math.max(4, Math.min(18, 200 / Math.max(1, workers.length)));
  const series = outcomes.map((o) => ({
    name: o, type: 'lines', coordinateSystem: 'cartesian2d', large: attempts.length > 2000,
    color: OUTCOME_COLORS[o] || '#888', lineStyle: { width: lanePx, opacity: 0.9, cap: 'butt' },
    data: attempts.filter((a) => a.outcome === o).map((a) => ({
      coords: [[a.started * 1000, lane(a)], [a.ended ? a.ended * 1000 : now, lane(a)]],
      trial: a.trial, worker: lane(a), outcome: a.outcome,
      seconds: ((a.ended ? a.ended * 1000 : now) - a.started * 1000) / 1000,
    })),
  }));
  let lo = Infinity, hi = -Infinity;
  for (const a of attempts) { lo = Math.min(lo, a.started * 1000); hi = Math.max(hi, a.ended ? a.ended * 1000 : now); }
  hp.chart('timeline').setOption({
    animation: false,
    legend: { top: 0 },
    tooltip: { trigger: 'item', formatter: (p) => 'trial ' + p.data.trial + ' on worker ' + p.data.worker + ': ' + p.data.outcome + ', ' + p.data.seconds.toFixed(1) + ' s' },
    xAxis: { type: 'time', min: isFinite(lo) ? lo : null, max: isFinite(hi) ? hi : null, axisLabel: { hideOverlap: true } },
    yAxis: { type: 'category', name: 'worker', data: workers },
    dataZoom: [{ type: 'inside', filterMode: 'none' }],
    series: series,
  }, true);
}

function drawReport(r) {
  const note = document.getElementById('report-note');
  if (!r) {
    note.textContent = 'No completed trial yet.';
    return;
  }
  const keys = Object.keys(r.terms);
  const known = keys.filter((k) => r.terms[k].value !== null);
  note.textContent = 'Trial ' + r.trial.number + ' (best), fit: ' + r.fit + '. ' +
    (known.length ? 'test error = the sum of the terms; material when > 0 and ≥ ' + hp.fmt(r.threshold) + '.'
      : 'Unknown: the trial reports no train_error / val_error / test_error (' + r.terms.avoidable_bias.unknown + ').');
  hp.chart('bv').setOption({
    animation: false,
    tooltip: { trigger: 'item', formatter: (p) => { const t = r.terms[keys[p.dataIndex]]; return t.label + ': ' + (t.value === null ? 'unknown — ' + t.unknown : hp.fmt(t.value) + ' (' + t.from + ')'); } },
    xAxis: { type: 'category', data: keys.map((k) => r.terms[k].label), axisLabel: { interval: 0, fontSize: 10 } },
    yAxis: { type: 'value', name: 'error' },
    series: [{
      name: 'terms', type: 'bar',
      data: keys.map((k) => ({ value: r.terms[k].value === null ? 0 : r.terms[k].value, itemStyle: { color: r.terms[k].material ? '#cf222e' : '#8c959f' } })),
      label: { show: true, position: 'top', formatter: (p) => r.terms[keys[p.dataIndex]].value === null ? 'unknown' : hp.fmt(r.terms[keys[p.dataIndex]].value) },
    }],
  }, true);
  document.getElementById('next-steps').innerHTML = r.next_steps.length
    ? '<b>Next steps</b>' + (r.order_reason ? '<p class="note">' + hp.esc(r.order_reason) + '</p>' : '') +
      r.next_steps.map((s) => '<div>' + hp.esc(s.title) + '<ul class="steps">' + s.steps.map((x) => '<li>' + hp.esc(x) + '</li>').join('') + '</ul></div>').join('')
    : '<p class="note">No next steps: ' + (known.length ? 'no term is material.' : 'the terms are unknown.') + '</p>';
}

function drawC2F(events) {
  const rounds = events.filter((e) => e.kind === 'c2f_round').map((e) => { try { return JSON.parse(e.message); } catch (x) { return null; } }).filter(Boolean);
  const card = document.getElementById('c2f-card');
  card.hidden = rounds.length === 0;
  if (!rounds.length) return;
  const numeric = state.params.filter((p) => !isCategorical(p));
  fillSelect('c2f-param', numeric, 0);
  const p = document.getElementById('c2f-param').value;
  if (!p) return;
  const boxes = rounds.filter((r) => r.params[p] && r.params[p].low !== undefined)
    .map((r) => ({ value: [rounds.indexOf(r), r.params[p].low, r.params[p].high] }));
  // a trial's round, as its index on the category axis
  const roundOf = (n) => { const i = rounds.findIndex((x) => n >= x.first_trial && n <= x.last_trial); return i < 0 ? null : i; };
  const pts = state.trials.filter((t) => roundOf(t.number) !== null && t.params[p] !== undefined)
    .map((t) => ({ value: [roundOf(t.number), t.params[p]], trial: t.number }));
  hp.chart('c2f').setOption({
    animation: false,
    tooltip: { trigger: 'item', formatter: (q) => q.seriesName === 'range' ? 'round ' + rounds[q.value[0]].round + ': ' + hp.fmt(q.value[1]) + ' .. ' + hp.fmt(q.value[2]) : 'trial ' + q.data.trial + ': ' + hp.fmt(q.value[1]) },
    xAxis: { type: 'category', name: 'round', data: rounds.map((r) => String(r.round)) },
    yAxis: { type: isLog(p) ? 'log' : 'value', name: p, scale: true },
    series: [
      {
        name: 'range', type: 'custom', encode: { x: 0, y: [1, 2] }, data: boxes,
        renderItem: (params, api) => {
          const lo = api.coord([api.value(0), api.value(1)]), hi = api.coord([api.value(0), api.value(2)]);
          const w = api.size([1, 0])[0] * 0.5;
          return { type: 'rect', shape: { x: lo[0] - w / 2, y: hi[1], width: w, height: lo[1] - hi[1] }, style: { fill: 'rgba(9,105,218,0.15)', stroke: '#0969da' } };
        },
      },
      { name: 'trials', type: 'scatter', symbolSize: 5, data: pts },
    ],
  }, true);
}

// The Pareto front of the completed feasible trials on every objective
// (each oriented by its goal): the trials no other beats on all of them.
function paretoFront(objs) {
  const pts = completed().filter((t) => !t.infeasible && t.objectives)
    .map((t) => ({ t, y: objs.map((o) => (o.goal === 'maximize' ? -1 : 1) * t.objectives[o.metric]) }))
    .filter((p) => p.y.every((v) => typeof v === 'number' && isFinite(v)));
  const dominates = (a, b) => a.every((v, i) => v <= b[i]) && a.some((v, i) => v < b[i]);
  const on = pts.filter((p) => !pts.some((q) => q !== p && dominates(q.y, p.y)));
  return { pts, on: new Set(on.map((p) => p.t.number)) };
}

// Several objectives: the first two against each other, the front
// highlighted and joined in order of the first.
function drawPareto() {
  const objs = objectives();
  const card = document.getElementById('pareto-card');
  card.hidden = !objs;
  if (!objs) return;
  const [a, b] = objs;
  const { pts, on } = paretoFront(objs);
  const xy = (p) => ({ value: [p.t.objectives[a.metric], p.t.objectives[b.metric]], trial: p.t.number });
  const front = pts.filter((p) => on.has(p.t.number)).map(xy).sort((p, q) => p.value[0] - q.value[0]);
  const rest = pts.filter((p) => !on.has(p.t.number)).map(xy);
  document.getElementById('pareto-note').textContent = 'Completed feasible trials by ' + a.metric +
    ' (' + a.goal + ') and ' + b.metric + ' (' + b.goal + '); the ' + front.length +
    ' on the Pareto front' + (objs.length > 2 ? ' (of all ' + objs.length + ' objectives)' : '') +
    ' in red, joined. Click a point for its trial.';
  const chart = hp.chart('pareto');
  chart.setOption({
    animation: false,
    tooltip: { trigger: 'item', formatter: (q) => 'trial ' + q.data.trial + ': ' + a.metric + ' ' + hp.fmt(q.value[0]) + ', ' + b.metric + ' ' + hp.fmt(q.value[1]) },
    legend: { data: ['dominated', 'Pareto front'] },
    xAxis: { type: 'value', name: a.metric, scale: true },
    yAxis: { type: 'value', name: b.metric, scale: true },
    series: [
      { name: 'dominated', type: 'scatter', symbolSize: 6, itemStyle: { color: '#8c959f' }, data: rest },
      { name: 'Pareto front', type: 'line', symbolSize: 9, showSymbol: true, step: false, itemStyle: { color: '#cf222e' }, lineStyle: { color: '#cf222e' }, data: front },
    ],
  }, true);
  if (!chart.on) return; // no chart library: nothing to click
  chart.off('click');
  chart.on('click', (q) => { if (q.data && q.data.trial !== undefined) location.href = '/studies/' + encodeURIComponent(NAME) + '/trials/' + q.data.trial; });
}

const COLUMNS = () => [
  { key: 'number', label: '#', num: true },
  { key: 'state', label: 'state' },
  ...(objectives() ? objectives().map((o) => ({ key: 'o:' + o.metric, label: o.metric, num: true }))
    : [{ key: 'value', label: state.study.metric, num: true }]),
  ...state.params.map((p) => ({ key: 'p:' + p, label: p, num: !isCategorical(p) })),
  { key: 'diagnosis', label: 'diagnosis' },
  { key: 'pruned_step', label: 'pruned at', num: true },
  { key: 'attempts', label: 'attempts', num: true },
  { key: 'duration', label: 'seconds', num: true },
];

function cell(t, key) {
  if (key.startsWith('p:')) return t.params[key.slice(2)];
  if (key.startsWith('o:')) return t.objectives ? t.objectives[key.slice(2)] : null;
  if (key === 'duration') return t.started && t.ended ? Number((t.ended - t.started).toFixed(2)) : null;
  return t[key];
}

function drawTable() {
  const cols = COLUMNS();
  const thead = document.querySelector('#trials thead');
  if (thead.dataset.cols !== cols.map((c) => c.key).join(',')) {
    thead.dataset.cols = cols.map((c) => c.key).join(',');
    thead.innerHTML = '<tr>' + cols.map((c) => '<th data-key="' + hp.esc(c.key) + '"' + (c.num ? ' class="num"' : '') + '>' + hp.esc(c.label) + '</th>').join('') + '</tr>';
    thead.querySelectorAll('th').forEach((th) => th.addEventListener('click', () => {
      const k = th.dataset.key;
      state.sort = { key: k, dir: state.sort.key === k && state.sort.dir === 'asc' ? 'desc' : 'asc' };
      drawTable();
    }));
  }
  thead.querySelectorAll('th').forEach((th) => {
    if (th.dataset.key === state.sort.key) th.dataset.dir = state.sort.dir; else delete th.dataset.dir;
  });
  const text = document.getElementById('filter').value.trim().toLowerCase();
  const st = document.getElementById('state-filter').value;
  const { key, dir } = state.sort;
  const rows = state.trials.filter((t) => (!st || t.state === st) &&
    (!text || cols.some((c) => String(cell(t, c.key) ?? '').toLowerCase().includes(text)) ||
      (text && Object.keys(t.params).some((p) => p.toLowerCase().includes(text)))))
    .sort((a, b) => {
      const x = cell(a, key), y = cell(b, key);
      if (x === y) return a.number - b.number;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
      return dir === 'asc' ? c : -c;
    });
  const shown = rows.slice(0, TABLE_ROWS);
  document.getElementById('shown').textContent = rows.length + ' of ' + state.trials.length + ' match' +
    (rows.length > shown.length ? '; the first ' + shown.length + ' shown (sort or filter for others)' : '');
  document.getElementById('trial-count').textContent = '(' + state.trials.length + ')';
  const base = '/studies/' + encodeURIComponent(NAME) + '/trials/';
  document.querySelector('#trials tbody').innerHTML = shown.map((t) => '<tr data-number="' + t.number + '">' +
    cols.map((c) => {
      const v = cell(t, c.key);
      if (c.key === 'number') return '<td class="num"><a href="' + base + t.number + '">' + t.number + '</a></td>';
      if (c.key === 'state') return '<td class="state-' + t.state + '">' + t.state + '</td>';
      return '<td' + (c.num ? ' class="num"' : '') + '>' + hp.esc(hp.fmt(v)) + '</td>';
    }).join('') + '</tr>').join('');
}

let last = { curves: [], attempts: [], report: null, events: [], importance: null, importanceFor: null };

// The table and history first, then each chart in its own task, so the
// page answers input between them on a large study.
async function drawAll() {
  const steps = [drawTable, drawHistory, () => drawCurves(last.curves), drawParallel, drawSlice,
    () => drawImportance(last.importance), drawPair, () => drawTimeline(last.attempts), () => drawReport(last.report),
    () => drawC2F(last.events), drawPareto];
  for (const f of steps) {
    f();
    await new Promise((r) => setTimeout(r, 0));
  }
}

async function refresh() {
  const s = await hp.get(API);
  state.study = s;
  summary();
  const sig = [s.trials, s.completed, s.pruned, s.failed, s.running, s.pending, s.state].join(',');
  const running = s.state === 'running';
  if (sig !== state.sig || running) {
    state.sig = sig;
    state.space = (s.spec && s.spec.space) || {};
    state.params = Object.keys(state.space);
    const [trials, curves, attempts, events] = await Promise.all([
      hp.getAll(API + '/trials', 'trials', 5000),
      hp.get(API + '/curves?limit=' + CURVES + '&offset=' + Math.max(0, s.trials - CURVES)),
      hp.getAll(API + '/attempts', 'attempts', 5000),
      hp.getAll(API + '/events', 'events', 5000),
    ]);
    state.trials = trials;
    last.curves = curves.curves;
    last.attempts = attempts;
    last.events = events;
    last.report = s.completed ? await hp.get(API + '/report').catch(() => null) : null;
    // the forest takes a moment on a large study: draw everything else
    // first, and the importance chart when it arrives (again only when
    // the completed trials changed)
    if (s.completed !== last.importanceFor) {
      last.importanceFor = s.completed;
      if (!s.completed) last.importance = null;
      else hp.get(API + '/importance').then((r) => { last.importance = r; drawImportance(r); }).catch(() => { last.importanceFor = null; });
    }
    fillSelect('slice-param', state.params, 0);
    fillSelect('pair-x', state.params, 0);
    fillSelect('pair-y', state.params, Math.min(1, state.params.length - 1));
    await drawAll();
  }
  return running;
}

document.getElementById('filter').addEventListener('input', drawTable);
document.getElementById('state-filter').addEventListener('change', drawTable);
hp.poll(async () => {
  try {
    document.getElementById('error').textContent = '';
    return await refresh();
  } catch (e) {
    document.getElementById('error').textContent = e.message;
    throw e;
  }
}, POLL_MS);
