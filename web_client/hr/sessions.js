/* Candor HR, the session list (Candor.hr.sessions): every session with its
 * state, refreshed every few seconds, and the new-session form (a job or free
 * talk, the candidate's profile, the server's field errors next to the
 * fields) that makes a one-time candidate link.
 * Classic script, plain ES2017; loads after hr.js.
 */
(function (Candor) {
  'use strict';

  var hr = Candor.hr;
  var ui = hr.ui;
  var t = hr.t;
  var locText = hr.locText;
  var fmtDateTime = hr.fmtDateTime;
  var http = Candor.http;
  var $ = Candor.dom.$;
  var el = Candor.dom.el;

  var LIST_REFRESH_MS = 5000;

  async function openList() {
    try {
      await loadSessions();
      hr.setView('list');
      startListRefresh();
    } catch (err) {
      hr.handleError(err);
    }
  }

  function startListRefresh() {
    stopListRefresh();
    ui.listTimer = setInterval(function () {
      if (document.visibilityState === 'hidden') return;
      loadSessions().catch(hr.handleError);
    }, LIST_REFRESH_MS);
  }
  function stopListRefresh() {
    clearInterval(ui.listTimer);
    ui.listTimer = null;
  }

  async function loadSessions() {
    var data = await hr.api('GET', '/v1/sessions');
    var sessions = (data && data.sessions) || [];
    sessions.sort(function (a, b) {
      var da = Candor.time.parseTime(a.created_at), db = Candor.time.parseTime(b.created_at);
      return (db ? db.getTime() : 0) - (da ? da.getTime() : 0);
    });
    renderSessions(sessions);
    return sessions;
  }

  function cell(tr, text, cls) {
    var td = document.createElement('td');
    if (cls) td.className = cls;
    if (text !== undefined && text !== null) td.textContent = text;
    tr.appendChild(td);
    return td;
  }

  function renderSessions(sessions) {
    var body = $('sessions-body');
    while (body.firstChild) body.removeChild(body.firstChild);
    sessions.forEach(function (s) {
      var tr = document.createElement('tr');
      var idCell = cell(tr, s.id, 'id');
      // Structured sessions: who and for which job, when the server says.
      var who = [];
      var cand = s.candidate && typeof s.candidate === 'object' ? s.candidate.name : s.candidate_name;
      if (typeof cand === 'string' && cand) who.push(cand);
      var job = s.job && typeof s.job === 'object' ? (locText(s.job.title) || s.job.id) : s.job_id;
      if (typeof job === 'string' && job) who.push(job);
      if (who.length) idCell.appendChild(el('div', 'session-who', who.join(' · ')));
      cell(tr, fmtDateTime(s.created_at));
      cell(tr, fmtDateTime(s.expires_at));
      cell(tr, s.state || '—');
      var conn = cell(tr, null);
      var dot = document.createElement('span');
      dot.className = 'dot' + (s.connected ? ' on' : '');
      conn.appendChild(dot);
      conn.appendChild(document.createTextNode(s.connected ? t('connected_yes') : t('connected_no')));
      var act = cell(tr, null);
      var a = document.createElement('a');
      a.href = '/hr/sessions/' + encodeURIComponent(s.id);
      a.textContent = t('watch');
      act.appendChild(a);
      body.appendChild(tr);
    });
    $('sessions-empty').hidden = sessions.length > 0;
  }

  // ---- new session: a job (or free talk) and the candidate's profile ----
  function onNewSession() {
    var form = $('new-session-form');
    form.hidden = false;
    $('new-session').disabled = true;
    setFieldErrors([]);
    loadJobs();
    $('ns-job').focus();
  }

  function closeNewSession() {
    $('new-session-form').hidden = true;
    $('new-session').disabled = false;
    setFieldErrors([]);
  }

  async function loadJobs() {
    try {
      var data = await hr.api('GET', '/v1/jobs');
      ui.jobs = ((data && data.jobs) || []).filter(function (j) { return j && typeof j.id === 'string'; });
      renderJobOptions();
    } catch (err) {
      if (err && err.name === 'AuthError') { hr.signin.show(); return; }
      ui.jobs = ui.jobs || [];
      setFieldErrors([{ field: 'job_id', key: 'ns_jobs_failed',
        params: { detail: (err && (err.detail || err.message)) || String(err) } }]);
    }
  }

  function renderJobOptions() {
    var select = $('ns-job');
    if (!select || !ui.jobs) return;
    var chosen = select.value;
    while (select.options.length > 1) select.remove(1); // the first one is free talk
    ui.jobs.forEach(function (j) {
      var title = locText(j.title);
      var opt = document.createElement('option');
      opt.value = j.id;
      opt.textContent = title ? title + ' (' + j.id + ')' : j.id;
      select.appendChild(opt);
    });
    select.value = chosen;
    if (select.value !== chosen) select.value = '';
  }

  // "a, b，c、d" (commas, 、, semicolons, new lines) as ['a', 'b', 'c', 'd'].
  function splitList(text) {
    return String(text || '').split(/[,，、;；\n]+/).map(function (x) { return x.trim(); })
      .filter(function (x) { return x.length > 0; });
  }

  // The body of POST /v1/sessions and the errors the page can tell first.
  function newSessionBody() {
    var jobId = $('ns-job').value;
    var name = $('ns-name').value.trim();
    var education = $('ns-education').value;
    var yearsText = $('ns-years').value.trim();
    var skills = splitList($('ns-skills').value);
    var certificates = splitList($('ns-certificates').value);
    var languages = splitList($('ns-languages').value);
    var accommodation = $('ns-accommodation').checked;
    var body = {};
    var errors = [];
    if (jobId) body.job_id = jobId;
    var profile = !!(name || education || yearsText || skills.length || certificates.length ||
      languages.length || accommodation);
    if (jobId || profile) {
      if (!name) errors.push({ field: 'candidate.name', key: jobId ? 'ns_err_name' : 'ns_err_name_profile' });
      var cand = { name: name };
      if (education) cand.education = education;
      if (yearsText) {
        var years = Number(yearsText);
        // anything that is not a number goes as typed: the server names the field
        cand.years = isFinite(years) && yearsText !== '' ? years : yearsText;
      } else if ($('ns-years').validity && $('ns-years').validity.badInput) {
        cand.years = 'not a number';
      }
      if (skills.length) cand.skills = skills;
      if (certificates.length) cand.certificates = certificates;
      if (languages.length) cand.languages = languages;
      cand.accommodation = accommodation;
      body.candidate = cand;
    }
    return { body: body, errors: errors };
  }

  function setFieldErrors(errors) {
    ui.nsErrors = errors || [];
    renderFieldErrors();
  }

  function renderFieldErrors() {
    var form = $('new-session-form');
    if (!form) return;
    var slots = form.querySelectorAll('.field-error');
    var byField = {};
    for (var i = 0; i < slots.length; i++) {
      slots[i].textContent = '';
      byField[slots[i].getAttribute('data-for')] = slots[i];
    }
    var inputs = form.querySelectorAll('[data-field]');
    for (i = 0; i < inputs.length; i++) inputs[i].classList.remove('invalid');
    var general = [];
    ui.nsErrors.forEach(function (e) {
      var text = e.key ? t(e.key, e.params) : String(e.message || '');
      // "candidate.skills.2" belongs to the skills field; "candidate" to the name
      var field = String(e.field || '');
      var slot = null;
      var probe = field;
      while (probe && !slot) {
        slot = byField[probe] || null;
        if (!slot) probe = probe.indexOf('.') >= 0 ? probe.slice(0, probe.lastIndexOf('.')) : '';
      }
      if (!slot && field === 'candidate') slot = byField['candidate.name'];
      if (!slot && (field === 'job_version' || field === 'bank_id' || field === 'bank_version')) slot = byField.job_id;
      if (!slot) { general.push(text); return; }
      slot.textContent = slot.textContent ? slot.textContent + ' ' + text : text;
      var input = form.querySelector('[data-field="' + slot.getAttribute('data-for') + '"]');
      if (input) input.classList.add('invalid');
    });
    var msg = general.join(' ');
    if (!msg && ui.nsErrors.length) msg = t('ns_err_check');
    $('ns-error').textContent = msg;
  }

  async function onNewSessionSubmit(ev) {
    if (ev) ev.preventDefault();
    var made = newSessionBody();
    if (made.errors.length) {
      setFieldErrors(made.errors);
      var first = $('new-session-form').querySelector('.invalid');
      if (first) first.focus();
      return;
    }
    setFieldErrors([]);
    $('ns-submit').disabled = true;
    try {
      var s = await createSession(made.body);
      if (!s) return;
      closeNewSession();
      $('new-session-form').reset();
      $('candidate-link').value = s.candidate_url || '';
      var watch = s.watch_url || ('/hr/sessions/' + encodeURIComponent(s.id));
      $('watch-new').href = watch;
      $('copy-state').textContent = '';
      $('new-session-result').hidden = false;
      $('candidate-link').focus();
      $('candidate-link').select();
      await loadSessions();
    } catch (err) {
      hr.handleError(err);
    } finally {
      $('ns-submit').disabled = false;
    }
  }

  // POST /v1/sessions; a 422 puts its field errors next to the fields (null).
  async function createSession(body) {
    var res = await fetch('/v1/sessions', {
      method: 'POST',
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
      body: JSON.stringify(body)
    });
    if (res.status === 401 || res.status === 403) throw new http.AuthError(res.status);
    if (res.status === 422) {
      var problem = null;
      try { problem = await res.json(); } catch (e) { problem = null; }
      var errors = problem && Array.isArray(problem.errors) ? problem.errors.filter(function (e) { return e && e.field; }) : [];
      if (!errors.length) errors = [{ field: '', message: (problem && (problem.detail || problem.title)) || 'HTTP 422' }];
      setFieldErrors(errors);
      return null;
    }
    if (!res.ok) throw new http.HttpError(res.status, await http.readDetail(res));
    return res.json();
  }

  async function onCopy() {
    var ok = await Candor.dom.copyInput($('candidate-link'));
    $('copy-state').textContent = ok ? t('copied') : t('copy_failed');
  }

  function init() {
    $('refresh').addEventListener('click', function () { loadSessions().catch(hr.handleError); });
    $('new-session').addEventListener('click', onNewSession);
    $('new-session-form').addEventListener('submit', onNewSessionSubmit);
    $('ns-cancel').addEventListener('click', closeNewSession);
    $('copy-link').addEventListener('click', onCopy);
    $('dismiss-link').addEventListener('click', function () {
      $('new-session-result').hidden = true;
      $('candidate-link').value = '';
    });
  }

  hr.sessions = {
    init: init,
    open: openList,
    load: loadSessions,
    stopRefresh: stopListRefresh,
    renderJobOptions: renderJobOptions,
    renderFieldErrors: renderFieldErrors,
    splitList: splitList
  };
})(window.Candor);
