/* Candor HR, the jobs (Candor.hr.jobs, /hr): every job with its
 * applications counted per board column, each a link to the job's board.
 * Classic script, plain ES2017; loads after hr.js and hr/pipeline.js.
 */
(function (Candor) {
  'use strict';

  var hr = Candor.hr;
  var ui = hr.ui;
  var t = hr.t;
  var $ = Candor.dom.$;
  var el = Candor.dom.el;

  var state = { jobs: [], counts: {} }; // counts: job id -> column counts (or null while unknown)
  var COUNTED = ['screened/advance', 'screened/review', 'screened/pool', 'invited', 'interviewed', 'decided'];

  async function open() {
    try {
      await load();
      hr.setView('jobs');
    } catch (err) {
      hr.handleError(err);
    }
  }

  async function load() {
    var data = await hr.api('GET', '/v1/jobs');
    state.jobs = ((data && data.jobs) || []).filter(function (j) { return j && typeof j.id === 'string'; });
    ui.jobs = state.jobs;
    render();
    // The counts, one small list request per job (its counts come with it).
    await Promise.all(state.jobs.map(function (j) {
      return hr.api('GET', '/v1/applications?limit=1&job_id=' + encodeURIComponent(j.id)).then(function (page) {
        state.counts[j.id] = page && page.counts ? page.counts : {};
      }, function (err) {
        if (err && err.name === 'AuthError') throw err;
        state.counts[j.id] = null;
      });
    }));
    render();
  }

  function boardHref(id) { return '/hr/jobs/' + encodeURIComponent(id); }

  function render() {
    var body = $('jobs-body');
    if (!body) return;
    Candor.dom.clear(body);
    state.jobs.forEach(function (j) {
      var tr = document.createElement('tr');
      tr.setAttribute('data-job', j.id);
      var titleCell = el('td', 'job-title');
      var a = el('a', null, hr.locText(j.title) || j.id);
      a.href = boardHref(j.id);
      titleCell.appendChild(a);
      titleCell.appendChild(el('div', 'session-who', j.id + (j.version ? ' · v' + j.version : '')));
      tr.appendChild(titleCell);
      var raw = state.counts[j.id];
      var cols = raw ? hr.pipeline.columnCounts(raw) : null;
      var total = 0;
      if (raw) Object.keys(raw).forEach(function (k) { total += Number(raw[k]) || 0; });
      tr.appendChild(el('td', 'num', raw ? String(total) : '…'));
      COUNTED.forEach(function (key) {
        var n = cols ? cols[key] : null;
        tr.appendChild(el('td', 'num' + (n ? '' : ' muted'), n === null ? '…' : String(n)));
      });
      var act = el('td');
      var open = el('a', null, t('open_board'));
      open.href = boardHref(j.id);
      act.appendChild(open);
      tr.appendChild(act);
      body.appendChild(tr);
    });
    $('jobs-empty').hidden = state.jobs.length > 0;
  }

  function init() {
    $('jobs-refresh').addEventListener('click', function () { load().catch(hr.handleError); });
  }

  hr.jobs = {
    init: init,
    open: open,
    load: load,
    render: render
  };
})(window.Candor);
