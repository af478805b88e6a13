/* Candor HR, the auditor's view (Candor.hr.audit, /hr/audit), for roles with
 * audit.read or bias.read (auditor, admin):
 *
 *   the audit trail (audit.read): the newest entries of GET /v1/audit with its
 *   filters (action, actor, target, from / to), "next page" by the API's
 *   next_cursor, a CSV link with the same filters, and "verify chain"
 *   (GET /v1/audit/verify: intact with the count, or the first bad entry);
 *
 *   the bias audit (bias.read): a job (GET /v1/jobs) and a date range, "open
 *   report" (/v1/audits/bias?format=html in a new tab), "download CSV", and a
 *   short summary (applicants, flags) from the JSON.
 *
 * Each card is marked data-perm in hr.html, so a role sees only its own.
 * Reading the trail or the bias audit is itself an audit entry (server side).
 * Classic script, plain ES2017; loads after hr.js.
 */
(function (Candor) {
  'use strict';

  var hr = Candor.hr;
  var ui = hr.ui;
  var t = hr.t;
  var $ = Candor.dom.$;
  var el = Candor.dom.el;

  Object.assign(hr.STRINGS.zh, {
    nav_audit: '审计',
    audit_title: '审计',
    audit_trail: '操作日志',
    audit_trail_hint: '谁在何时对什么做了什么；每条记录以哈希链与上一条相连，改动或删除可被发现。',
    audit_action: '操作',
    audit_actor: '操作人',
    audit_target_type: '对象类型',
    audit_target_id: '对象 ID',
    audit_from: '从',
    audit_to: '到',
    audit_apply: '筛选',
    audit_clear: '清除筛选',
    audit_csv: '下载 CSV',
    audit_verify: '校验哈希链',
    audit_verifying: '正在校验…',
    audit_verify_ok: '哈希链完整：共 {n} 条记录',
    audit_verify_bad: '第 {id} 条记录校验失败：{reason}（此前 {n} 条完好）',
    audit_col_id: '#',
    audit_col_at: '时间',
    audit_col_actor: '操作人',
    audit_col_role: '角色',
    audit_col_action: '操作',
    audit_col_target: '对象',
    audit_col_address: '地址',
    audit_col_details: '详情',
    audit_empty: '没有符合条件的记录。',
    audit_shown: '显示 {n} 条',
    audit_head: '最新记录 #{id}',
    audit_next: '下一页（更早）',
    audit_newest: '回到最新',
    bias_title: '偏差审计',
    bias_hint: '按候选人自愿填写的性别、年龄段等分组，比较各组的通过率（影响比低于阈值会被标出）。',
    bias_job: '岗位',
    bias_all_jobs: '全部岗位',
    bias_from: '从',
    bias_to: '到',
    bias_summary_run: '查看摘要',
    bias_open: '打开报告',
    bias_csv: '下载 CSV',
    bias_summary: '申请 {n} 份；标出 {flags} 组（影响比低于 {threshold}）',
    bias_flag: '{measure} · {label}：影响比 {ratio}'
  });
  Object.assign(hr.STRINGS.en, {
    nav_audit: 'Audit',
    audit_title: 'Audit',
    audit_trail: 'Audit trail',
    audit_trail_hint: 'Who did what to what, and when; each entry is chained to the one before by a hash, so an edit or a removal shows.',
    audit_action: 'Action',
    audit_actor: 'Actor',
    audit_target_type: 'Target type',
    audit_target_id: 'Target id',
    audit_from: 'From',
    audit_to: 'To',
    audit_apply: 'Filter',
    audit_clear: 'Clear filters',
    audit_csv: 'Download CSV',
    audit_verify: 'Verify chain',
    audit_verifying: 'Verifying…',
    audit_verify_ok: 'Chain intact: {n} entries',
    audit_verify_bad: 'Entry {id} does not verify: {reason} ({n} entries before it check out)',
    audit_col_id: '#',
    audit_col_at: 'Time',
    audit_col_actor: 'Actor',
    audit_col_role: 'Role',
    audit_col_action: 'Action',
    audit_col_target: 'Target',
    audit_col_address: 'Address',
    audit_col_details: 'Details',
    audit_empty: 'No entries match.',
    audit_shown: 'Shown: {n}',
    audit_head: 'Newest entry #{id}',
    audit_next: 'Next page (older)',
    audit_newest: 'Back to the newest',
    bias_title: 'Bias audit',
    bias_hint: 'Selection rates by the candidates\' voluntary self-identification (sex, age band…); impact ratios under the threshold are flagged.',
    bias_job: 'Job',
    bias_all_jobs: 'All jobs',
    bias_from: 'From',
    bias_to: 'To',
    bias_summary_run: 'Show summary',
    bias_open: 'Open report',
    bias_csv: 'Download CSV',
    bias_summary: '{n} applications; {flags} groups flagged (impact ratio under {threshold})',
    bias_flag: '{measure} · {label}: impact ratio {ratio}'
  });

  // The actions docs/audit.md lists: suggestions for the action filter (any text is allowed).
  var ACTIONS = [
    'hr.sign_in', 'hr.sign_in_failed', 'hr.sign_out', 'application.create', 'application.receive', 'application.view',
    'resume.view', 'contacts.view', 'application.invite', 'application.decide', 'application.confirm_pool',
    'application.withdraw', 'contacts.update', 'report.view', 'report.rebuild', 'recording.played', 'session.decide',
    'rules.update', 'automation.retry', 'automation.cancel', 'job.create', 'job.update', 'bank.create', 'bank.update',
    'analytics.export', 'outcome.update', 'cost.update', 'delivery.replay', 'audit.view', 'audit.export',
    'audit.verify', 'bias.viewed', 'bias.exported', 'self_id.given', 'self_id.withdrawn'
  ];
  var AUDIT_KEYS = ['action', 'actor', 'target_type', 'target_id', 'from', 'to'];
  var BIAS_KEYS = ['job_id', 'from', 'to'];

  var state = {
    filter: {}, // the audit trail's filter, as applied
    cursor: null, // the page shown: null is the newest
    entries: [],
    next: null, // the API's next_cursor
    head: null,
    verify: null, // {ok, entries, first_bad} | 'running'
    bias: null // the bias audit's JSON
  };

  // ---- pure helpers (tests/web_client/audit.test.js) ----

  // The set keys of a filter as a query string, in a fixed order, then the extra parts.
  function queryOf(keys, filter, extra) {
    var parts = [];
    keys.forEach(function (k) {
      var v = filter && filter[k];
      if (v) parts.push(k + '=' + encodeURIComponent(String(v).trim()));
    });
    (extra || []).forEach(function (p) { if (p) parts.push(p); });
    return parts.join('&');
  }

  // GET /v1/audit: a page (the cursor) or, with format 'csv', every matching entry.
  function auditUrl(filter, cursor, format) {
    var q = queryOf(AUDIT_KEYS, filter, [cursor ? 'cursor=' + encodeURIComponent(cursor) : '', format ? 'format=' + format : '']);
    return '/v1/audit' + (q ? '?' + q : '');
  }

  // GET /v1/audits/bias as json, csv or html.
  function biasUrl(filter, format) {
    var q = queryOf(BIAS_KEYS, filter, [format ? 'format=' + format : '']);
    return '/v1/audits/bias' + (q ? '?' + q : '');
  }

  // An entry's target in one cell: "type id", "type", or '—'.
  function targetOf(entry) {
    if (!entry.target_type) return '—';
    return entry.target_type + (entry.target_id ? ' ' + entry.target_id : '');
  }

  // Details (ids and counts only) as key=value pairs.
  function detailsOf(details) {
    var keys = Object.keys(details || {}).sort();
    return keys.map(function (k) {
      var v = details[k];
      return k + '=' + (Array.isArray(v) ? v.join(',') : String(v));
    }).join(' ');
  }

  // What GET /v1/audit/verify answered, as {ok, key, params}.
  function verdictOf(result) {
    if (result.ok) return { ok: true, key: 'audit_verify_ok', params: { n: result.entries } };
    var bad = result.first_bad || {};
    return { ok: false, key: 'audit_verify_bad', params: { id: bad.id, reason: bad.reason || '?', n: result.entries } };
  }

  // ---- the audit trail ----

  function readFilter() {
    var f = {};
    AUDIT_KEYS.forEach(function (k) {
      var v = $('audit-f-' + k).value.trim();
      if (v) f[k] = v;
    });
    return f;
  }

  async function loadTrail() {
    var data = await hr.api('GET', auditUrl(state.filter, state.cursor, null));
    state.entries = (data && data.entries) || [];
    state.next = data ? data.next_cursor : null;
    state.head = data ? data.head : null;
    renderTrail();
  }

  function renderTrail() {
    var body = $('audit-body');
    Candor.dom.clear(body);
    if (!state.entries.length) {
      var row = el('tr');
      var cell = el('td', 'muted', t('audit_empty'));
      cell.colSpan = 8;
      row.appendChild(cell);
      body.appendChild(row);
    }
    state.entries.forEach(function (e) {
      var tr = el('tr');
      tr.setAttribute('data-entry', String(e.id));
      tr.appendChild(el('td', 'id', String(e.id)));
      tr.appendChild(el('td', 'nowrap', hr.fmtDateTime(e.at)));
      tr.appendChild(el('td', 'id', e.actor));
      tr.appendChild(el('td', null, hr.labelOf('role_', e.role)));
      tr.appendChild(el('td', 'audit-action', e.action));
      tr.appendChild(el('td', 'id', targetOf(e)));
      tr.appendChild(el('td', 'id', e.address || '—'));
      tr.appendChild(el('td', 'audit-details', detailsOf(e.details)));
      body.appendChild(tr);
    });
    $('audit-count').textContent = t('audit_shown', { n: state.entries.length }) +
      (state.head && state.head.id ? ' · ' + t('audit_head', { id: state.head.id }) : '');
    $('audit-next').hidden = !state.next;
    $('audit-newest').hidden = !state.cursor;
    $('audit-csv').href = auditUrl(state.filter, null, 'csv');
  }

  function renderVerify() {
    var out = $('audit-verify-result');
    if (!state.verify) { out.hidden = true; return; }
    out.hidden = false;
    if (state.verify === 'running') {
      out.className = 'pill';
      out.textContent = t('audit_verifying');
      return;
    }
    var v = verdictOf(state.verify);
    out.className = v.ok ? 'pill ok' : 'pill bad';
    out.textContent = t(v.key, v.params);
  }

  async function verify() {
    $('audit-verify').disabled = true;
    state.verify = 'running';
    renderVerify();
    try {
      state.verify = await hr.api('GET', '/v1/audit/verify');
    } catch (err) {
      state.verify = null;
      hr.handleError(err);
    } finally {
      $('audit-verify').disabled = false;
      renderVerify();
    }
  }

  // ---- the bias audit ----

  function biasFilter() {
    return { job_id: $('bias-job').value, from: $('bias-from').value, to: $('bias-to').value };
  }

  function renderBiasJobs() {
    var select = $('bias-job');
    hr.fillJobSelect(select, 'bias_all_jobs', select.value);
  }

  // The links follow the form as it is typed: what opens is what is shown.
  function renderBiasLinks() {
    var f = biasFilter();
    $('bias-open').href = biasUrl(f, 'html');
    $('bias-csv').href = biasUrl(f, 'csv');
  }

  function renderBiasSummary() {
    var box = $('bias-summary');
    Candor.dom.clear(box);
    var data = state.bias;
    if (!data) { box.hidden = true; return; }
    box.hidden = false;
    var flags = data.flags || [];
    box.appendChild(el('p', flags.length ? 'bias-flagged' : null,
      t('bias_summary', { n: data.applicants, flags: flags.length, threshold: data.threshold })));
    if (flags.length) {
      var list = el('ul', 'bias-flags');
      flags.forEach(function (f) {
        list.appendChild(el('li', null, t('bias_flag', {
          measure: f.measure, label: f.label || f.group,
          ratio: typeof f.impact_ratio === 'number' ? f.impact_ratio.toFixed(2) : '—'
        })));
      });
      box.appendChild(list);
    }
  }

  async function loadBias() {
    state.bias = await hr.api('GET', biasUrl(biasFilter(), 'json'));
    renderBiasSummary();
  }

  // ---- the view ----

  function render() {
    if ($('audit-body')) renderTrail();
    renderVerify();
    renderBiasJobs();
    renderBiasLinks();
    renderBiasSummary();
  }

  async function open() {
    hr.setView('audit');
    state.verify = null;
    renderVerify();
    renderBiasLinks();
    try {
      var tasks = [];
      if (hr.signin.can('audit.read')) tasks.push(loadTrail());
      if (hr.signin.can('bias.read') && !ui.jobs) {
        tasks.push(hr.api('GET', '/v1/jobs').then(function (data) {
          ui.jobs = (data && data.jobs) || [];
          renderBiasJobs();
        }));
      } else {
        renderBiasJobs();
      }
      await Promise.all(tasks);
    } catch (err) {
      hr.handleError(err);
    }
  }

  function init() {
    var list = $('audit-actions');
    ACTIONS.forEach(function (a) {
      var o = el('option');
      o.value = a;
      list.appendChild(o);
    });
    $('audit-filter').addEventListener('submit', function (ev) {
      ev.preventDefault();
      state.filter = readFilter();
      state.cursor = null;
      loadTrail().catch(hr.handleError);
    });
    $('audit-clear').addEventListener('click', function () {
      $('audit-filter').reset();
      state.filter = {};
      state.cursor = null;
      loadTrail().catch(hr.handleError);
    });
    $('audit-next').addEventListener('click', function () {
      if (!state.next) return;
      state.cursor = state.next;
      loadTrail().catch(hr.handleError);
    });
    $('audit-newest').addEventListener('click', function () {
      state.cursor = null;
      loadTrail().catch(hr.handleError);
    });
    $('audit-verify').addEventListener('click', verify);
    $('bias-filter').addEventListener('input', renderBiasLinks);
    $('bias-filter').addEventListener('change', renderBiasLinks);
    $('bias-filter').addEventListener('submit', function (ev) {
      ev.preventDefault();
      renderBiasLinks();
      loadBias().catch(hr.handleError);
    });
  }

  hr.audit = {
    init: init,
    open: open,
    render: render,
    queryOf: queryOf,
    auditUrl: auditUrl,
    biasUrl: biasUrl,
    targetOf: targetOf,
    detailsOf: detailsOf,
    verdictOf: verdictOf,
    snapshot: function () {
      return { entries: state.entries.map(function (e) { return { id: e.id, action: e.action, actor: e.actor }; }),
        next: state.next, cursor: state.cursor, verify: state.verify === 'running' ? 'running' : (state.verify ? state.verify.ok : null) };
    }
  };
})(window.Candor);
