// The study list: state, progress and best value of every study, live.
'use strict';

function progressCell(s) {
  const done = s.completed + s.pruned + s.failed;
  if (!s.max_trials) return done + ' finished (no max_trials)';
  return '<progress max="' + s.max_trials + '" value="' + done + '"></progress> ' + done + ' / ' + s.max_trials;
}

hp.poll(async function () {
  const { studies } = await hp.get('/api/studies');
  const rows = studies.map((s) => '<tr data-study="' + hp.esc(s.name) + '">' +
    '<td><a href="/studies/' + encodeURIComponent(s.name) + '">' + hp.esc(s.name) + '</a></td>' +
    '<td class="state-' + s.state + '">' + s.state + (s.reason ? ' (' + hp.esc(s.reason) + ')' : '') + '</td>' +
    '<td>' + progressCell(s) + '</td>' +
    '<td class="num">' + s.trials + '</td><td class="num">' + s.completed + '</td>' +
    '<td class="num">' + s.pruned + '</td><td class="num">' + s.failed + '</td>' +
    '<td class="num">' + s.running + '</td>' +
    '<td>' + s.goal + ' ' + hp.esc(s.metric) + '</td>' +
    '<td class="num best">' + hp.fmt(s.best) + '</td>' +
    '<td class="num">' + (s.best_trial === null ? '' : s.best_trial) + '</td></tr>');
  document.querySelector('#studies tbody').innerHTML = rows.join('') ||
    '<tr><td colspan="11">no studies in this database yet</td></tr>';
  return true; // a new study may be submitted at any time
}, 1500);
