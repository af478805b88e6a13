/* Candor candidate page: "your data" (PIPL Art. 44-47), Candor.candidate.mydata.
 *
 * A link in the top bar, once the page holds the candidate's token (the link
 * exchange), opens a card with what Candor holds about them (GET /v1/me/data):
 * their profile, applications and their states, contacts, consent given and
 * when, the transcript of their answers, whether recordings are kept, the
 * messages sent to them and how long all this is kept. They can download it
 * as JSON and withdraw: their applications are withdrawn and everything is
 * erased at once (POST /v1/me/withdraw). Scores and HR's notes are not shown
 * (docs/retention.md says why).
 *
 * Its strings are its own (zh, en), in the page's language (cand.app.lang).
 * Plain ES2017, like the rest of the page.
 */
(function (Candor) {
  'use strict';

  var cand = Candor.candidate = Candor.candidate || {};
  var i18n = Candor.i18n;
  var $ = Candor.dom.$;

  var STRINGS = {
    zh: {
      link: '我的数据',
      title: '您的个人数据',
      intro: '以下是本次招聘中保存的关于您的全部信息（依据《个人信息保护法》第四十四至四十七条）。评分与招聘人员的内部备注不在此列；如需了解决定的理由，请联系招聘人员。',
      loading: '正在读取…',
      profile: '个人资料',
      name: '姓名',
      education: '学历',
      years: '工作年限',
      skills: '技能',
      certificates: '证书',
      applications: '申请',
      received: '收到时间',
      state: '状态',
      contacts: '联系方式',
      resume: '简历文字',
      resume_chars: '{n} 个字',
      steps: '进度',
      consent: '同意记录',
      consent_given: '{at}：同意处理声音{voice}，面部图像{face}',
      consent_withdrawn: '{at}：撤回同意',
      yes: '（是）',
      no: '（否）',
      answers: '您的回答（转写文字）',
      no_answers: '暂无',
      recordings: '录音录像',
      recordings_some: '保存了 {n} 段',
      recordings_none: '未保存',
      messages: '发给您的消息',
      no_messages: '暂无',
      message_line: '{at}：{channel}',
      retention: '保存期限',
      retention_text: '招聘结束后 {months} 个月删除；录音录像在决定后 {days} 天内删除。',
      retention_none: '直到您或招聘人员要求删除。',
      download: '下载 JSON',
      withdraw: '撤回申请并删除我的数据',
      withdraw_confirm: '您的所有申请将被撤回，上述数据将立即永久删除，无法恢复。确定吗？',
      withdraw_yes: '确认删除',
      cancel: '取消',
      close: '关闭',
      withdrawn_title: '您的申请已撤回，数据已删除',
      withdrawn_text: '关于您的个人数据已从系统中删除。如有疑问，请联系招聘人员。',
      err_expired: '此链接已失效，无法查看数据。请联系招聘人员。',
      err_none: '此链接没有关联的个人资料。',
      err_other: '无法读取您的数据：{detail}',
      state_applied: '已收到',
      state_screened: '已筛选',
      state_invited: '已邀请面试',
      state_interviewing: '面试中',
      state_interviewed: '已完成面试',
      state_decided: '已有结果',
      state_withdrawn: '已撤回',
      step_receive: '收到申请',
      step_screen: '简历筛选',
      step_invite: '邀请面试',
      step_open: '打开链接',
      step_start_interview: '开始面试',
      step_end_interview: '完成面试',
      step_decide: '招聘人员决定',
      step_confirm_pool: '招聘人员决定',
      step_withdraw: '撤回',
      step_message_out: '发出消息',
      step_message_in: '收到您的消息',
      step_automation: '系统处理',
      step_sync: '同步',
      edu_none: '无学历要求',
      edu_associate: '大专',
      edu_bachelor: '本科',
      edu_master: '硕士',
      edu_doctorate: '博士',
      years_n: '{n} 年',
      email: '电子邮件',
      phone: '电话',
      wecom: '企业微信',
      wecom_external: '企业微信',
      wecom_user: '企业微信'
    },
    en: {
      link: 'My data',
      title: 'Your personal data',
      intro: 'This is everything this recruitment holds about you (PIPL Art. 44-47). Scores and the recruiters\' internal notes are not listed; ask the recruiter if you want the reasons for a decision.',
      loading: 'Loading…',
      profile: 'Profile',
      name: 'Name',
      education: 'Education',
      years: 'Years of experience',
      skills: 'Skills',
      certificates: 'Certificates',
      applications: 'Applications',
      received: 'Received',
      state: 'Status',
      contacts: 'Contact details',
      resume: 'Resume text',
      resume_chars: '{n} characters',
      steps: 'Steps',
      consent: 'Consent',
      consent_given: '{at}: voice processing{voice}, face images{face}',
      consent_withdrawn: '{at}: consent withdrawn',
      yes: ' (yes)',
      no: ' (no)',
      answers: 'Your answers (transcribed)',
      no_answers: 'None yet',
      recordings: 'Recordings',
      recordings_some: '{n} kept',
      recordings_none: 'None kept',
      messages: 'Messages sent to you',
      no_messages: 'None',
      message_line: '{at}: {channel}',
      retention: 'How long it is kept',
      retention_text: 'Deleted {months} months after the recruitment; recordings within {days} days of the decision.',
      retention_none: 'Until you or the recruiter ask for it to be deleted.',
      download: 'Download JSON',
      withdraw: 'Withdraw and delete my data',
      withdraw_confirm: 'All your applications will be withdrawn and the data above deleted at once, for good. Are you sure?',
      withdraw_yes: 'Delete',
      cancel: 'Cancel',
      close: 'Close',
      withdrawn_title: 'Your application is withdrawn and your data deleted',
      withdrawn_text: 'Your personal data has been deleted. Contact the recruiter with any questions.',
      err_expired: 'This link has expired, so your data cannot be shown. Please contact the recruiter.',
      err_none: 'This link holds no personal profile.',
      err_other: 'Your data could not be read: {detail}',
      state_applied: 'Received',
      state_screened: 'Screened',
      state_invited: 'Invited to interview',
      state_interviewing: 'Interviewing',
      state_interviewed: 'Interview done',
      state_decided: 'Decided',
      state_withdrawn: 'Withdrawn',
      step_receive: 'Application received',
      step_screen: 'Resume screened',
      step_invite: 'Invited to interview',
      step_open: 'Link opened',
      step_start_interview: 'Interview started',
      step_end_interview: 'Interview finished',
      step_decide: 'Recruiter\'s decision',
      step_confirm_pool: 'Recruiter\'s decision',
      step_withdraw: 'Withdrawn',
      step_message_out: 'Message sent',
      step_message_in: 'Your message received',
      step_automation: 'Processed',
      step_sync: 'Synchronised',
      edu_none: 'none',
      edu_associate: 'associate degree',
      edu_bachelor: 'bachelor\'s degree',
      edu_master: 'master\'s degree',
      edu_doctorate: 'doctorate',
      years_n: '{n} years',
      email: 'e-mail',
      phone: 'phone',
      wecom: 'WeCom',
      wecom_external: 'WeCom',
      wecom_user: 'WeCom'
    }
  };

  function lang() { return (cand.app && cand.app.lang) || 'zh'; }
  var t = i18n.translator(STRINGS, lang);

  var my = cand.mydata = { data: null, error: null, done: false, confirming: false };

  function token() {
    var creds = cand.app && cand.app.creds;
    return creds && creds.token ? creds.token : null;
  }

  function when(iso) {
    if (!iso) return '';
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    return d.toLocaleString(i18n.dateLocale(lang()), { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function row(dl, label, value) {
    if (value === undefined || value === null || value === '' || (Array.isArray(value) && !value.length)) return;
    dl.appendChild(el('dt', null, label));
    dl.appendChild(el('dd', null, Array.isArray(value) ? value.join(lang() === 'zh' ? '、' : ', ') : value));
  }

  function section(body, title) {
    var h = el('h2', null, title);
    body.appendChild(h);
    return body;
  }

  function list(body, items, empty) {
    if (!items.length) { body.appendChild(el('p', 'muted small', empty)); return; }
    var ul = el('ul', 'mydata-list');
    items.forEach(function (text) { ul.appendChild(el('li', null, text)); });
    body.appendChild(ul);
  }

  function render() {
    var card = $('step-mydata');
    if (!card || card.hidden) return;
    $('mydata-title').textContent = my.done ? t('withdrawn_title') : t('title');
    var body = $('mydata-body');
    body.textContent = '';
    $('mydata-actions').hidden = my.done || !my.data || my.confirming;
    $('mydata-confirm').hidden = !my.confirming;
    $('mydata-download').textContent = t('download');
    $('mydata-withdraw').textContent = t('withdraw');
    $('mydata-close').textContent = t('close');
    $('mydata-close').hidden = my.done; // nothing left to go back to
    $('mydata-confirm-text').textContent = t('withdraw_confirm');
    $('mydata-withdraw-yes').textContent = t('withdraw_yes');
    $('mydata-cancel').textContent = t('cancel');
    if (my.done) { body.appendChild(el('p', null, t('withdrawn_text'))); return; }
    if (my.error) { body.appendChild(el('p', 'device-msg', my.error)); return; }
    if (!my.data) { body.appendChild(el('p', 'muted', t('loading'))); return; }
    var data = my.data;
    body.appendChild(el('p', 'muted small', t('intro')));

    section(body, t('profile'));
    var profile = (data.candidate && data.candidate.profile) || {};
    var dl = el('dl', 'mydata-fields');
    row(dl, t('name'), profile.name);
    row(dl, t('education'), profile.education ? t('edu_' + profile.education) : null);
    row(dl, t('years'), profile.years !== undefined && profile.years !== null ? t('years_n', { n: profile.years }) : null);
    row(dl, t('skills'), profile.skills);
    row(dl, t('certificates'), profile.certificates);
    body.appendChild(dl);

    section(body, t('applications'));
    (data.applications || []).forEach(function (app) {
      var box = el('div', 'mydata-app');
      box.appendChild(el('h3', null, i18n.locText(app.job && app.job.title, lang()) || (app.job && app.job.id)));
      var fields = el('dl', 'mydata-fields');
      row(fields, t('state'), t('state_' + app.state));
      row(fields, t('received'), when(app.received_at));
      var contacts = Object.keys(app.contacts || {}).map(function (kind) { return t(kind) + ' ' + app.contacts[kind]; });
      row(fields, t('contacts'), contacts);
      if (app.resume && app.resume.text) row(fields, t('resume'), t('resume_chars', { n: app.resume.text.length }));
      box.appendChild(fields);
      box.appendChild(el('p', 'muted small', t('steps')));
      list(box, (app.timeline || []).map(function (e) { return when(e.at) + '  ' + t('step_' + e.action); }), '');
      body.appendChild(box);
    });

    var sessions = data.sessions || [];
    section(body, t('consent'));
    var consents = [];
    sessions.forEach(function (s) {
      (s.consent || []).forEach(function (c) {
        consents.push(c.event === 'consent.withdrawn'
          ? t('consent_withdrawn', { at: when(c.given_at || c.at) })
          : t('consent_given', { at: when(c.given_at || c.at), voice: t(c.voice ? 'yes' : 'no'), face: t(c.face ? 'yes' : 'no') }));
      });
    });
    list(body, consents, t('no_answers'));

    section(body, t('answers'));
    var answers = [];
    sessions.forEach(function (s) { (s.answers || []).forEach(function (a) { if (a.text) answers.push(a.text); }); });
    list(body, answers, t('no_answers'));

    section(body, t('recordings'));
    body.appendChild(el('p', null, data.recordings ? t('recordings_some', { n: data.recordings }) : t('recordings_none')));

    section(body, t('messages'));
    var messages = [];
    (data.applications || []).forEach(function (app) {
      (app.messages_sent || []).forEach(function (m) { messages.push(t('message_line', { at: when(m.at), channel: t(m.channel || 'email') })); });
    });
    list(body, messages, t('no_messages'));

    section(body, t('retention'));
    var r = data.retention || {};
    body.appendChild(el('p', null, r.personal_data_months_after_campaign
      ? t('retention_text', { months: r.personal_data_months_after_campaign, days: r.recordings_days_after_decision })
      : t('retention_none')));
  }

  async function problem(res) {
    if (res.status === 401) return t('err_expired');
    if (res.status === 404) return t('err_none');
    var body = await Candor.http.readProblem(res);
    return t('err_other', { detail: Candor.http.problemDetail(body, res) });
  }

  async function load() {
    my.data = null;
    my.error = null;
    render();
    try {
      var res = await fetch('/v1/me/data', {
        headers: { Authorization: 'Bearer ' + token(), Accept: 'application/json' }, credentials: 'omit', cache: 'no-store'
      });
      if (!res.ok) my.error = await problem(res);
      else my.data = await res.json();
    } catch (e) {
      my.error = t('err_other', { detail: e && e.message ? e.message : String(e) });
    }
    render();
  }

  function download() {
    if (!my.data) return;
    var blob = new Blob([JSON.stringify(my.data, null, 2)], { type: 'application/json' });
    var a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = 'candor-my-data.json';
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }

  async function withdraw() {
    $('mydata-withdraw-yes').disabled = true;
    try {
      var res = await fetch('/v1/me/withdraw', {
        method: 'POST',
        headers: { Authorization: 'Bearer ' + token(), 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ erase: true }), credentials: 'omit', cache: 'no-store'
      });
      if (!res.ok) {
        my.error = await problem(res);
      } else {
        my.done = true;
        my.data = null;
        // The token went with the rest: the interview cannot go on.
        try { window.sessionStorage.removeItem(cand.KEYS.creds); } catch (e) { /* private mode */ }
        if (cand.app && cand.app.pc && typeof cand.finish === 'function') {
          try { await cand.finish(); } catch (e) { /* the server ended it */ }
        }
        if (typeof cand.showStep === 'function') cand.showStep('erased');
        $('mydata-open').hidden = true;
      }
    } finally {
      $('mydata-withdraw-yes').disabled = false;
      my.confirming = false;
      render();
    }
  }

  function open() {
    $('step-mydata').hidden = false;
    my.done = false;
    my.confirming = false;
    $('step-mydata').scrollIntoView({ block: 'start' });
    load();
  }

  function init() {
    var link = $('mydata-open');
    if (!link) return;
    link.textContent = t('link');
    link.addEventListener('click', open);
    $('mydata-close').addEventListener('click', function () { $('step-mydata').hidden = true; });
    $('mydata-download').addEventListener('click', download);
    $('mydata-withdraw').addEventListener('click', function () { my.confirming = true; render(); });
    $('mydata-cancel').addEventListener('click', function () { my.confirming = false; render(); });
    $('mydata-withdraw-yes').addEventListener('click', withdraw);
    // The language toggle: after the page has switched (its own listener runs after this one).
    $('lang-toggle').addEventListener('click', function () {
      setTimeout(function () { link.textContent = t('link'); render(); }, 0);
    });
    // The link shows once the page holds the candidate's token (after the link exchange).
    var shown = setInterval(function () {
      if (token() && !my.done) { link.hidden = false; clearInterval(shown); }
    }, 300);
  }

  my.open = open;
  my.render = render;
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})(window.Candor);
