/* Candor HR, reviewers' recommendations on the session page (Candor.hr.recommend):
 * the list of each user's latest advance / hold / reject with a note
 * (GET /v1/sessions/<id>/recommendations, perm reports.read) and, for roles
 * with recommendations.write, a form that records mine (POST, replaces my
 * earlier one). Advice to whoever decides: nothing moves, nothing is sent.
 * Classic script, plain ES2017; loads after hr/recordings.js. It loads when
 * the session page shows a session (hr/live.js calls open) and redraws
 * when hr/interview.js renders (a language change, new scores).
 */
(function (Candor) {
  'use strict';

  var hr = Candor.hr;
  var ui = hr.ui;
  var t = hr.t;
  var $ = Candor.dom.$;
  var el = Candor.dom.el;
  var clear = Candor.dom.clear;

  var CHOICES = ['advance', 'hold', 'reject'];

  Object.assign(hr.STRINGS.zh, {
    recm_title: '推荐意见',
    recm_hint: '评审人的意见仅供决定人参考，不是录用决定：不会移动候选人，也不会发送到 HRIS。',
    recm_none: '还没有人记录意见。',
    recm_advance: '建议推进',
    recm_hold: '建议待定',
    recm_reject: '建议不推进',
    recm_note: '说明（可选）',
    recm_mine: '我的意见',
    recm_submit: '记录我的意见',
    recm_saved: '已记录。',
    recm_pick: '请选择一项意见。',
    recm_error: '未能记录：{detail}'
  });
  Object.assign(hr.STRINGS.en, {
    recm_title: 'Recommendations',
    recm_hint: 'Reviewers\u2019 advice for whoever decides, not a decision: nothing moves and nothing is sent to the HRIS.',
    recm_none: 'No one has recorded a recommendation yet.',
    recm_advance: 'Advance',
    recm_hold: 'Hold',
    recm_reject: 'Reject',
    recm_note: 'Note (optional)',
    recm_mine: 'My recommendation',
    recm_submit: 'Record my recommendation',
    recm_saved: 'Recorded.',
    recm_pick: 'Pick one recommendation.',
    recm_error: 'Not recorded: {detail}'
  });

  var state = { sessionId: null, list: null, status: '' };

  function canWrite() {
    return !!(hr.me && Array.isArray(hr.me.permissions) && hr.me.permissions.indexOf('recommendations.write') >= 0);
  }

  function canRead() {
    return !hr.me || (Array.isArray(hr.me.permissions) && hr.me.permissions.indexOf('reports.read') >= 0);
  }

  // Pure: the recommendations in the order shown (latest change first), only well-formed ones.
  function ordered(list) {
    return (Array.isArray(list) ? list : []).filter(function (r) {
      return r && typeof r.user_id === 'string' && CHOICES.indexOf(r.recommendation) >= 0;
    }).slice().sort(function (a, b) { return String(b.updated_at || '').localeCompare(String(a.updated_at || '')); });
  }

  function load(id) {
    id = id || ui.sessionId;
    if (!id) return Promise.resolve(null);
    if (state.sessionId !== id) state = { sessionId: id, list: null, status: '' };
    if (!canRead()) { render(); return Promise.resolve(null); }
    return hr.api('GET', '/v1/sessions/' + encodeURIComponent(id) + '/recommendations').then(function (data) {
      if (state.sessionId !== id) return;
      state.list = ordered(data && data.recommendations);
      render();
    }, function (err) {
      if (err && err.name === 'AuthError') return; // the page shows sign-in
      if (state.sessionId === id) { state.list = null; render(); }
    });
  }

  function roleLabel(role) {
    var key = 'role_' + role;
    return hr.STRINGS.zh[key] !== undefined ? t(key) : String(role);
  }

  function renderList(box) {
    var list = state.list || [];
    if (!list.length) { box.appendChild(el('p', 'empty recm-empty', t('recm_none'))); return; }
    var ol = el('ul', 'recm-list');
    list.forEach(function (r) {
      var li = el('li', 'recm-item');
      li.setAttribute('data-user', r.user_id);
      li.setAttribute('data-recommendation', r.recommendation);
      var head = el('div', 'recm-head');
      head.appendChild(el('span', 'pill recm-' + r.recommendation, t('recm_' + r.recommendation)));
      head.appendChild(el('span', 'recm-who', roleLabel(r.role) + ' · ' + r.user_id));
      head.appendChild(el('span', 'muted small recm-time', hr.fmtDateTime(r.updated_at || r.created_at) || ''));
      li.appendChild(head);
      if (typeof r.note === 'string' && r.note) li.appendChild(el('p', 'recm-note', r.note));
      ol.appendChild(li);
    });
    box.appendChild(ol);
  }

  function mine() {
    var me = hr.me && hr.me.user_id;
    return (state.list || []).filter(function (r) { return r.user_id === me; })[0] || null;
  }

  function renderForm(box) {
    var form = el('form', 'recm-form');
    form.id = 'recm-form';
    var current = mine();
    var choices = el('fieldset', 'recm-choices');
    choices.appendChild(el('legend', 'small', t('recm_mine')));
    CHOICES.forEach(function (c) {
      var label = el('label', 'check-row');
      var input = el('input');
      input.type = 'radio';
      input.name = 'recommendation';
      input.value = c;
      if (current && current.recommendation === c) input.checked = true;
      label.appendChild(input);
      label.appendChild(el('span', null, t('recm_' + c)));
      choices.appendChild(label);
    });
    form.appendChild(choices);
    var noteLabel = el('label', 'small', t('recm_note'));
    noteLabel.setAttribute('for', 'recm-note');
    form.appendChild(noteLabel);
    var note = el('textarea');
    note.id = 'recm-note';
    note.name = 'note';
    note.rows = 2;
    note.maxLength = 2000;
    if (current && current.note) note.value = current.note;
    form.appendChild(note);
    var actions = el('div', 'actions');
    var submit = el('button', 'primary', t('recm_submit'));
    submit.type = 'submit';
    actions.appendChild(submit);
    var status = el('span', 'muted small recm-status', state.status);
    status.setAttribute('role', 'status');
    actions.appendChild(status);
    form.appendChild(actions);
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var picked = form.querySelector('input[name="recommendation"]:checked');
      if (!picked) { status.textContent = t('recm_pick'); return; }
      var id = state.sessionId;
      submit.disabled = true;
      hr.api('POST', '/v1/sessions/' + encodeURIComponent(id) + '/recommendations',
        { recommendation: picked.value, note: note.value.trim() }).then(function () {
        state.status = t('recm_saved');
        return load(id);
      }, function (err) {
        submit.disabled = false;
        if (err && err.name === 'AuthError') { hr.signin.show(); return; }
        status.textContent = t('recm_error', { detail: (err && (err.detail || err.message)) || String(err) });
      });
    });
    box.appendChild(form);
  }

  function render() {
    var card = $('recm-card');
    if (!card) return;
    var show = !!state.sessionId && state.sessionId === ui.sessionId && canRead() && state.list !== null;
    card.hidden = !show;
    if (!show) return;
    var box = $('recm-body');
    clear(box);
    renderList(box);
    if (canWrite()) renderForm(box);
  }

  // The session page (hr/live.js openLive) shows a session: load that one's list.
  function open(id) {
    if (id !== state.sessionId) { state = { sessionId: null, list: null, status: '' }; render(); }
    load(id);
  }

  hr.recommend = {
    open: open,
    load: load,
    render: render,
    // pure
    ordered: ordered
  };
})(window.Candor);
