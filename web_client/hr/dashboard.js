/* Candor HR, the recruiting dashboard (Candor.hr.dashboard, /hr/dashboard):
 * for a job (or all) and a date range, the funnel, score histograms,
 * per-question spreads, sources, time in stage, invite rates and whether the
 * scores predict the later outcomes. Data from GET /v1/analytics/...; each
 * card has its CSV link. Charts by ECharts (vendor/echarts.min.js, loaded
 * before this file). The server never sends a group of 1-4 people: such a
 * figure comes as null with suppressed: true and shows as "<5" here.
 * Classic script, plain ES2017; loads after hr.js.
 */
(function (Candor) {
  'use strict';

  var hr = Candor.hr;
  var ui = hr.ui;
  var t = hr.t;
  var $ = Candor.dom.$;
  var el = Candor.dom.el;

  var FIGURES = ['funnel', 'scores', 'sources', 'stages', 'invites', 'validity'];
  var state = { filter: { job_id: '', from: '', to: '' }, data: null, loading: false };

  // ---- pure helpers (tests/web_client/dashboard.test.js) ----

  // The filter as a query string: only what is set, in a fixed order.
  function queryOf(filter, extra) {
    var parts = [];
    ['job_id', 'from', 'to'].forEach(function (k) {
      if (filter && filter[k]) parts.push(k + '=' + encodeURIComponent(filter[k]));
    });
    if (extra) parts.push(extra);
    return parts.join('&');
  }

  function csvUrl(name, filter) {
    return '/v1/analytics/' + name + '?' + queryOf(filter, 'format=csv');
  }

  // A count the server may have hidden: '<5' when suppressed, '—' when unknown.
  function fmtCount(n, suppressed) {
    if (suppressed) return '<5';
    if (typeof n !== 'number' || !isFinite(n)) return '—';
    return String(n);
  }

  // A {n, suppressed} cell.
  function fmtCell(cell) {
    return cell ? fmtCount(cell.n, cell.suppressed) : '—';
  }

  // A rate (0..1) as a percentage with one decimal; '—' when null.
  function fmtRate(v) {
    if (typeof v !== 'number' || !isFinite(v)) return '—';
    return (Math.round(v * 1000) / 10).toFixed(1) + '%';
  }

  function fmtNumber(v, digits) {
    if (typeof v !== 'number' || !isFinite(v)) return '—';
    return v.toFixed(digits === undefined ? 1 : digits);
  }

  // Seconds as minutes, hours or days in lang's words; '—' when null.
  function fmtDuration(sec, lang) {
    if (typeof sec !== 'number' || !isFinite(sec)) return '—';
    var zh = lang === 'zh';
    if (sec < 60) return zh ? '<1 分钟' : '<1 min';
    if (sec < 3600) return Math.round(sec / 60) + (zh ? ' 分钟' : ' min');
    if (sec < 86400) return (sec / 3600).toFixed(1) + (zh ? ' 小时' : ' h');
    return (sec / 86400).toFixed(1) + (zh ? ' 天' : ' d');
  }

  // A 95% interval as [low, high]; '—' when there is none.
  function fmtCI(low, high) {
    if (typeof low !== 'number' || typeof high !== 'number') return '—';
    return '[' + low.toFixed(2) + ', ' + high.toFixed(2) + ']';
  }

  // The funnel's stages as chart items: suppressed stages have no value (and say <5).
  function funnelItems(figure, label) {
    return ((figure && figure.stages) || []).map(function (s) {
      return {
        name: label(s.stage),
        value: s.suppressed ? null : s.n,
        suppressed: !!s.suppressed,
        text: label(s.stage) + ': ' + fmtCount(s.n, s.suppressed) + (s.conversion === null || s.conversion === undefined ? '' : ' (' + fmtRate(s.conversion) + ')')
      };
    });
  }

  // A histogram as [labels, values, suppressed flags] (a suppressed bin is 0 high, labelled <5).
  function histogramSeries(hist) {
    var bins = (hist && hist.bins) || [];
    return {
      labels: bins.map(function (b) { return b.from + '–' + b.to; }),
      values: bins.map(function (b) { return b.suppressed ? 0 : (b.n || 0); }),
      suppressed: bins.map(function (b) { return !!b.suppressed; })
    };
  }

  // Per-question spreads as box plot rows [p10, p25, p50, p75, p90]; a suppressed question has none.
  function boxRows(questions) {
    return (questions || []).map(function (q) {
      var name = q.question_id + (q.alternative ? ' / ' + q.alternative : '');
      var box = q.suppressed || q.p50 === null || q.p50 === undefined ? null : [q.p10, q.p25, q.p50, q.p75, q.p90];
      return { name: name, box: box, n: q.n, suppressed: !!q.suppressed };
    });
  }

  // A validity row's text: rho with n and CI, or why there is none.
  function validityText(row) {
    if (row.suppressed || row.note === 'needs at least 5') return t('dash_needs_5');
    if (row.rho === null || row.rho === undefined) return row.note === 'no spread' ? t('dash_no_spread') : '—';
    return row.rho.toFixed(2);
  }

  // ---- the page ----
  async function open() {
    hr.setView('dashboard');
    try {
      if (!ui.jobs) {
        var data = await hr.api('GET', '/v1/jobs');
        ui.jobs = (data && data.jobs) || [];
      }
      renderJobs();
      await load();
    } catch (err) {
      hr.handleError(err);
    }
  }

  async function load() {
    var q = queryOf(state.filter);
    state.loading = true;
    var results = await Promise.all(FIGURES.map(function (name) {
      return hr.api('GET', '/v1/analytics/' + name + (q ? '?' + q : ''));
    }));
    state.loading = false;
    state.data = {};
    FIGURES.forEach(function (name, i) { state.data[name] = results[i]; });
    render();
  }

  function renderJobs() {
    var select = $('dash-job');
    if (!select) return;
    var current = state.filter.job_id;
    Candor.dom.clear(select);
    var all = el('option', null, t('dash_all_jobs'));
    all.value = '';
    select.appendChild(all);
    (ui.jobs || []).forEach(function (j) {
      var o = el('option', null, hr.locText(j.title) || j.id);
      o.value = j.id;
      select.appendChild(o);
    });
    select.value = current;
  }

  // A job's title in the page's language, from the jobs list; its id when unknown.
  function jobTitle(id) {
    var found = (ui.jobs || []).filter(function (j) { return j.id === id; })[0];
    return found ? (hr.locText(found.title) || id) : id;
  }

  function stageLabel(stage) { return hr.labelOf('dash_stage_', stage); }

  function chart(id) {
    var node = $(id);
    if (!node || !window.echarts) return null;
    var c = window.echarts.getInstanceByDom(node) || window.echarts.init(node, null, { renderer: 'canvas' });
    return c;
  }

  function render() {
    renderJobs();
    FIGURES.forEach(function (name) {
      var a = $('dash-csv-' + name);
      if (a) a.href = csvUrl(name, state.filter);
    });
    var d = state.data;
    if (!d) return;
    var total = d.funnel && d.funnel.applications;
    $('dash-total').textContent = t('dash_total', { n: fmtCount(total, d.funnel && d.funnel.suppressed) });
    renderFunnel(d.funnel);
    renderHistogram('dash-hist-match', d.scores && d.scores.match, t('dash_match'));
    renderHistogram('dash-hist-interview', d.scores && d.scores.interview, t('dash_interview'));
    renderQuestions(d.scores && d.scores.questions);
    renderSources(d.sources && d.sources.sources);
    renderStages(d.stages && d.stages.stages);
    renderInvites(d.invites);
    renderValidity(d.validity && d.validity.correlations);
    resize(); // the window may have changed while the view was hidden
  }

  function renderFunnel(figure) {
    var items = funnelItems(figure, stageLabel);
    var c = chart('dash-funnel');
    if (c) {
      c.setOption({
        animation: false,
        tooltip: { trigger: 'item', formatter: function (p) { return p.data.text; } },
        series: [{
          type: 'funnel', sort: 'none', left: '10%', width: '80%', minSize: '8%', gap: 2,
          label: { show: true, position: 'inside', formatter: function (p) { return p.data.text; } },
          data: items.map(function (it) { return { name: it.name, value: it.suppressed ? 0 : it.value, text: it.text }; })
        }]
      }, true);
    }
    var body = $('dash-funnel-body');
    Candor.dom.clear(body);
    ((figure && figure.stages) || []).forEach(function (s) {
      var tr = el('tr');
      tr.setAttribute('data-stage', s.stage);
      tr.appendChild(el('td', null, stageLabel(s.stage)));
      tr.appendChild(el('td', 'num', fmtCount(s.n, s.suppressed)));
      tr.appendChild(el('td', 'num', fmtRate(s.conversion)));
      tr.appendChild(el('td', 'num', fmtRate(s.drop_off)));
      tr.appendChild(el('td', 'num', s.dropped_suppressed ? '<5' : fmtCount(s.dropped, false)));
      body.appendChild(tr);
    });
    var pass = figure && figure.interview_pass_rate;
    $('dash-pass-rate').textContent = t('dash_pass_rate', {
      rate: fmtRate(pass && pass.rate), advanced: fmtCell(pass && pass.advanced), decided: fmtCell(pass && pass.decided)
    });
  }

  function renderHistogram(id, hist, title) {
    var s = histogramSeries(hist);
    var c = chart(id);
    if (!c) return;
    c.setOption({
      animation: false,
      title: { text: title + ' (n = ' + fmtCount(hist && hist.n, hist && hist.suppressed) + ')', textStyle: { fontSize: 13 } },
      grid: { left: 40, right: 10, top: 40, bottom: 30 },
      tooltip: { trigger: 'axis' },
      xAxis: { type: 'category', data: s.labels, axisLabel: { fontSize: 10 } },
      yAxis: { type: 'value', minInterval: 1 },
      series: [{
        type: 'bar',
        data: s.values.map(function (v, i) {
          return s.suppressed[i]
            ? { value: 0, label: { show: true, position: 'top', formatter: '<5', color: '#888' } }
            : v;
        }),
        itemStyle: { color: '#3a6ea5' }
      }]
    }, true);
  }

  function renderQuestions(questions) {
    var rows = boxRows(questions);
    var c = chart('dash-questions');
    if (c) {
      c.setOption({
        animation: false,
        grid: { left: 120, right: 20, top: 20, bottom: 30 },
        tooltip: { trigger: 'item' },
        xAxis: { type: 'value', min: 0, max: 100 },
        yAxis: { type: 'category', data: rows.map(function (r) { return r.name + ' (n ' + fmtCount(r.n, r.suppressed) + ')'; }) },
        series: [{ type: 'boxplot', data: rows.map(function (r) { return r.box || [null, null, null, null, null]; }) }]
      }, true);
    }
    $('dash-questions-empty').hidden = rows.length > 0;
  }

  function cellRow(values, attrs) {
    var tr = el('tr');
    if (attrs) Object.keys(attrs).forEach(function (k) { tr.setAttribute(k, attrs[k]); });
    values.forEach(function (v, i) { tr.appendChild(el('td', i ? 'num' : null, v)); });
    return tr;
  }

  function renderSources(items) {
    var body = $('dash-sources-body');
    Candor.dom.clear(body);
    (items || []).forEach(function (s) {
      var hidden = s.suppressed;
      body.appendChild(cellRow([
        s.source === '(none)' ? t('dash_no_source') : s.source,
        fmtCount(s.applications, hidden),
        hidden || (s.suppressed_fields || []).indexOf('interviewed') >= 0 ? '<5' : fmtCount(s.interviewed),
        fmtRate(s.pass_rate),
        fmtNumber(s.mean_match_score),
        fmtNumber(s.mean_interview_score),
        hidden || (s.suppressed_fields || []).indexOf('advanced') >= 0 ? '<5' : fmtCount(s.advanced),
        s.cost === null || s.cost === undefined ? '—' : fmtNumber(s.cost, 0) + ' ' + s.currency,
        s.cost_per_hire === null || s.cost_per_hire === undefined ? '—' : fmtNumber(s.cost_per_hire, 0) + ' ' + s.currency
      ], { 'data-source': s.source }));
    });
    $('dash-sources-empty').hidden = (items || []).length > 0;
  }

  function renderStages(items) {
    var body = $('dash-stages-body');
    Candor.dom.clear(body);
    (items || []).forEach(function (s) {
      body.appendChild(cellRow([stageLabel(s.stage), fmtCount(s.n, s.suppressed), fmtDuration(s.p50_s, ui.lang), fmtDuration(s.p90_s, ui.lang)],
        { 'data-stage': s.stage }));
    });
  }

  function renderInvites(fig) {
    var body = $('dash-invites-body');
    Candor.dom.clear(body);
    if (!fig) return;
    [['invited', null], ['opened', 'open_rate'], ['started', 'start_rate'], ['completed', 'completion_rate']].forEach(function (pair) {
      body.appendChild(cellRow([t('dash_inv_' + pair[0]), fmtCell(fig[pair[0]]), pair[1] ? fmtRate(fig[pair[1]]) : ''], { 'data-figure': pair[0] }));
    });
  }

  function renderValidity(rows) {
    var body = $('dash-validity-body');
    Candor.dom.clear(body);
    (rows || []).forEach(function (r) {
      var job = r.job_id === '(all)' ? t('dash_all_jobs') : jobTitle(r.job_id);
      body.appendChild(cellRow([
        job, hr.labelOf('dash_score_', r.score), hr.labelOf('dash_outcome_', r.outcome),
        fmtCount(r.n, r.suppressed), validityText(r), fmtCI(r.ci_low, r.ci_high)
      ], { 'data-job': r.job_id, 'data-score': r.score, 'data-outcome': r.outcome }));
    });
  }

  function resize() {
    if (!window.echarts) return;
    ['dash-funnel', 'dash-hist-match', 'dash-hist-interview', 'dash-questions'].forEach(function (id) {
      var node = $(id);
      var c = node && window.echarts.getInstanceByDom(node);
      if (c) c.resize();
    });
  }

  function init() {
    var form = $('dash-filter');
    if (!form) return;
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      state.filter = { job_id: $('dash-job').value, from: $('dash-from').value, to: $('dash-to').value };
      load().catch(hr.handleError);
    });
    window.addEventListener('resize', resize);
  }

  hr.dashboard = {
    init: init,
    open: open,
    render: render,
    snapshot: function () { return { filter: state.filter, loaded: !!state.data, loading: state.loading }; },
    // pure helpers, for tests
    queryOf: queryOf,
    csvUrl: csvUrl,
    fmtCount: fmtCount,
    fmtCell: fmtCell,
    fmtRate: fmtRate,
    fmtDuration: fmtDuration,
    fmtCI: fmtCI,
    funnelItems: funnelItems,
    histogramSeries: histogramSeries,
    boxRows: boxRows,
    validityText: validityText
  };
})(window.Candor);
