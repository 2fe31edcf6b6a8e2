// One trial: its learning curve (every metric by step), parameters,
// attempts and diagnosis, refreshed while it runs.
'use strict';

const parts = location.pathname.split('/');
const STUDY = decodeURIComponent(parts[2] || '');
const NUMBER = decodeURIComponent(parts[4] || '');
const TAPI = '/api/studies/' + encodeURIComponent(STUDY) + '/trials/' + encodeURIComponent(NUMBER);

async function refresh() {
  const t = await hp.get(TAPI);
  const metrics = await hp.getAll(TAPI + '/metrics', 'metrics', 10000);
  document.title = STUDY + ' #' + t.number + ' — hpsearch dashboard';
  document.getElementById('name').textContent = STUDY + ' — trial ' + t.number;
  const link = document.getElementById('study-link');
  link.textContent = STUDY;
  link.href = '/studies/' + encodeURIComponent(STUDY);
  const items = [['state', t.state], ['value', hp.fmt(t.value)], ['attempts', t.attempts], ['origin', t.origin],
    ['pruned at step', t.pruned_step === null ? '' : t.pruned_step], ['error', t.error || '']];
  document.getElementById('summary').innerHTML = items.map(([k, v]) => '<div><b>' + k + '</b>' + hp.esc(v) + '</div>').join('');
  document.querySelector('#params tbody').innerHTML = Object.entries(t.params).map(([k, v]) =>
    '<tr><td>' + hp.esc(k) + '</td><td class="num">' + hp.esc(hp.fmt(v)) + '</td></tr>').join('');
  document.querySelector('#attempts tbody').innerHTML = t.attempt_list.map((a) => '<tr><td class="num">' + a.attempt +
    '</td><td>' + hp.esc(a.worker ?? '') + '</td><td>' + hp.time(a.started) + '</td><td class="num">' +
    (a.ended ? (a.ended - a.started).toFixed(2) : '') + '</td><td class="state-' + a.outcome + '">' + a.outcome +
    '</td><td>' + hp.esc(a.error || '') + '</td></tr>').join('');
  document.getElementById('diagnosis').textContent = t.diagnosis ? t.diagnosis + ': ' + (t.diagnosis_detail || '') : 'not diagnosed';

  const latest = Math.max(1, t.attempts);
  const byName = {};
  for (const m of metrics) {
    if (m.attempt !== latest || m.step < 0) continue;
    (byName[m.name] = byName[m.name] || []).push([m.step, m.value]);
  }
  const series = Object.entries(byName).map(([name, data]) => ({ name: name, type: 'line', showSymbol: data.length < 60, data: data }));
  const markLine = t.pruned_step === null ? undefined
    : { symbol: 'none', label: { formatter: 'pruned at step ' + t.pruned_step }, data: [{ xAxis: t.pruned_step }] };
  if (series.length && markLine) series[0].markLine = markLine;
  await hp.ready; // the chart library loads after this script
  hp.chart('curve').setOption({
    animation: false,
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    xAxis: { type: 'value', name: 'step', nameLocation: 'middle', nameGap: 24 },
    yAxis: { type: 'value', scale: true },
    series: series,
  }, true);
  return t.state === 'running' || t.state === 'pending';
}

hp.poll(async () => {
  try {
    document.getElementById('error').textContent = '';
    return await refresh();
  } catch (e) {
    document.getElementById('error').textContent = e.message;
    throw e;
  }
}, 1500);
