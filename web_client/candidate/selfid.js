/* Candor candidate page, the voluntary self-identification after the interview
 * (issue 12: the bias audit). Shown on the finished step while the page still
 * holds the candidate's token: sex, age band and, where the deployment's policy
 * asks it, ethnicity; every question optional, "prefer not to say" in each, and
 * a skip button. The answer goes to POST /v1/sessions/{id}/self-id and is used
 * only to check that Candor treats groups fairly: HR never see it, and no score
 * reads it. Nothing is sent when the candidate skips.
 * Classic script, plain ES2017; loads after candidate.js (Candor.candidate.selfid).
 */
(function (Candor) {
  'use strict';

  var cand = Candor.candidate;
  var app = cand.app;
  var http = Candor.http;
  var $ = Candor.dom.$;

  var STRINGS = {
    zh: {
      selfid_title: '自愿填写：帮助我们检查公平性（可跳过）',
      selfid_purpose: '以下信息完全自愿，可以只填部分或直接跳过。它只用于统计检查 Candor 是否公平对待不同群体（例如不同性别、年龄段的通过率是否相近）；招聘人员看不到，也不会用于对您的任何评估或录用决定。',
      selfid_sex: '性别',
      selfid_age_band: '年龄段',
      selfid_ethnicity: '族裔',
      selfid_submit: '提交',
      selfid_skip: '跳过',
      selfid_saving: '正在提交…',
      selfid_thanks: '谢谢！您的回答已匿名用于公平性检查，招聘人员看不到。',
      selfid_skipped: '已跳过，不会记录任何信息。',
      selfid_error: '提交失败：{detail}。您可以重试或跳过。',
      female: '女', male: '男', another: '其他',
      under_25: '25 岁以下', '25_34': '25–34 岁', '35_44': '35–44 岁', '45_54': '45–54 岁', '55_plus': '55 岁及以上',
      hispanic_or_latino: '西班牙裔或拉丁裔', white: '白人', black_or_african_american: '黑人或非裔',
      native_hawaiian_or_pacific_islander: '夏威夷原住民或太平洋岛民', asian: '亚裔',
      american_indian_or_alaska_native: '美洲印第安人或阿拉斯加原住民', two_or_more_races: '两个或以上族裔',
      prefer_not_to_say: '不愿透露'
    },
    en: {
      selfid_title: 'Optional: help us check fairness (you can skip this)',
      selfid_purpose: 'This is entirely voluntary: answer some, all or none. It is used only to check statistically that Candor treats groups fairly (for example, whether people of different sexes and ages advance at similar rates). HR never see it, and it is never used in any score or hiring decision.',
      selfid_sex: 'Sex',
      selfid_age_band: 'Age band',
      selfid_ethnicity: 'Race / ethnicity',
      selfid_submit: 'Submit',
      selfid_skip: 'Skip',
      selfid_saving: 'Submitting…',
      selfid_thanks: 'Thank you. Your answer is used for the fairness check only; HR cannot see it.',
      selfid_skipped: 'Skipped: nothing was recorded.',
      selfid_error: 'Could not submit: {detail}. Try again or skip.',
      female: 'Female', male: 'Male', another: 'Another',
      under_25: 'Under 25', '25_34': '25–34', '35_44': '35–44', '45_54': '45–54', '55_plus': '55 or over',
      hispanic_or_latino: 'Hispanic or Latino', white: 'White', black_or_african_american: 'Black or African American',
      native_hawaiian_or_pacific_islander: 'Native Hawaiian or Other Pacific Islander', asian: 'Asian',
      american_indian_or_alaska_native: 'American Indian or Alaska Native', two_or_more_races: 'Two or more races',
      prefer_not_to_say: 'Prefer not to say'
    }
  };
  var t = Candor.i18n.translator(STRINGS, function () { return app.lang; });

  var state = {
    asked: null, // {question: [choices]} from the server
    status: null, // null | 'saving' | 'thanks' | 'skipped' | {error: detail}
    busy: false
  };

  function url() {
    return '/v1/sessions/' + encodeURIComponent(app.creds.session_id) + '/self-id';
  }

  function request(method, body) {
    var init = {
      method: method,
      headers: { Authorization: 'Bearer ' + app.creds.token },
      credentials: 'omit',
      cache: 'no-store'
    };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return http.fetchWithTimeout(url(), init, cand.WHIP_TIMEOUT_MS);
  }

  function buildQuestions() {
    var box = $('selfid-questions');
    box.textContent = '';
    Object.keys(state.asked).forEach(function (question) {
      var set = document.createElement('fieldset');
      set.className = 'selfid-question';
      set.setAttribute('data-question', question);
      var legend = document.createElement('legend');
      legend.setAttribute('data-selfid-i18n', 'selfid_' + question);
      set.appendChild(legend);
      state.asked[question].forEach(function (choice) {
        var label = document.createElement('label');
        label.className = 'selfid-choice';
        var input = document.createElement('input');
        input.type = 'radio';
        input.name = 'selfid-' + question;
        input.value = choice;
        var text = document.createElement('span');
        text.setAttribute('data-selfid-i18n', choice);
        label.appendChild(input);
        label.appendChild(text);
        set.appendChild(label);
      });
      box.appendChild(set);
    });
  }

  function render() {
    var section = $('selfid');
    if (!section) return;
    var nodes = section.querySelectorAll('[data-selfid-i18n]');
    for (var i = 0; i < nodes.length; i++) nodes[i].textContent = t(nodes[i].getAttribute('data-selfid-i18n'));
    var done = state.status === 'thanks' || state.status === 'skipped';
    $('selfid-form').hidden = done;
    $('selfid-submit').disabled = state.busy;
    $('selfid-skip').disabled = state.busy;
    var status = $('selfid-status');
    var s = state.status;
    status.textContent = !s ? '' : (s === 'saving' ? t('selfid_saving') : (s === 'thanks' ? t('selfid_thanks') :
      (s === 'skipped' ? t('selfid_skipped') : t('selfid_error', { detail: s.error }))));
    status.className = 'selfid-status ' + (s && s.error ? 'error' : 'muted');
  }

  function chosen() {
    var answer = {};
    Object.keys(state.asked || {}).forEach(function (question) {
      var picked = document.querySelector('input[name="selfid-' + question + '"]:checked');
      if (picked) answer[question] = picked.value;
    });
    return answer;
  }

  async function submit(ev) {
    if (ev) ev.preventDefault();
    if (state.busy || !app.creds) return false;
    var answer = chosen();
    if (!Object.keys(answer).length) return skip(); // nothing picked: the same as skipping
    state.busy = true;
    state.status = 'saving';
    render();
    try {
      var res = await request('POST', answer);
      if (!res.ok) throw new Error(http.problemDetail(await http.readProblem(res), res));
      state.status = 'thanks';
    } catch (e) {
      state.status = { error: (e && e.message) || String(e) };
    }
    state.busy = false;
    render();
    return state.status === 'thanks';
  }

  function skip() {
    state.status = 'skipped';
    render();
    return true;
  }

  // After the interview (not after a withdrawn consent): ask, unless it was answered already.
  async function show() {
    var section = $('selfid');
    if (!section || !app.creds || app.doneKind === 'withdrawn') return false;
    try {
      var res = await request('GET');
      if (!res.ok) return false; // an old server, or the token has gone: nothing to ask
      var body = await res.json();
      if (body.answered || !body.asked || typeof body.asked !== 'object') return false;
      state.asked = body.asked;
    } catch (e) {
      return false; // the interview is over either way; this step is optional
    }
    state.status = null;
    buildQuestions();
    section.hidden = false;
    render();
    return true;
  }

  function boot() {
    var form = $('selfid-form');
    if (!form) return;
    form.addEventListener('submit', submit);
    $('selfid-skip').addEventListener('click', skip);
  }

  cand.selfid = { show: show, render: render, submit: submit, skip: skip };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})(window.Candor);
