/* Candor HR, the recruiting dashboard (Candor.hr.dashboard, /hr/dashboard):
 * for a job (or all) and a date range, the funnel, score histograms,
 * per-question spreads, sources, time in stage, invite rates and whether the
 * scores predict the later outcomes. Data from GET /v1/analytics/...; each
 * card has its CSV link. Charts by ECharts (vendor/echarts.min.js, loaded
 * before this file). The server never sends a group of 1-4 people: such a
 * figure comes as null with suppressed: true and shows as "<5" here.
 * Under the sources table, HR enter what a source cost (for the filter's job,
 * or all jobs): PUT /v1/analytics/sources/{source}/cost, then the table reloads.
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
  var state = { filter: { job_id: '', from: '', to: '' }, data: null, loading: false, costNote: null, costSaving: false };

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

  // Money with its currency: whole amounts without decimals, others with two; '—' when none.
  function fmtMoney(v, currency) {
    if (typeof v !== 'number' || !isFinite(v)) return '—';
    var cents = Math.round(v * 100);
    return (cents % 100 === 0 ? (cents / 100).toFixed(0) : (cents / 100).toFixed(2)) + (currency ? ' ' + currency : '');
  }

  // Full-width digits, signs, comma and point (６０００, typed with a Chinese IME) as ASCII.
  function asciiDigits(s) {
    return s.replace(/[\uFF0B\uFF0C\uFF0D\uFF0E\uFF10-\uFF19]/g, function (c) { return String.fromCharCode(c.charCodeAt(0) - 0xFEE0); });
  }

  var AMOUNT = /^(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$/;  // 6000, 6,000, 6000.50; no sign

  // The cost form's strings ({source, amount, currency}) and the filter's job
  // ('' for all jobs) as the PUT's path source and body, or {errors: {field:
  // string key}}. The currency defaults to CNY; a code is 3 capital letters.
  function costBody(form, jobId) {
    var f = form || {};
    var errors = {};
    var source = String(f.source || '').trim();
    if (!source || source.length > 64) errors.source = 'cost_err_source';
    var amount = asciiDigits(String(f.amount === undefined || f.amount === null ? '' : f.amount)).replace(/\s+/g, '');
    var cost = null;
    if (amount === '') errors.amount = 'cost_err_amount';
    else if (!AMOUNT.test(amount)) errors.amount = 'cost_err_amount_bad';
    else cost = Number(amount.replace(/,/g, ''));
    if (cost !== null && !isFinite(cost)) errors.amount = 'cost_err_amount_bad';
    var currency = String(f.currency || '').trim().toUpperCase() || 'CNY';
    if (!/^[A-Z]{3}$/.test(currency)) errors.currency = 'cost_err_currency';
    if (Object.keys(errors).length) return { source: null, body: null, errors: errors };
    var body = { cost: cost, currency: currency };
    if (jobId) body.job_id = jobId;
    return { source: source, body: body, errors: null };
  }

  // The sources a cost can be entered for: the table's, except "(none)" (no channel to pay).
  function costSources(items) {
    return (items || []).map(function (s) { return s.source; }).filter(function (name) { return name && name !== '(none)'; });
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
    hr.fillJobSelect(select, 'dash_all_jobs', state.filter.job_id);
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
        fmtMoney(s.cost, s.currency),
        fmtMoney(s.cost_per_hire, s.currency)
      ], { 'data-source': s.source }));
    });
    $('dash-sources-empty').hidden = (items || []).length > 0;
    renderCostForm(items);
  }

  // ---- a source's cost: for the filter's job, or all jobs ----
  function scopeText(jobId) {
    return jobId ? t('dash_cost_scope_job', { job: jobTitle(jobId) }) : t('dash_cost_scope_all');
  }

  function renderCostForm(items) {
    var form = $('dash-cost');
    if (!form) return;
    var select = $('dash-cost-source');
    var names = costSources(items);
    var current = select.value;
    Candor.dom.clear(select);
    names.forEach(function (name) {
      var o = el('option', null, name);
      o.value = name;
      select.appendChild(o);
    });
    if (names.indexOf(current) >= 0) select.value = current;
    $('dash-cost-save').disabled = state.costSaving || !names.length;
    $('dash-cost-scope').textContent = names.length ? scopeText(state.filter.job_id) : t('dash_cost_none');
    var note = state.costNote;
    var line = $('dash-cost-error');
    if (!note) line.textContent = '';
    else if (note.error) line.textContent = t(note.key, note.params);
    else line.textContent = t('dash_cost_saved', { source: note.source, cost: fmtMoney(note.cost, note.currency), scope: note.job_id ? jobTitle(note.job_id) : t('dash_all_jobs') });
    line.className = (note && !note.error ? 'ok-text' : 'error-text') + ' small';
  }

  // With a job picked, the source's own cost for it (the figure the row shows) to change.
  function prefillCost() {
    if (!state.filter.job_id || !state.data || !state.data.sources) return;
    var name = $('dash-cost-source').value;
    var row = (state.data.sources.sources || []).filter(function (s) { return s.source === name; })[0];
    if (row && typeof row.cost === 'number') {
      $('dash-cost-amount').value = String(row.cost);
      $('dash-cost-currency').value = row.currency || 'CNY';
    } else {
      $('dash-cost-amount').value = '';
    }
  }

  async function saveCost(ev) {
    ev.preventDefault();
    if (state.costSaving) return;
    var jobId = state.filter.job_id;
    var parsed = costBody({ source: $('dash-cost-source').value, amount: $('dash-cost-amount').value, currency: $('dash-cost-currency').value }, jobId);
    var fields = { source: 'dash-cost-source', amount: 'dash-cost-amount', currency: 'dash-cost-currency' };
    Object.keys(fields).forEach(function (k) {
      if (parsed.errors && parsed.errors[k]) $(fields[k]).setAttribute('aria-invalid', 'true');
      else $(fields[k]).removeAttribute('aria-invalid');
    });
    if (parsed.errors) {
      var first = ['source', 'amount', 'currency'].filter(function (k) { return parsed.errors[k]; })[0];
      state.costNote = { key: parsed.errors[first], params: null, error: true };
      renderCostForm(state.data && state.data.sources && state.data.sources.sources);
      $(fields[first]).focus();
      return;
    }
    state.costSaving = true;
    state.costNote = null;
    renderCostForm(state.data && state.data.sources && state.data.sources.sources);
    try {
      var saved = await hr.api('PUT', '/v1/analytics/sources/' + encodeURIComponent(parsed.source) + '/cost', parsed.body);
      $('dash-cost-currency').value = saved.currency;
      state.costNote = { error: false, source: saved.source, cost: saved.cost, currency: saved.currency, job_id: saved.job_id };
      await load();  // the table's cost and cost per hire, as the server now computes them
    } catch (err) {
      if (err && err.name === 'HttpError') state.costNote = { key: 'dash_cost_refused', params: { detail: err.detail }, error: true };
      else if (err && err.name === 'AuthError') hr.handleError(err);
      else state.costNote = { key: 'dash_cost_refused', params: { detail: (err && err.message) || String(err) }, error: true };
    } finally {
      state.costSaving = false;
      renderCostForm(state.data && state.data.sources && state.data.sources.sources);
    }
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
      state.costNote = null;
      load().then(prefillCost).catch(hr.handleError);
    });
    var cost = $('dash-cost');
    if (cost) {
      cost.addEventListener('submit', saveCost);
      $('dash-cost-source').addEventListener('change', prefillCost);
    }
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
    validityText: validityText,
    fmtMoney: fmtMoney,
    costBody: costBody,
    costSources: costSources
  };
})(window.Candor);
