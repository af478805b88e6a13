/* Candor HR, a candidate's page (Candor.hr.application, /hr/applications/<id>):
 * the match table row by row (status, points, how many pieces of evidence),
 * the parsed profile and the resume's own text with the selected row's
 * evidence marked at its offsets, the interview report's summary once one
 * is made, the timeline, and a person's steps: invite (the one-time link,
 * with a copy button), confirm the pool, decide, withdraw; and the later
 * outcomes HR record (on-site result, probation rating, 12-month performance).
 * The resume is the candidate's text, untrusted: it only ever goes in as text.
 * Classic script, plain ES2017; loads after hr.js and hr/pipeline.js.
 */
(function (Candor) {
  'use strict';

  var hr = Candor.hr;
  var ui = hr.ui;
  var t = hr.t;
  var P = hr.pipeline;
  var $ = Candor.dom.$;
  var el = Candor.dom.el;

  var state = { app: null, resume: null, timeline: [], report: null, row: null, inviteUrl: null, contacts: null,
    outcome: null, outcomeNote: null, outcomeSaving: false };

  async function open(id) {
    ui.applicationId = id;
    state.app = null;
    state.resume = null;
    state.timeline = [];
    state.report = null;
    state.row = null;
    state.inviteUrl = null;
    state.contacts = null;
    state.outcome = null;
    state.outcomeNote = null;
    state.outcomeSaving = false;
    fillOutcomeForm(outcomeForm(null));
    renderOutcome();
    $('app-action-error').textContent = '';
    hr.setView('application');
    try {
      await load(id);
    } catch (err) {
      hr.handleError(err);
    }
    loadOutcome(id);
    if (hr.automation) await hr.automation.showActions(id);
  }

  async function load(id) {
    var base = '/v1/applications/' + encodeURIComponent(id);
    var got = await Promise.all([hr.api('GET', base), hr.api('GET', base + '/resume'), hr.api('GET', base + '/timeline')]);
    if (ui.applicationId !== id) return;
    state.app = got[0];
    state.resume = got[1];
    state.timeline = (got[2] && got[2].entries) || [];
    if (state.app && state.app.invite_url) state.inviteUrl = state.app.invite_url;
    if (state.row === null) state.row = firstRowWithEvidence();
    render();
    loadReport();
    loadContacts();
  }

  // How many WeCom external-contact messages this candidate got this month (WeCom allows a few).
  function loadContacts() {
    var app = state.app;
    if (!app) return;
    hr.api('GET', '/v1/applications/' + encodeURIComponent(app.id) + '/contacts').then(function (contacts) {
      if (state.app !== app) return;
      state.contacts = contacts;
      renderWeComQuota();
    }, function () { /* an older server: no line */ });
  }

  function weComQuotaText(contacts) {
    var q = contacts && contacts.wecom_external;
    if (!q || !contacts.channels || !contacts.channels.wecom_external) return '';
    return t('wecom_quota', { sent: q.sent, limit: q.limit });
  }

  function renderWeComQuota() {
    var anchor = $('app-source');
    if (!anchor) return;
    var node = $('app-wecom-quota');
    if (!node) {
      node = el('span', 'muted small wecom-quota');
      node.id = 'app-wecom-quota';
      anchor.parentNode.insertBefore(node, anchor.nextSibling);
    }
    var text = weComQuotaText(state.contacts);
    node.textContent = text ? ' · ' + text : '';
    node.hidden = !text;
    var q = state.contacts && state.contacts.wecom_external;
    node.classList.toggle('warn', !!(text && q.sent >= q.limit));
    node.title = text ? t('wecom_quota_hint') : '';
  }

  function loadReport() {
    var app = state.app;
    if (!app || !app.session_id) return;
    hr.api('GET', '/v1/sessions/' + encodeURIComponent(app.session_id) + '/report').then(function (report) {
      if (state.app !== app) return;
      state.report = report;
      renderReport();
    }, function () { /* 404 until the interview ends */ });
  }

  function rows() {
    var s = state.app && state.app.screening;
    return s && Array.isArray(s.rows) ? s.rows : [];
  }

  function firstRowWithEvidence() {
    var r = rows();
    for (var i = 0; i < r.length; i++) if (r[i].evidence && r[i].evidence.length) return i;
    return null;
  }

  // A value the server names, as the page's words where it has them.
  // asked: a requirement ("2 年以上"); otherwise what the resume shows ("7.2 年").
  function valueText(kind, v, asked) {
    if (v === null || v === undefined || v === '') return '—';
    if (typeof v === 'object') return hr.locText(v) || JSON.stringify(v);
    var s = String(v);
    if (kind === 'education') return hr.labelOf('edu_', s);
    if (kind === 'language') return hr.labelOf('lang_', s);
    if (kind === 'years' && /^\d+(\.\d+)?$/.test(s)) return t(asked ? 'years_n' : 'years_have', { n: s });
    return s;
  }

  function render() {
    if (ui.view !== 'application') return;
    var app = state.app;
    if (!app) return;
    var profile = (app.candidate && app.candidate.profile) || {};
    $('app-name').textContent = profile.name || app.id;
    var st = hr.statusLabel(app.state, app.outcome);
    $('app-state').textContent = st;
    $('app-state').setAttribute('data-state', app.state + (app.outcome ? '/' + app.outcome : ''));
    var score = app.screening && typeof app.screening.score === 'number' ? app.screening.score : null;
    $('app-score').textContent = t('card_match') + ' ' + P.fmtScore(score);
    $('app-score').className = 'score-badge score-' + ((app.screening && app.screening.decision) || 'none');
    $('app-source').textContent = app.source ? hr.labelOf('src_', app.source) : '';
    $('app-back').href = '/hr/jobs/' + encodeURIComponent(app.job_id);
    $('app-invite').hidden = app.state !== 'screened';
    $('app-confirm-pool').hidden = !(app.state === 'screened' && app.outcome === 'pool');
    $('app-withdraw').hidden = app.state === 'withdrawn';
    $('app-decide').disabled = app.state === 'applied' || app.state === 'withdrawn';
    renderInvite();
    renderMatch();
    renderResume();
    renderReport();
    renderTimeline();
    renderDuplicates();
    renderOutcome();
  }

  // The later attempts by the same person (same phone or e-mail) for this job.
  function renderDuplicates() {
    var dups = (state.app && Array.isArray(state.app.duplicates)) ? state.app.duplicates : [];
    $('dups-card').hidden = !dups.length;
    var ul = $('dups');
    Candor.dom.clear(ul);
    dups.forEach(function (d) {
      ul.appendChild(el('li', null, t('dup_line', {
        at: hr.fmtDateTime(d.at),
        source: d.source ? hr.labelOf('src_', d.source) : '—',
        file: d.filename ? ' · ' + d.filename : ''
      })));
    });
  }

  function renderInvite() {
    var url = state.inviteUrl;
    $('app-invite-box').hidden = !url;
    $('app-invite-link').value = url || '';
    var watch = $('app-watch');
    var sid = state.app && state.app.session_id;
    watch.hidden = !sid;
    if (sid) watch.href = '/hr/sessions/' + encodeURIComponent(sid);
  }

  function renderMatch() {
    var body = $('match-body');
    Candor.dom.clear(body);
    rows().forEach(function (r, i) {
      var tr = el('tr', 'match-row' + (state.row === i ? ' active' : ''));
      tr.setAttribute('data-row', String(i));
      tr.setAttribute('data-status', r.status || '');
      tr.tabIndex = 0;
      var req = el('td');
      req.appendChild(el('span', 'muted small', hr.labelOf('kind_', r.kind) + ' '));
      req.appendChild(el('span', 'req-asks', valueText(r.kind, r.asks, true)));
      if (r.how) req.appendChild(el('div', 'muted small', hr.pipeline.howText(r.how, t)));
      tr.appendChild(req);
      tr.appendChild(el('td', null, valueText(r.kind, r.shows)));
      var status = el('td');
      status.appendChild(el('span', 'badge badge-' + (r.status || 'none'), hr.labelOf('m_', r.status || '—')));
      tr.appendChild(status);
      tr.appendChild(el('td', 'num', P.fmtPoints(r.points, r.max_points)));
      var n = r.evidence ? r.evidence.length : 0;
      tr.appendChild(el('td', 'num', n ? t('m_evidence_n', { n: n }) : '—'));
      function pick() {
        state.row = i;
        renderMatch();
        renderResume(true);
      }
      tr.addEventListener('click', pick);
      tr.addEventListener('keydown', function (ev) { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); pick(); } });
      body.appendChild(tr);
    });
    var s = state.app && state.app.screening;
    if (s) {
      var tr = el('tr', 'match-total');
      var td = el('td', null, t('match_total', { score: P.fmtScore(s.score), advance: P.fmtScore(s.advance_at), pool: P.fmtScore(s.pool_below) }));
      td.colSpan = 5;
      tr.appendChild(td);
      body.appendChild(tr);
    }
  }

  function renderProfile() {
    var dl = $('profile');
    Candor.dom.clear(dl);
    var p = (state.app && state.app.candidate && state.app.candidate.profile) || {};
    function add(key, value) {
      dl.appendChild(el('dt', null, t(key)));
      dl.appendChild(el('dd', null, value === null || value === undefined || value === '' ? '—' : value));
    }
    function list(v, kind) {
      return Array.isArray(v) && v.length ? v.map(function (x) { return valueText(kind, x); }).join('、') : '—';
    }
    add('pf_education', valueText('education', p.education));
    add('pf_years', typeof p.years === 'number' ? String(p.years) : '—');
    add('pf_skills', list(p.skills));
    add('pf_certificates', list(p.certificates));
    add('pf_languages', list(p.languages, 'language'));
    if (Array.isArray(p.experience) && p.experience.length) {
      add('pf_experience', p.experience.map(function (x) {
        if (!x || typeof x !== 'object') return String(x);
        return [x.employer, x.title].filter(function (y) { return typeof y === 'string' && y; }).join(' · ');
      }).filter(Boolean).join('；'));
    }
  }

  function renderResume(scroll) {
    renderProfile();
    var r = state.resume || {};
    var info = (state.app && state.app.resume) || r.resume || {};
    $('resume-file').textContent = info.filename || '';
    var review = Array.isArray(info.needs_review) ? info.needs_review : [];
    $('resume-review').hidden = !review.length;
    $('resume-review').textContent = review.length ? t('resume_review', {
      fields: review.map(function (x) { return typeof x === 'string' ? x : (x && (x.field || x.reason)) || JSON.stringify(x); }).join('、')
    }) : '';
    var pre = $('resume-text');
    Candor.dom.clear(pre);
    var text = typeof r.text === 'string' ? r.text : '';
    if (!text) { pre.appendChild(document.createTextNode(t('resume_empty'))); return; }
    var row = state.row !== null ? rows()[state.row] : null;
    var spans = row && row.evidence ? row.evidence : [];
    P.segments(text, spans).forEach(function (seg) {
      if (seg.mark) pre.appendChild(el('mark', 'evidence', seg.text));
      else pre.appendChild(document.createTextNode(seg.text));
    });
    if (scroll) {
      var first = pre.querySelector('mark');
      if (first && first.scrollIntoView) first.scrollIntoView({ block: 'center', behavior: 'smooth' });
    }
  }

  function renderReport() {
    var card = $('report-card');
    var rep = state.report;
    card.hidden = !rep;
    if (!rep) return;
    $('report-overall').textContent = P.fmtScore(P.reportOverall(rep));
    var body = P.reportBody(rep) || {};
    var rec = body.recommendation;
    $('report-band').textContent = rec && typeof rec === 'object' ? (hr.locText(rec.label) || rec.band || '—') : '—';
    $('report-link').href = '/v1/sessions/' + encodeURIComponent(state.app.session_id) + '/report?format=html';
  }

  function renderTimeline() {
    var ol = $('timeline');
    Candor.dom.clear(ol);
    state.timeline.forEach(function (e) {
      var li = el('li', 'tl-' + (e.action || ''));
      li.setAttribute('data-action', e.action || '');
      var head = el('div', 'tl-head');
      head.appendChild(el('strong', null, hr.labelOf('act_', e.action)));
      var to = e.to ? hr.statusLabel(e.to, e.outcome) : '';
      if (to) head.appendChild(el('span', 'pill small', to));
      li.appendChild(head);
      li.appendChild(el('div', 'muted small', hr.fmtDateTime(e.at) + ' · ' + hr.labelOf('actor_', e.actor || 'system')));
      var score = e.details && typeof e.details.score === 'number' ? e.details.score : null;
      if (e.action === 'screen' && score !== null) {  // the server's reason is English: say it in the page's words
        li.appendChild(el('div', 'small tl-reason', t('tl_screened', { score: hr.pipeline.fmtScore(score) })));
      } else if (e.reason) {
        li.appendChild(el('div', 'small tl-reason', e.reason));
      }
      var note = hr.automation ? hr.automation.noteLine(e, t) : '';  // a rule's step: its channel and rule
      if (note) li.appendChild(el('div', 'small muted tl-note', note));
      ol.appendChild(li);
    });
  }

  // ---- later outcomes (the 后续结果 card): on-site result, probation rating, 12-month performance ----
  // Pure helpers first (tests/web_client/outcomes.test.js).

  // Full-width digits and signs (３.５, typed with a Chinese IME) as ASCII.
  function asciiDigits(s) {
    return s.replace(/[\uFF10-\uFF19\uFF0B\uFF0D\uFF0E]/g, function (c) { return String.fromCharCode(c.charCodeAt(0) - 0xFEE0); });
  }

  var DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

  // The card's values (the form's strings: onsite '' | 'pass' | 'fail',
  // probation_rating '' | '1'..'5', performance_12m '' | a number) as the
  // PUT body, every field (the PUT is the whole record: a field left out is
  // cleared); '' is null ("not yet"). {body, errors: null}, or {body: null,
  // errors: {field: string key}} naming each field that is wrong.
  function outcomeBody(form) {
    var f = form || {};
    var errors = {};
    var onsite = String(f.onsite || '');
    if (onsite !== '' && onsite !== 'pass' && onsite !== 'fail') errors.onsite = 'oc_err_onsite';
    var rating = String(f.probation_rating || '').trim();
    if (rating !== '' && !/^[1-5]$/.test(rating)) errors.probation_rating = 'oc_err_probation';
    var perf = asciiDigits(String(f.performance_12m === undefined || f.performance_12m === null ? '' : f.performance_12m).trim());
    var perfValue = perf === '' ? null : Number(perf);
    if (perf !== '' && !(DECIMAL.test(perf) && isFinite(perfValue))) errors.performance_12m = 'oc_err_performance';
    if (Object.keys(errors).length) return { body: null, errors: errors };
    return {
      body: { onsite: onsite || null, probation_rating: rating === '' ? null : Number(rating), performance_12m: perfValue },
      errors: null
    };
  }

  // A record from GET/PUT .../outcomes (or null) as the form's strings.
  function outcomeForm(record) {
    var r = record || {};
    return {
      onsite: r.onsite === 'pass' || r.onsite === 'fail' ? r.onsite : '',
      probation_rating: typeof r.probation_rating === 'number' && isFinite(r.probation_rating) ? String(r.probation_rating) : '',
      performance_12m: typeof r.performance_12m === 'number' && isFinite(r.performance_12m) ? String(r.performance_12m) : ''
    };
  }

  // Who recorded it and when, in tr's words; "nothing recorded yet" before the first save.
  function outcomeMeta(record, tr, when) {
    if (!record || !record.recorded_at) return tr('oc_never');
    var by = record.recorded_by ? hr.labelOf('actor_', record.recorded_by) : '—';
    return tr('oc_recorded', { by: by, at: when(record.recorded_at) });
  }

  // Outcomes usually follow a decision; the card says so otherwise (but still takes one).
  function outcomeExpected(app) {
    return !!app && app.state === 'decided';
  }

  var OUTCOME_FIELDS = { onsite: 'oc-onsite', probation_rating: 'oc-probation', performance_12m: 'oc-performance' };

  function fillOutcomeForm(form) {
    Object.keys(OUTCOME_FIELDS).forEach(function (k) {
      var node = $(OUTCOME_FIELDS[k]);
      if (!node) return;
      node.value = form[k];
      node.removeAttribute('aria-invalid');
    });
  }

  function readOutcomeForm() {
    var form = {};
    Object.keys(OUTCOME_FIELDS).forEach(function (k) { form[k] = $(OUTCOME_FIELDS[k]).value; });
    return form;
  }

  function loadOutcome(id) {
    hr.api('GET', '/v1/applications/' + encodeURIComponent(id) + '/outcomes').then(function (record) {
      if (ui.applicationId !== id) return;
      state.outcome = record;
      fillOutcomeForm(outcomeForm(record));
      renderOutcome();
    }, function (err) {
      if (ui.applicationId !== id) return;
      if (err && err.name === 'AuthError') { hr.handleError(err); return; }
      state.outcomeNote = { key: 'oc_refused', params: { detail: (err && (err.detail || err.message)) || String(err) }, error: true };
      renderOutcome();
    });
  }

  function renderOutcome() {
    if (!$('outcome-card')) return;
    $('oc-hint').hidden = !state.app || outcomeExpected(state.app);
    $('oc-meta').textContent = outcomeMeta(state.outcome, t, hr.fmtDateTime);
    var note = state.outcomeNote;
    var err = $('oc-error');
    err.textContent = note ? t(note.key, note.params) : '';
    err.className = (note && !note.error ? 'ok-text' : 'error-text') + ' small';
    var save = $('oc-save');
    save.disabled = state.outcomeSaving || !state.app;
    save.textContent = t(state.outcomeSaving ? 'oc_saving' : 'oc_save');
  }

  async function saveOutcome(ev) {
    if (ev) ev.preventDefault();
    var app = state.app;
    if (!app || state.outcomeSaving) return;
    var parsed = outcomeBody(readOutcomeForm());
    Object.keys(OUTCOME_FIELDS).forEach(function (k) {
      var node = $(OUTCOME_FIELDS[k]);
      if (parsed.errors && parsed.errors[k]) node.setAttribute('aria-invalid', 'true');
      else node.removeAttribute('aria-invalid');
    });
    if (parsed.errors) {
      var keys = Object.keys(OUTCOME_FIELDS).filter(function (k) { return parsed.errors[k]; });
      state.outcomeNote = { key: parsed.errors[keys[0]], params: null, error: true };
      renderOutcome();
      $(OUTCOME_FIELDS[keys[0]]).focus();
      return;
    }
    state.outcomeSaving = true;
    state.outcomeNote = null;
    renderOutcome();
    try {
      var record = await hr.api('PUT', '/v1/applications/' + encodeURIComponent(app.id) + '/outcomes', parsed.body);
      if (state.app !== app) return;
      state.outcome = record;
      fillOutcomeForm(outcomeForm(record));  // read back: what the server keeps
      state.outcomeNote = { key: 'oc_saved', params: null, error: false };
    } catch (err) {
      if (err && err.name === 'HttpError') state.outcomeNote = { key: 'oc_refused', params: { detail: err.detail }, error: true };
      else if (err && err.name === 'AuthError') hr.handleError(err);
      else state.outcomeNote = { key: 'oc_refused', params: { detail: (err && err.message) || String(err) }, error: true };
    } finally {
      state.outcomeSaving = false;
      renderOutcome();
    }
  }

  // ---- a person's steps ----
  async function act(path, body) {
    var app = state.app;
    if (!app) return;
    $('app-action-error').textContent = '';
    var buttons = document.querySelectorAll('#application-view button');
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
    try {
      var moved = await hr.api('POST', '/v1/applications/' + encodeURIComponent(app.id) + '/' + path, body);
      if (moved && moved.invite_url) state.inviteUrl = moved.invite_url;
      await load(app.id);
    } catch (err) {
      if (err && err.name === 'HttpError') $('app-action-error').textContent = t('action_failed', { detail: err.detail });
      else hr.handleError(err);
    } finally {
      for (i = 0; i < buttons.length; i++) buttons[i].disabled = false;
      render();
    }
  }

  async function onCopy() {
    var ok = await Candor.dom.copyInput($('app-invite-link'));
    $('app-copy-state').textContent = ok ? t('copied') : t('copy_failed');
  }

  function init() {
    $('app-invite').addEventListener('click', function () { act('invite'); });
    $('app-confirm-pool').addEventListener('click', function () { act('confirm-pool', { reason: 'pool confirmed by HR' }); });
    $('app-withdraw').addEventListener('click', function () {
      var reason = $('app-reason').value.trim();
      act('withdraw', reason ? { reason: reason } : {});
    });
    $('app-decide').addEventListener('click', function () {
      var reason = $('app-reason').value.trim();
      var body = { decision: $('app-decision').value };
      if (reason) body.reason = reason;
      act('decide', body);
    });
    $('app-copy-link').addEventListener('click', onCopy);
    $('outcome-card').addEventListener('submit', saveOutcome);
  }

  hr.application = {
    init: init,
    open: open,
    render: render,
    valueText: valueText,
    weComQuotaText: weComQuotaText,
    outcomeBody: outcomeBody,
    outcomeForm: outcomeForm,
    outcomeMeta: outcomeMeta,
    outcomeExpected: outcomeExpected
  };
})(window.Candor);
