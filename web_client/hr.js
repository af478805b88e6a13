/* Candor HR pages: sign in, session list, new session link, live view of one
 * session (/hr/sessions/<id>) over the event WebSocket with resume by seq.
 * Plain ES2017, no framework. Data is only ever put into the page as text.
 */
(function () {
  'use strict';

  var STRINGS = {
    zh: {
      lang_toggle: 'English',
      logout: '退出登录',
      signin_title: 'HR 登录',
      token_label: 'HR 令牌',
      signin: '登录',
      signin_bad: '令牌不正确。',
      signin_failed: '登录失败：{detail}',
      sessions_title: '面试会话',
      refresh: '刷新',
      new_session: '新建会话',
      new_link_title: '候选人链接',
      new_link_hint: '请把此链接发给候选人。链接只能打开一次，关闭此提示后将不再显示。',
      copy: '复制',
      copied: '已复制到剪贴板。',
      copy_failed: '无法自动复制，请手动选择并复制链接。',
      watch_live: '查看实时画面',
      dismiss: '关闭',
      col_id: '会话',
      col_created: '创建时间',
      col_expires: '过期时间',
      col_state: '状态',
      col_connected: '连接',
      connected_yes: '在线',
      connected_no: '离线',
      watch: '查看',
      no_sessions: '还没有会话。',
      back: '← 全部会话',
      session: '会话',
      transcript_title: '实时转写',
      transcript_empty: '候选人说话后，转写文字会显示在这里。',
      speaking: '● 正在说话',
      face_title: '面部指标',
      face_presence: '在画面中',
      face_faces: '人脸数（最多/平均）',
      face_yaw: '偏航 yaw',
      face_pitch: '俯仰 pitch',
      face_roll: '翻滚 roll',
      face_gaze: '注视镜头',
      face_time: '媒体时间',
      flag_absent: '画面中无人',
      flag_multiple: '画面中多人',
      yes: '是',
      no: '否',
      events_title: '事件',
      ws_connecting: '连接中…',
      ws_open: '实时',
      ws_reconnecting: '重连中…',
      ws_signed_out: '未登录',
      ev_connection_started: '候选人已连接',
      ev_media_flowing: '已收到音视频',
      ev_connection_ended: '候选人连接结束（{reason}）',
      ev_face_absent_start: '画面中无人',
      ev_face_absent_stop: '候选人回到画面',
      ev_face_multiple_start: '画面中出现多张人脸（{faces}）',
      ev_face_multiple_stop: '画面中恢复为一张人脸',
      ev_session_error: '会话错误：{message}',
      ev_media_dropped: '丢弃媒体：{kind} × {count}',
      ev_session_created: '会话已创建',
      ev_ws_resumed: '事件流已重新连接（从 #{seq} 继续）',
      err_network: '网络错误：{detail}',
      err_http: '请求失败：{detail}',
      err_no_session: '会话列表中没有 {id}：链接可能有误，或会话已被删除。',
      progress_title: '面试进度',
      p_practice: '练习题（不计分）',
      p_practice_short: '练习',
      p_number: '第 {n} / {m} 题',
      p_number_short: '第 {n} 题',
      p_pre: '开始答题前',
      p_phase_waiting: '未开始',
      p_phase_prep: '准备中',
      p_phase_answer: '回答中',
      p_phase_paused: '已暂停（候选人断线）',
      p_phase_ended: '已结束',
      p_clock_prep: '准备剩余',
      p_clock_answer: '回答剩余',
      p_not_asked: '未开始',
      p_state_running: '进行中',
      p_state_ended: '面试已结束',
      p_between: '等待下一题…',
      p_answer_range: '回答 {start}–{end}',
      p_outside: '不在回答时间内',
      reason_candidate_done: '候选人完成',
      reason_time_limit: '时间到',
      reason_long_silence: '长时间沉默',
      reason_no_answer: '未作答',
      ev_question_started: '开始 {label}：{text}',
      ev_question_resumed: '继续 {label}（候选人重新连接）',
      ev_answer_started: '{label} 开始回答',
      ev_answer_resumed: '{label} 继续回答',
      ev_answer_ended: '{label} 回答结束（{reason}）',
      ev_question_ended: '{label} 结束',
      ev_interview_ended: '面试结束',
      ev_score: '{label} 评分：{overall}',
      ev_score_provisional: '{label} 暂定评分：{overall}',
      score_title: 'AI 评分',
      score_provisional: '暂定',
      score_final: '最终',
      score_overall: '综合',
      score_content: '内容',
      score_delivery: '表达',
      score_engagement: '投入度',
      score_note: 'AI 评分仅供参考，录用决定由招聘人员做出。',
      score_points: '要点 {id}：{score}',
      ns_title: '新建面试会话',
      ns_job: '岗位',
      ns_free_talk: '自由交谈（无题目）',
      ns_candidate: '候选人信息',
      ns_candidate_hint: '选择岗位时必须填写姓名；其他信息可选，用于与岗位要求比对。',
      ns_name: '姓名',
      ns_education: '学历',
      ns_edu_unset: '（不填）',
      ns_edu_none: '无',
      ns_edu_associate: '大专',
      ns_edu_bachelor: '本科',
      ns_edu_master: '硕士',
      ns_edu_doctorate: '博士',
      ns_years: '工作年限',
      ns_skills: '技能（逗号分隔）',
      ns_certificates: '证书（逗号分隔）',
      ns_languages: '语言（逗号分隔，如 zh, en）',
      ns_accommodation: '需要便利安排（仅按回答内容评分）',
      ns_submit: '创建链接',
      ns_err_name: '选择岗位时必须填写候选人姓名。',
      ns_err_name_profile: '填写候选人信息时必须填写姓名。',
      ns_err_check: '请检查标出的字段。',
      ns_jobs_failed: '无法加载岗位列表：{detail}',
      cancel: '取消',
      consent_title: '政策与同意',
      c_policy: '政策',
      c_voice: '声音处理',
      c_face: '面部处理',
      c_emotion: '情绪识别',
      c_given: '同意时间',
      policy_pipl: 'PIPL（中国，分项同意）',
      policy_eu: '欧盟（不做情绪识别）',
      c_yes: '已同意',
      c_no: '未同意',
      c_pending: '尚未同意',
      c_withdrawn: '已撤回',
      c_face_audio: '未同意（仅音频）',
      c_emotion_on: '开启（仅作参考）',
      c_emotion_off: '关闭',
      ev_consent_given: '候选人已同意（声音：{voice}，面部：{face}，情绪识别：{emotion}）',
      ev_consent_withdrawn: '候选人撤回了同意，分析已停止',
      m_expression: '面部表情（参考）',
      m_arousal: '语气唤醒度（参考）',
      expr_angry: '生气',
      expr_disgust: '厌恶',
      expr_fear: '害怕',
      expr_happy: '高兴',
      expr_sad: '难过',
      expr_surprise: '惊讶',
      expr_neutral: '平静',
      affect_expression: '面部表情：{label} {share}',
      affect_voice: '语气唤醒度均值：{arousal}（{n} 段）',
      affect_context: '参考，不计分',
      affect_counted: '计入评分：{score}'
    },
    en: {
      lang_toggle: '中文',
      logout: 'Sign out',
      signin_title: 'HR sign-in',
      token_label: 'HR token',
      signin: 'Sign in',
      signin_bad: 'The token is not correct.',
      signin_failed: 'Sign-in failed: {detail}',
      sessions_title: 'Interview sessions',
      refresh: 'Refresh',
      new_session: 'New session',
      new_link_title: 'Candidate link',
      new_link_hint: 'Send this link to the candidate. It opens only once and is not shown again after you close this box.',
      copy: 'Copy',
      copied: 'Copied to the clipboard.',
      copy_failed: 'Could not copy; select the link and copy it by hand.',
      watch_live: 'Watch live',
      dismiss: 'Close',
      col_id: 'Session',
      col_created: 'Created',
      col_expires: 'Expires',
      col_state: 'State',
      col_connected: 'Connection',
      connected_yes: 'online',
      connected_no: 'offline',
      watch: 'Watch',
      no_sessions: 'No sessions yet.',
      back: '← All sessions',
      session: 'Session',
      transcript_title: 'Live transcript',
      transcript_empty: 'The transcript appears here when the candidate speaks.',
      speaking: '● speaking',
      face_title: 'Face metrics',
      face_presence: 'Presence',
      face_faces: 'Faces (max / mean)',
      face_yaw: 'Yaw',
      face_pitch: 'Pitch',
      face_roll: 'Roll',
      face_gaze: 'Gaze at camera',
      face_time: 'Media time',
      flag_absent: 'No face',
      flag_multiple: 'Several faces',
      yes: 'yes',
      no: 'no',
      events_title: 'Events',
      ws_connecting: 'connecting…',
      ws_open: 'live',
      ws_reconnecting: 'reconnecting…',
      ws_signed_out: 'signed out',
      ev_connection_started: 'Candidate connected',
      ev_media_flowing: 'Media flowing',
      ev_connection_ended: 'Candidate connection ended ({reason})',
      ev_face_absent_start: 'No face in the picture',
      ev_face_absent_stop: 'Candidate back in the picture',
      ev_face_multiple_start: 'Several faces in the picture ({faces})',
      ev_face_multiple_stop: 'One face in the picture again',
      ev_session_error: 'Session error: {message}',
      ev_media_dropped: 'Media dropped: {kind} × {count}',
      ev_session_created: 'Session created',
      ev_ws_resumed: 'Event stream reconnected (resuming at #{seq})',
      err_network: 'Network error: {detail}',
      err_http: 'Request failed: {detail}',
      err_no_session: 'Session {id} is not in the session list: the link may be wrong or the session deleted.',
      progress_title: 'Interview progress',
      p_practice: 'Practice question (not scored)',
      p_practice_short: 'Practice',
      p_number: 'Question {n} of {m}',
      p_number_short: 'Question {n}',
      p_pre: 'Before the questions',
      p_phase_waiting: 'not started',
      p_phase_prep: 'preparing',
      p_phase_answer: 'answering',
      p_phase_paused: 'paused (candidate disconnected)',
      p_phase_ended: 'ended',
      p_clock_prep: 'preparation left',
      p_clock_answer: 'answer time left',
      p_not_asked: 'not asked yet',
      p_state_running: 'in progress',
      p_state_ended: 'interview ended',
      p_between: 'waiting for the next question…',
      p_answer_range: 'answer {start}–{end}',
      p_outside: 'outside the answer time',
      reason_candidate_done: 'candidate finished',
      reason_time_limit: 'time limit',
      reason_long_silence: 'long silence',
      reason_no_answer: 'no answer',
      ev_question_started: '{label} started: {text}',
      ev_question_resumed: '{label} resumed (candidate reconnected)',
      ev_answer_started: '{label}: answer started',
      ev_answer_resumed: '{label}: answer resumed',
      ev_answer_ended: '{label}: answer ended ({reason})',
      ev_question_ended: '{label} ended',
      ev_interview_ended: 'Interview ended',
      ev_score: '{label} score: {overall}',
      ev_score_provisional: '{label} provisional score: {overall}',
      score_title: 'AI score',
      score_provisional: 'provisional',
      score_final: 'final',
      score_overall: 'overall',
      score_content: 'content',
      score_delivery: 'delivery',
      score_engagement: 'engagement',
      score_note: 'The AI score only assists; a recruiter makes the decision.',
      score_points: 'point {id}: {score}',
      ns_title: 'New interview session',
      ns_job: 'Job',
      ns_free_talk: 'Free talk (no questions)',
      ns_candidate: 'Candidate',
      ns_candidate_hint: 'The name is required when a job is chosen; the rest is optional and is compared with the job\'s requirements.',
      ns_name: 'Name',
      ns_education: 'Education',
      ns_edu_unset: '(not given)',
      ns_edu_none: 'None',
      ns_edu_associate: 'Associate degree',
      ns_edu_bachelor: 'Bachelor\'s',
      ns_edu_master: 'Master\'s',
      ns_edu_doctorate: 'Doctorate',
      ns_years: 'Years of experience',
      ns_skills: 'Skills (comma separated)',
      ns_certificates: 'Certificates (comma separated)',
      ns_languages: 'Languages (comma separated, e.g. zh, en)',
      ns_accommodation: 'Needs an accommodation (scored on content alone)',
      ns_submit: 'Create link',
      ns_err_name: 'The candidate\'s name is required when a job is chosen.',
      ns_err_name_profile: 'A candidate profile needs the candidate\'s name.',
      ns_err_check: 'Please check the marked fields.',
      ns_jobs_failed: 'Could not load the jobs: {detail}',
      cancel: 'Cancel',
      consent_title: 'Policy and consent',
      c_policy: 'Policy',
      c_voice: 'Voice processing',
      c_face: 'Face processing',
      c_emotion: 'Emotion inference',
      c_given: 'Consent given',
      policy_pipl: 'PIPL (China, separate consents)',
      policy_eu: 'EU (no emotion inference)',
      c_yes: 'given',
      c_no: 'not given',
      c_pending: 'not given yet',
      c_withdrawn: 'withdrawn',
      c_face_audio: 'not given (audio only)',
      c_emotion_on: 'on (context only)',
      c_emotion_off: 'off',
      ev_consent_given: 'Candidate consented (voice: {voice}, face: {face}, emotion: {emotion})',
      ev_consent_withdrawn: 'Candidate withdrew consent; analysis stopped',
      m_expression: 'Facial expression (context)',
      m_arousal: 'Voice arousal (context)',
      expr_angry: 'angry',
      expr_disgust: 'disgust',
      expr_fear: 'fear',
      expr_happy: 'happy',
      expr_sad: 'sad',
      expr_surprise: 'surprise',
      expr_neutral: 'neutral',
      affect_expression: 'Facial expression: {label} {share}',
      affect_voice: 'Voice arousal mean: {arousal} ({n} utterances)',
      affect_context: 'context, not scored',
      affect_counted: 'counted: {score}'
    }
  };

  var LANG_KEY = 'candor.hr.lang';
  var BACKOFF_MAX_MS = 10000;
  var LIST_REFRESH_MS = 5000;
  var MAX_LOG = 300;
  var MEDIA_AHEAD_MAX_S = 10; // how far the live clock runs on past the newest event

  function $(id) { return document.getElementById(id); }

  var ui = {
    lang: 'zh',
    view: null, // signin | list | live
    sessionId: null,
    ws: null,
    wsState: null,
    wsAttempt: 0,
    wsTimer: null,
    wsEverOpened: false,
    lastSeq: -1,
    utterances: {}, // utterance_id -> element
    listTimer: null,
    banner: null,
    // structured interview
    questions: {}, // question_id -> question state
    qList: [], // the same, by index
    current: null, // question_id of the question that is on
    total: null,
    scoredTotal: null,
    interviewEnded: false,
    preSection: null,
    progressTimer: null,
    clock: { t: 0, at: 0, running: false }, // media time from events
    // new session form
    jobs: null, // [{id, title, version}] from GET /v1/jobs
    nsErrors: [], // [{field, key} | {field, message}]
    // policy and consent of the watched session
    policy: null,
    consent: null,
    consentWithdrawn: false,
    consentFromEvents: false
  };

  // ---- i18n ----
  function t(key, params) {
    var table = STRINGS[ui.lang] || STRINGS.zh;
    var s = table[key] !== undefined ? table[key] : (STRINGS.zh[key] !== undefined ? STRINGS.zh[key] : key);
    if (params) {
      s = s.replace(/\{(\w+)\}/g, function (m, name) {
        return params[name] !== undefined && params[name] !== null ? String(params[name]) : '?';
      });
    }
    return s;
  }

  function applyLang(lang, remember) {
    ui.lang = STRINGS[lang] ? lang : 'zh';
    if (remember) {
      try { localStorage.setItem(LANG_KEY, ui.lang); } catch (e) { /* not kept */ }
    }
    document.documentElement.lang = ui.lang === 'zh' ? 'zh-CN' : 'en';
    var nodes = document.querySelectorAll('[data-i18n]');
    for (var i = 0; i < nodes.length; i++) nodes[i].textContent = t(nodes[i].getAttribute('data-i18n'));
    renderWsStatus();
    renderBanner();
    renderJobOptions();
    renderFieldErrors();
    renderConsent();
    renderInterview();
  }

  function showBanner(key, params) {
    ui.banner = key ? { key: key, params: params || null } : null;
    renderBanner();
  }
  function renderBanner() {
    if (!ui.banner) { $('banner').hidden = true; return; }
    $('banner-text').textContent = t(ui.banner.key, ui.banner.params);
    $('banner').hidden = false;
  }

  // ---- formatting ----
  function parseTime(v) {
    if (v === null || v === undefined || v === '') return null;
    var d = typeof v === 'number' ? new Date(v < 1e12 ? v * 1000 : v) : new Date(v);
    return isNaN(d.getTime()) ? null : d;
  }
  function fmtDateTime(v) {
    var d = parseTime(v);
    return d ? d.toLocaleString(ui.lang === 'zh' ? 'zh-CN' : 'en-GB') : '—';
  }
  function fmtClock(v) {
    var d = parseTime(v);
    if (!d) return '';
    function two(n) { return n < 10 ? '0' + n : String(n); }
    return two(d.getHours()) + ':' + two(d.getMinutes()) + ':' + two(d.getSeconds());
  }
  function fmtMedia(sec) {
    if (typeof sec !== 'number' || !isFinite(sec)) return '';
    var m = Math.floor(sec / 60);
    var s = sec - m * 60;
    return (m < 10 ? '0' : '') + m + ':' + (s < 10 ? '0' : '') + s.toFixed(1);
  }
  function fmtNum(v, digits, unit) {
    if (typeof v !== 'number' || !isFinite(v)) return '—';
    return v.toFixed(digits) + (unit || '');
  }
  function fmtShare(v) {
    if (typeof v === 'boolean') return v ? t('yes') : t('no');
    if (typeof v !== 'number' || !isFinite(v)) return '—';
    return Math.round(v * 100) + '%';
  }

  // ---- HTTP ----
  function AuthError(status) { this.name = 'AuthError'; this.status = status; this.message = 'HTTP ' + status; }
  AuthError.prototype = Object.create(Error.prototype);
  function HttpError(status, detail) { this.name = 'HttpError'; this.status = status; this.detail = detail; this.message = detail; }
  HttpError.prototype = Object.create(Error.prototype);

  async function readDetail(res) {
    var text = '';
    try { text = await res.text(); } catch (e) { /* none */ }
    try {
      var body = JSON.parse(text);
      return body.detail || body.title || ('HTTP ' + res.status);
    } catch (e) {
      return 'HTTP ' + res.status + (text ? ': ' + text.slice(0, 160) : '');
    }
  }

  async function api(method, path, body) {
    var opts = {
      method: method,
      credentials: 'same-origin',
      cache: 'no-store',
      headers: { Accept: 'application/json' }
    };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    var res = await fetch(path, opts);
    if (res.status === 401 || res.status === 403) throw new AuthError(res.status);
    if (!res.ok) throw new HttpError(res.status, await readDetail(res));
    if (res.status === 204) return null;
    var ct = res.headers.get('Content-Type') || '';
    return ct.indexOf('json') >= 0 ? res.json() : null;
  }

  function handleError(err) {
    if (err && err.name === 'AuthError') { showSignin(); return; }
    if (err && err.name === 'HttpError') { showBanner('err_http', { detail: err.detail }); return; }
    showBanner('err_network', { detail: (err && err.message) || String(err) });
  }

  // ---- views ----
  function setView(view) {
    ui.view = view;
    $('signin').hidden = view !== 'signin';
    $('list-view').hidden = view !== 'list';
    $('live-view').hidden = view !== 'live';
    $('logout').hidden = view === 'signin';
    if (view !== 'list') stopListRefresh();
  }

  function liveSessionIdFromPath() {
    var m = /^\/hr\/sessions\/([^\/]+)\/?$/.exec(location.pathname);
    return m ? decodeURIComponent(m[1]) : null;
  }

  function route() {
    showBanner(null);
    var id = liveSessionIdFromPath();
    if (id) openLive(id);
    else openList();
  }

  function showSignin() {
    closeEvents();
    setWsState(ui.sessionId ? 'signed-out' : null);
    setView('signin');
    $('signin-error').textContent = '';
    setTimeout(function () { $('hr-token').focus(); }, 0);
  }

  async function onSignin(ev) {
    ev.preventDefault();
    var token = $('hr-token').value.trim();
    if (!token) return;
    $('signin-submit').disabled = true;
    $('signin-error').textContent = '';
    try {
      var res = await fetch('/v1/hr/login', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ token: token })
      });
      if (res.status === 401 || res.status === 403) {
        $('signin-error').textContent = t('signin_bad');
        return;
      }
      if (!res.ok) {
        $('signin-error').textContent = t('signin_failed', { detail: await readDetail(res) });
        return;
      }
      $('hr-token').value = '';
      route();
    } catch (err) {
      $('signin-error').textContent = t('signin_failed', { detail: (err && err.message) || String(err) });
    } finally {
      $('signin-submit').disabled = false;
    }
  }

  async function onLogout() {
    try {
      await fetch('/v1/hr/logout', { method: 'POST', credentials: 'same-origin' });
    } catch (e) { /* the cookie expires anyway */ }
    showSignin();
  }

  // ---- list view ----
  async function openList() {
    try {
      await loadSessions();
      setView('list');
      startListRefresh();
    } catch (err) {
      handleError(err);
    }
  }

  function startListRefresh() {
    stopListRefresh();
    ui.listTimer = setInterval(function () {
      if (document.visibilityState === 'hidden') return;
      loadSessions().catch(handleError);
    }, LIST_REFRESH_MS);
  }
  function stopListRefresh() {
    clearInterval(ui.listTimer);
    ui.listTimer = null;
  }

  async function loadSessions() {
    var data = await api('GET', '/v1/sessions');
    var sessions = (data && data.sessions) || [];
    sessions.sort(function (a, b) {
      var da = parseTime(a.created_at), db = parseTime(b.created_at);
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
      var data = await api('GET', '/v1/jobs');
      ui.jobs = ((data && data.jobs) || []).filter(function (j) { return j && typeof j.id === 'string'; });
      renderJobOptions();
    } catch (err) {
      if (err && err.name === 'AuthError') { showSignin(); return; }
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
      handleError(err);
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
    if (res.status === 401 || res.status === 403) throw new AuthError(res.status);
    if (res.status === 422) {
      var problem = null;
      try { problem = await res.json(); } catch (e) { problem = null; }
      var errors = problem && Array.isArray(problem.errors) ? problem.errors.filter(function (e) { return e && e.field; }) : [];
      if (!errors.length) errors = [{ field: '', message: (problem && (problem.detail || problem.title)) || 'HTTP 422' }];
      setFieldErrors(errors);
      return null;
    }
    if (!res.ok) throw new HttpError(res.status, await readDetail(res));
    return res.json();
  }

  async function onCopy() {
    var input = $('candidate-link');
    var ok = false;
    try {
      if (navigator.clipboard && navigator.clipboard.writeText) {
        await navigator.clipboard.writeText(input.value);
        ok = true;
      }
    } catch (e) { ok = false; }
    if (!ok) {
      input.focus();
      input.select();
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    }
    $('copy-state').textContent = ok ? t('copied') : t('copy_failed');
  }

  // ---- live view ----
  async function openLive(id) {
    ui.sessionId = id;
    $('live-session-id').textContent = id;
    setView('live');
    try {
      var data = await api('GET', '/v1/sessions');
      var found = ((data && data.sessions) || []).filter(function (s) { return s.id === id; })[0];
      renderSessionState(found);
      if (!found) showBanner('err_no_session', { id: id });
      if (found) loadSessionWho(id);
    } catch (err) {
      if (err && err.name === 'AuthError') { showSignin(); return; }
      // the event stream may still work; say what failed
      handleError(err);
    }
    connectEvents();
  }

  // Who and for which job (the candidate's name is only in the one-session GET).
  function loadSessionWho(id) {
    api('GET', '/v1/sessions/' + encodeURIComponent(id)).then(function (s) {
      if (!s || ui.sessionId !== id) return;
      var who = [];
      var name = s.candidate && typeof s.candidate === 'object' ? s.candidate.name : null;
      if (typeof name === 'string' && name) who.push(name);
      if (typeof s.job_id === 'string' && s.job_id) who.push(s.job_id + (s.job_version ? ' v' + s.job_version : ''));
      var node = $('live-session-who');
      node.textContent = who.join(' · ');
      node.hidden = !who.length;
      if (typeof s.policy === 'string') ui.policy = s.policy;
      // The event stream (replayed from the start) has the last word on consent.
      if (!ui.consentFromEvents && s.consent !== undefined) ui.consent = s.consent && typeof s.consent === 'object' ? s.consent : null;
      renderConsent();
    }, function () { /* optional detail */ });
  }

  // ---- policy and consent of the watched session ----
  function policyLabel(name) {
    if (!name) return '—';
    var key = 'policy_' + name;
    return STRINGS.zh[key] !== undefined ? t(key) : String(name);
  }

  function renderConsent() {
    var card = $('consent-card');
    if (!card) return;
    var c = ui.consent;
    var policy = (c && c.policy) || ui.policy;
    $('c-policy').textContent = policyLabel(policy);
    var voice = $('c-voice');
    var face = $('c-face');
    var emotion = $('c-emotion');
    if (c) {
      voice.textContent = t(c.voice ? 'c_yes' : 'c_no');
      face.textContent = t(c.face ? 'c_yes' : 'c_face_audio');
      emotion.textContent = typeof c.emotion === 'boolean' ? t(c.emotion ? 'c_emotion_on' : 'c_emotion_off') : '—';
      $('c-given').textContent = fmtDateTime(c.given_at) || '—';
    } else {
      var none = t(ui.consentWithdrawn ? 'c_withdrawn' : 'c_pending');
      voice.textContent = policy ? none : '—';
      face.textContent = policy ? none : '—';
      emotion.textContent = policy === 'eu' ? t('c_emotion_off') : '—';
      $('c-given').textContent = '—';
    }
    voice.className = c && c.voice ? 'ok' : (ui.consentWithdrawn && !c ? 'warn' : '');
    face.className = c && c.face ? 'ok' : (ui.consentWithdrawn && !c ? 'warn' : '');
    card.setAttribute('data-consent', c ? 'given' : (ui.consentWithdrawn ? 'withdrawn' : 'none'));
  }

  function onConsentGiven(event, p) {
    ui.consentFromEvents = true;
    ui.consentWithdrawn = false;
    ui.consent = {
      policy: p.policy || ui.policy, voice: p.voice === true, face: p.face === true,
      emotion: typeof p.emotion === 'boolean' ? p.emotion : null,
      given_at: p.given_at || (typeof event.wall_time === 'number' ? event.wall_time : null)
    };
    if (p.policy) ui.policy = p.policy;
    renderConsent();
    logLine(event, t('ev_consent_given', {
      voice: t(p.voice ? 'c_yes' : 'c_no'), face: t(p.face ? 'c_yes' : 'c_no'),
      emotion: t(p.emotion ? 'c_emotion_on' : 'c_emotion_off')
    }), '');
  }

  function onConsentWithdrawn(event, p) {
    ui.consentFromEvents = true;
    ui.consentWithdrawn = true;
    ui.consent = null;
    if (p.policy) ui.policy = p.policy;
    renderConsent();
    logLine(event, t('ev_consent_withdrawn'), 'warn');
  }

  function expressionLabel(label) {
    var key = 'expr_' + label;
    return STRINGS.zh[key] !== undefined ? t(key) : String(label);
  }

  function onExpressionMetrics(event, p) {
    var probs = p.probabilities && typeof p.probabilities === 'object' ? p.probabilities : null;
    var dom = typeof p.dominant === 'string' ? p.dominant : null;
    if (!dom) { $('m-expression').textContent = '—'; return; }
    var share = probs && num(probs[dom]) !== null ? ' ' + fmtShare(probs[dom]) : '';
    $('m-expression').textContent = expressionLabel(dom) + share;
  }

  function onVoiceAffect(event, p) {
    $('m-arousal').textContent = num(p.arousal) !== null ? p.arousal.toFixed(2) : '—';
  }

  function renderSessionState(s) {
    var el = $('live-session-state');
    if (!s) { el.hidden = true; return; }
    el.textContent = (s.state || '') + (s.connected ? ' · ' + t('connected_yes') : '');
    el.className = 'pill' + (s.connected ? ' pill-live' : '');
    el.hidden = false;
  }

  function eventsUrl() {
    var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    return scheme + location.host + '/v1/sessions/' + encodeURIComponent(ui.sessionId) +
      '/events?from_seq=' + (ui.lastSeq + 1);
  }

  function setWsState(state) {
    ui.wsState = state;
    renderWsStatus();
  }
  function renderWsStatus() {
    var el = $('ws-status');
    if (!ui.wsState) { el.hidden = true; return; }
    el.textContent = t('ws_' + ui.wsState.replace('-', '_'));
    el.className = 'pill pill-' + ui.wsState;
    el.hidden = false;
  }

  function closeEvents() {
    clearTimeout(ui.wsTimer);
    ui.wsTimer = null;
    var ws = ui.ws;
    ui.ws = null;
    if (ws) {
      ws.onopen = ws.onclose = ws.onmessage = ws.onerror = null;
      try { ws.close(1000); } catch (e) { /* closed */ }
    }
  }

  function connectEvents() {
    closeEvents();
    if (!ui.sessionId) return;
    setWsState(ui.wsEverOpened ? 'reconnecting' : 'connecting');
    var opened = false;
    var ws;
    try {
      ws = new WebSocket(eventsUrl());
    } catch (err) {
      scheduleEvents(null);
      return;
    }
    ui.ws = ws;
    ws.onopen = function () {
      opened = true;
      ui.wsAttempt = 0;
      if (ui.wsEverOpened) logLine(null, t('ev_ws_resumed', { seq: ui.lastSeq + 1 }), 'muted');
      ui.wsEverOpened = true;
      setWsState('open');
    };
    ws.onmessage = function (ev) {
      if (typeof ev.data !== 'string') return; // JSON text frames only
      var event;
      try { event = JSON.parse(ev.data); } catch (e) { return; }
      if (!event || typeof event !== 'object') return;
      var seq = Number(event.seq);
      if (isFinite(seq)) {
        if (seq <= ui.lastSeq) return; // already seen before a reconnect
        ui.lastSeq = seq;
      }
      try { onEvent(event); } catch (e) { if (window.console) console.error('event', e); }
    };
    ws.onclose = function (ev) {
      if (ui.ws !== ws) return;
      ui.ws = null;
      if (ev.code === 4401 || ev.code === 4403) { showSignin(); return; }
      if (ev.code === 4001) { scheduleEvents(0); return; } // too slow: dropped, come back at once
      if (!opened) {
        // A refused handshake hides its HTTP status: ask the API whether we are signed in.
        api('GET', '/v1/sessions').then(function () { scheduleEvents(null); }, function (err) {
          if (err && err.name === 'AuthError') showSignin();
          else scheduleEvents(null);
        });
        return;
      }
      scheduleEvents(null);
    };
  }

  function scheduleEvents(delayMs) {
    clearTimeout(ui.wsTimer);
    var n = ++ui.wsAttempt;
    var delay = delayMs;
    if (delay === null || delay === undefined) {
      delay = Math.min(BACKOFF_MAX_MS, 500 * Math.pow(2, n - 1));
      delay = Math.round(delay * (0.8 + 0.4 * Math.random()));
    }
    setWsState('reconnecting');
    ui.wsTimer = setTimeout(connectEvents, delay);
  }

  function onEvent(event) {
    var p = event.payload && typeof event.payload === 'object' ? event.payload : {};
    noteMediaTime(event);
    switch (event.type) {
      case 'question.started': return onQuestionStarted(event, p);
      case 'answer.started': return onAnswerStarted(event, p);
      case 'answer.ended': return onAnswerEnded(event, p);
      case 'question.ended': return onQuestionEnded(event, p);
      case 'interview.ended': return onInterviewEnded(event, p);
      case 'score.provisional': return onScore(event, p, true);
      case 'score.question': return onScore(event, p, false);
      case 'transcript.partial': return onPartial(event, p);
      case 'transcript.final': return onFinal(event, p);
      case 'speech.start': return setSpeaking(true);
      case 'speech.end': return setSpeaking(false);
      case 'face.metrics': return onFaceMetrics(event, p);
      case 'expression.metrics': return onExpressionMetrics(event, p);
      case 'voice.affect': return onVoiceAffect(event, p);
      case 'consent.given': return onConsentGiven(event, p);
      case 'consent.withdrawn': return onConsentWithdrawn(event, p);
      case 'face.absent':
        $('flag-absent').hidden = p.state !== 'start';
        return logLine(event, t(p.state === 'start' ? 'ev_face_absent_start' : 'ev_face_absent_stop'),
          p.state === 'start' ? 'warn' : '');
      case 'face.multiple':
        $('flag-multiple').hidden = p.state !== 'start';
        return logLine(event, t(p.state === 'start' ? 'ev_face_multiple_start' : 'ev_face_multiple_stop',
          { faces: p.faces }), p.state === 'start' ? 'warn' : '');
      case 'connection.started':
        refreshSessionState();
        return logLine(event, t('ev_connection_started') + (p.connection_id ? ' · ' + p.connection_id : ''), '');
      case 'connection.ended':
        setSpeaking(false);
        if (p.reason !== 'replaced') {
          ui.clock.running = false;
          pauseCurrent();
        }
        refreshSessionState();
        return logLine(event, t('ev_connection_ended', { reason: p.reason || '—' }), 'warn');
      case 'session.error':
        return logLine(event, t('ev_session_error', { message: p.message || '' }), 'error');
      case 'media.dropped':
        return logLine(event, t('ev_media_dropped', { kind: p.kind, count: p.count }), 'warn');
      case 'session.created':
        return logLine(event, t('ev_session_created'), '');
      case 'media.flowing':
        ui.clock.running = true;
        ui.clock.at = nowMs();
        return logLine(event, t('ev_media_flowing'), '');
      default:
        return logUnknown(event, p);
    }
  }

  function refreshSessionState() {
    api('GET', '/v1/sessions').then(function (data) {
      var found = ((data && data.sessions) || []).filter(function (s) { return s.id === ui.sessionId; })[0];
      renderSessionState(found);
    }, function () { /* shown by the next failure that matters */ });
  }

  function setSpeaking(on) {
    var el = $('speaking');
    el.textContent = on ? t('speaking') : '';
    el.className = 'speaking' + (on ? ' on' : '');
  }

  function utteranceKey(event, p) {
    if (p.utterance_id !== undefined && p.utterance_id !== null) return String(p.utterance_id);
    return 'seq-' + event.seq;
  }

  function utteranceRow(key, start) {
    var row = ui.utterances[key];
    if (row) return row;
    var box = $('transcript');
    var nearBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    row = document.createElement('div');
    row.className = 'utt partial';
    row.setAttribute('data-utterance', key);
    var time = document.createElement('span');
    time.className = 'utt-time';
    var text = document.createElement('span');
    text.className = 'utt-text';
    row.appendChild(time);
    row.appendChild(text);
    if (typeof start === 'number' && isFinite(start)) row.setAttribute('data-start', String(start));
    ui.utterances[key] = row;
    placeRow(row);
    $('transcript-empty').hidden = true;
    if (nearBottom) box.scrollTop = box.scrollHeight;
    return row;
  }

  function onPartial(event, p) {
    var key = utteranceKey(event, p);
    var row = utteranceRow(key, num(p.start) !== null ? p.start : num(event.media_time));
    if (row.className.indexOf('final') >= 0) return; // a late partial never undoes a final
    var text = row.children[1];
    while (text.firstChild) text.removeChild(text.firstChild);
    if (typeof p.stable === 'string' || typeof p.unstable === 'string') {
      var st = document.createElement('span');
      st.className = 'stable';
      st.textContent = p.stable || '';
      var un = document.createElement('span');
      un.className = 'unstable';
      un.textContent = p.unstable ? ((p.stable ? ' ' : '') + p.unstable) : '';
      text.appendChild(st);
      text.appendChild(un);
      if (!p.stable && !p.unstable && p.text) text.textContent = p.text;
    } else {
      text.textContent = p.text || '';
    }
    row.children[0].textContent = fmtMedia(event.media_time);
    keepScrolled();
  }

  function onFinal(event, p) {
    var key = utteranceKey(event, p);
    var start = typeof p.start === 'number' ? p.start : event.media_time;
    var end = typeof p.end === 'number' ? p.end : null;
    var row = utteranceRow(key, start);
    row.className = 'utt final' + (row.classList.contains('outside') ? ' outside' : '');
    if (typeof start === 'number' && isFinite(start)) row.setAttribute('data-start', String(start));
    if (end !== null) row.setAttribute('data-end', String(end));
    placeRow(row);
    row.children[0].textContent = fmtMedia(start) + (end !== null ? '–' + fmtMedia(end) : '');
    row.children[1].textContent = p.text || '';
    if (p.language) row.setAttribute('lang', p.language);
    keepScrolled();
  }

  function keepScrolled() {
    var box = $('transcript');
    if (box.scrollHeight - box.scrollTop - box.clientHeight < 120) box.scrollTop = box.scrollHeight;
  }

  function onFaceMetrics(event, p) {
    $('m-presence').textContent = fmtShare(p.presence);
    var fm = typeof p.faces_max === 'number' ? String(p.faces_max) : '—';
    $('m-faces').textContent = fm + ' / ' + fmtNum(p.faces_mean, 2);
    $('m-yaw').textContent = fmtNum(p.yaw, 1, '°');
    $('m-pitch').textContent = fmtNum(p.pitch, 1, '°');
    $('m-roll').textContent = fmtNum(p.roll, 1, '°');
    $('m-gaze').textContent = fmtShare(p.gaze_at_camera);
    var mt = typeof p.newest_media_time === 'number' ? p.newest_media_time : event.media_time;
    $('m-time').textContent = fmtMedia(mt) || '—';
  }

  // ---- structured interview: progress panel, transcript by question, scores ----
  function num(v) { return typeof v === 'number' && isFinite(v) ? v : null; }

  function nowMs() { return window.performance && performance.now ? performance.now() : Date.now(); }

  function locText(text) {
    if (typeof text === 'string') return text;
    if (!text || typeof text !== 'object') return '';
    var other = ui.lang === 'zh' ? 'en' : 'zh';
    return text[ui.lang] || text[other] || '';
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  // Media time now, from the newest event (the server's clock runs on the
  // candidate's audio: it stands still while nobody is connected).
  function noteMediaTime(event) {
    var mt = num(event.media_time);
    if (mt === null) return;
    if (mt >= ui.clock.t) {
      ui.clock.t = mt;
      ui.clock.at = nowMs();
    }
  }
  function mediaNow() {
    var c = ui.clock;
    if (!c.running) return c.t;
    return c.t + Math.min(MEDIA_AHEAD_MAX_S, Math.max(0, (nowMs() - c.at) / 1000));
  }

  function questionFor(id, index) {
    var key = String(id);
    var q = ui.questions[key];
    if (!q) {
      q = {
        id: key, index: null, total: null, number: null, scoredTotal: null, practice: false, text: null,
        prepS: null, answerS: null, phase: 'waiting', deadline: null, paused: false, pausedLeft: null,
        qStart: null, qEnd: null, aStart: null, aEnd: null, reason: null, score: null,
        section: null, head: null, rows: null, scoreBox: null
      };
      ui.questions[key] = q;
      ui.qList.push(q);
    }
    if (index !== null && index !== undefined) q.index = index;
    ui.qList.sort(function (a, b) { return (a.index === null ? 1e9 : a.index) - (b.index === null ? 1e9 : b.index); });
    return q;
  }

  function qNumber(q) {
    if (q.number !== null && q.number > 0) return q.number;
    var n = 0;
    for (var i = 0; i < ui.qList.length; i++) {
      if (!ui.qList[i].practice) n++;
      if (ui.qList[i] === q) return n;
    }
    return q.index !== null ? q.index + 1 : n;
  }
  function qScoredTotal() {
    if (ui.scoredTotal !== null) return ui.scoredTotal;
    if (ui.total !== null) {
      var practice = ui.qList.filter(function (q) { return q.practice; }).length;
      return ui.total - practice;
    }
    return null;
  }
  function qLabel(q, long) {
    if (q.practice) return t(long ? 'p_practice' : 'p_practice_short');
    var m = qScoredTotal();
    return long && m ? t('p_number', { n: qNumber(q), m: m }) : t('p_number_short', { n: qNumber(q) });
  }
  function reasonText(reason) {
    if (!reason) return '';
    var key = 'reason_' + reason;
    return STRINGS.zh[key] !== undefined ? t(key) : String(reason);
  }
  function qLeft(q) {
    if (q.paused) return q.pausedLeft;
    if (q.deadline === null) return null;
    return Math.max(0, q.deadline - mediaNow());
  }
  function fmtCountdown(sec) {
    if (sec === null || sec === undefined || !isFinite(sec)) return '';
    var s = Math.max(0, Math.ceil(sec));
    var m = Math.floor(s / 60);
    s -= m * 60;
    return (m < 10 ? '0' : '') + m + ':' + (s < 10 ? '0' : '') + s;
  }

  function onQuestionStarted(event, p) {
    if (p.question_id === undefined || p.question_id === null) return logUnknown(event, p);
    var q = questionFor(p.question_id, num(p.index));
    if (num(p.total) !== null) ui.total = p.total;
    if (num(p.scored_total) !== null) ui.scoredTotal = p.scored_total;
    if (num(p.number) !== null) q.number = p.number;
    q.practice = p.practice === true || p.kind === 'practice';
    if (p.text) q.text = p.text;
    if (num(p.prep_s) !== null) q.prepS = p.prep_s;
    if (num(p.answer_s) !== null) q.answerS = p.answer_s;
    if (q.qStart === null) q.qStart = num(event.media_time);
    q.phase = p.phase === 'answer' ? 'answer' : 'prep';
    q.deadline = num(p.deadline);
    q.paused = false;
    q.pausedLeft = null;
    q.qEnd = null;
    ui.current = q.id;
    ui.interviewEnded = false;
    ensureSection(q);
    afterFlowChange();
    logLine(event, t(p.resumed ? 'ev_question_resumed' : 'ev_question_started',
      { label: qLabel(q), text: locText(q.text) }), '');
  }

  function onAnswerStarted(event, p) {
    if (p.question_id === undefined || p.question_id === null) return logUnknown(event, p);
    var q = questionFor(p.question_id, num(p.index));
    q.phase = 'answer';
    if (q.aStart === null) q.aStart = num(event.media_time);
    if (num(p.answer_ends_at) !== null) q.deadline = p.answer_ends_at;
    q.paused = false;
    q.pausedLeft = null;
    ui.current = q.id;
    ensureSection(q);
    afterFlowChange();
    logLine(event, t(p.resumed ? 'ev_answer_resumed' : 'ev_answer_started', { label: qLabel(q) }), '');
  }

  function onAnswerEnded(event, p) {
    if (p.question_id === undefined || p.question_id === null) return logUnknown(event, p);
    var q = questionFor(p.question_id, num(p.index));
    q.phase = 'ended';
    q.paused = false;
    q.reason = p.reason || null;
    if (num(p.start) !== null) q.aStart = p.start;
    else if (q.aStart === null) q.aStart = num(event.media_time);
    q.aEnd = num(p.end) !== null ? p.end : num(event.media_time);
    ensureSection(q);
    afterFlowChange();
    logLine(event, t('ev_answer_ended', { label: qLabel(q), reason: reasonText(q.reason) || '—' }),
      q.reason === 'no_answer' || q.reason === 'long_silence' ? 'warn' : '');
  }

  function onQuestionEnded(event, p) {
    if (p.question_id === undefined || p.question_id === null) return logUnknown(event, p);
    var q = questionFor(p.question_id, num(p.index));
    q.phase = 'ended';
    q.paused = false;
    q.qEnd = num(event.media_time);
    if (p.practice === true) q.practice = true;
    if (ui.current === q.id) ui.current = null;
    ensureSection(q);
    afterFlowChange();
    logLine(event, t('ev_question_ended', { label: qLabel(q) }), '');
  }

  function onInterviewEnded(event) {
    ui.interviewEnded = true;
    ui.current = null;
    ui.qList.forEach(function (q) {
      if (q.phase === 'prep' || q.phase === 'answer') q.phase = 'ended';
    });
    afterFlowChange();
    logLine(event, t('ev_interview_ended'), '');
  }

  // The candidate dropped: the server freezes the question until they are back.
  function pauseCurrent() {
    var q = ui.current ? ui.questions[ui.current] : null;
    if (!q || q.paused || (q.phase !== 'prep' && q.phase !== 'answer')) return;
    q.pausedLeft = qLeft(q);
    q.paused = true;
    renderProgress();
    renderSection(q);
  }

  function afterFlowChange() {
    $('progress').hidden = false;
    regroup();
    renderProgress();
    renderSections();
    if (!ui.progressTimer) ui.progressTimer = setInterval(renderCurrent, 250);
  }

  function renderProgress() {
    if ($('progress').hidden) return;
    var state = $('p-state');
    state.textContent = t(ui.interviewEnded ? 'p_state_ended' : 'p_state_running');
    state.className = 'pill' + (ui.interviewEnded ? ' pill-finished' : ' pill-live');
    renderCurrent();
    renderList();
  }

  function renderCurrent() {
    if ($('progress').hidden) return;
    var q = ui.current ? ui.questions[ui.current] : null;
    var label = $('p-label');
    var phase = $('p-phase');
    var text = $('p-text');
    var clock = $('p-clock');
    var clockLabel = $('p-clock-label');
    var fill = $('p-bar-fill');
    var box = $('p-current');
    if (!q) {
      label.textContent = t(ui.interviewEnded ? 'p_state_ended' : 'p_between');
      label.className = 'q-label muted';
      phase.hidden = true;
      text.textContent = '';
      text.hidden = true;
      clock.textContent = '';
      clockLabel.textContent = '';
      fill.parentNode.hidden = true;
      box.className = 'p-current idle';
      return;
    }
    label.textContent = qLabel(q, true);
    label.className = 'q-label' + (q.practice ? ' practice' : '');
    var ph = q.paused ? 'paused' : q.phase;
    phase.textContent = t('p_phase_' + ph);
    phase.className = 'pill q-phase-' + ph;
    phase.hidden = false;
    text.textContent = locText(q.text);
    text.hidden = false;
    var left = q.phase === 'ended' ? 0 : qLeft(q);
    var total = q.phase === 'answer' ? q.answerS : q.prepS;
    clockLabel.textContent = q.phase === 'ended' ? '' : t(q.phase === 'answer' ? 'p_clock_answer' : 'p_clock_prep');
    clock.textContent = fmtCountdown(left);
    var frac = left !== null && total ? Math.max(0, Math.min(1, left / total)) : 0;
    fill.style.width = (frac * 100).toFixed(1) + '%';
    fill.parentNode.hidden = q.phase === 'ended';
    box.className = 'p-current q-timer-' + (q.phase === 'answer' ? 'answer' : 'prep') +
      (left !== null && left <= 10 && !q.paused && q.phase !== 'ended' ? ' urgent' : '') + (q.paused ? ' paused' : '');
  }

  function statusText(q) {
    if (q.phase === 'ended') return t('p_phase_ended') + (q.reason ? ' · ' + reasonText(q.reason) : '');
    if (q.paused) return t('p_phase_paused');
    return t('p_phase_' + q.phase);
  }

  function renderList() {
    var list = $('p-list');
    clear(list);
    var byIndex = {};
    ui.qList.forEach(function (q) { if (q.index !== null) byIndex[q.index] = q; });
    var count = Math.max(ui.total || 0, ui.qList.length);
    var practiceCount = ui.qList.filter(function (x) { return x.practice; }).length;
    var seen = {};
    for (var i = 0; i < count; i++) {
      var q = byIndex[i];
      var li = el('li', 'p-item');
      if (!q) {
        li.className += ' not-asked';
        var n = i - practiceCount + 1; // practice questions come first
        li.appendChild(el('span', 'p-num', n >= 1 ? t('p_number_short', { n: n }) : '#' + (i + 1)));
        li.appendChild(el('span', 'p-qtext muted', t('p_not_asked')));
        list.appendChild(li);
        continue;
      }
      seen[q.id] = true;
      list.appendChild(listItem(q));
    }
    ui.qList.forEach(function (q) { if (!seen[q.id] && q.index === null) list.appendChild(listItem(q)); });
  }

  function listItem(q) {
    var ph = q.paused ? 'paused' : q.phase;
    var li = el('li', 'p-item state-' + ph + (q.id === ui.current ? ' current' : ''));
    li.setAttribute('data-question-id', q.id);
    li.appendChild(el('span', 'p-num' + (q.practice ? ' practice' : ''), qLabel(q)));
    var txt = el('span', 'p-qtext', locText(q.text) || '—');
    txt.title = locText(q.text);
    li.appendChild(txt);
    li.appendChild(el('span', 'p-status', statusText(q)));
    if (q.score) {
      var sc = scoreScale(q.score.data);
      var chip = el('span', 'p-score' + (q.score.provisional ? ' provisional' : ''),
        fmtScore(q.score.data.overall, sc));
      chip.title = t(q.score.provisional ? 'score_provisional' : 'score_final');
      li.appendChild(chip);
    }
    li.addEventListener('click', function () {
      if (q.section) q.section.scrollIntoView({ block: 'start', behavior: 'smooth' });
    });
    return li;
  }

  // ---- transcript sections, one per question ----
  function preSection() {
    if (ui.preSection) return ui.preSection;
    var sec = el('section', 'q-group pre');
    var head = el('div', 'q-group-head');
    head.hidden = true;
    head.appendChild(el('span', 'q-group-label', t('p_pre')));
    var rows = el('div', 'q-group-rows');
    sec.appendChild(head);
    sec.appendChild(rows);
    var box = $('transcript');
    var empty = $('transcript-empty');
    box.insertBefore(sec, empty.nextSibling);
    ui.preSection = { section: sec, head: head, rows: rows };
    return ui.preSection;
  }

  function ensureSection(q) {
    if (q.section) return;
    var sec = el('section', 'q-group');
    sec.setAttribute('data-question-id', q.id);
    var head = el('div', 'q-group-head');
    var rows = el('div', 'q-group-rows');
    var score = el('div', 'score-box');
    sec.appendChild(head);
    sec.appendChild(rows);
    sec.appendChild(score);
    q.section = sec;
    q.head = head;
    q.rows = rows;
    q.scoreBox = score;
    preSection(); // keeps "before the questions" first
    var box = $('transcript');
    var after = null;
    var sections = box.querySelectorAll('section.q-group[data-question-id]');
    for (var i = 0; i < sections.length; i++) {
      var other = ui.questions[sections[i].getAttribute('data-question-id')];
      if (other && other.index !== null && q.index !== null && other.index > q.index) { after = sections[i]; break; }
    }
    box.insertBefore(sec, after);
    renderSection(q);
    if (q.score) renderScoreCard(q);
  }

  function renderSections() {
    ui.qList.forEach(function (q) { if (q.section) renderSection(q); });
    if (ui.preSection) {
      ui.preSection.head.hidden = !ui.qList.length || !ui.preSection.rows.children.length;
      ui.preSection.head.firstChild.textContent = t('p_pre');
    }
  }

  function renderSection(q) {
    var head = q.head;
    clear(head);
    head.appendChild(el('span', 'q-group-label' + (q.practice ? ' practice' : ''), qLabel(q)));
    head.appendChild(el('span', 'q-group-text', locText(q.text)));
    var meta = [];
    if (q.aStart !== null) {
      meta.push(t('p_answer_range', { start: fmtMedia(q.aStart), end: q.aEnd !== null ? fmtMedia(q.aEnd) : '…' }));
    }
    meta.push(statusText(q));
    head.appendChild(el('span', 'q-group-meta', meta.join(' · ')));
    q.section.className = 'q-group' + (q.id === ui.current ? ' current' : '');
  }

  // Which question an utterance belongs to: the answer window it overlaps
  // most; else the question whose time (preparation included) it falls in.
  function groupFor(start, end) {
    if (start === null) return null;
    var e = end !== null && end > start ? end : start;
    var best = null;
    var bestOverlap = 0;
    var i, q;
    for (i = 0; i < ui.qList.length; i++) {
      q = ui.qList[i];
      if (q.aStart === null) continue;
      var aEnd = q.aEnd !== null ? q.aEnd : Infinity;
      var overlap = Math.min(e, aEnd) - Math.max(start, q.aStart);
      if (e === start) overlap = start >= q.aStart - 0.3 && start <= aEnd ? 1e-6 : -1;
      if (overlap > bestOverlap) { best = q; bestOverlap = overlap; }
    }
    if (best) return { q: best, outside: false };
    for (i = 0; i < ui.qList.length; i++) {
      q = ui.qList[i];
      if (q.qStart === null) continue;
      var qEnd = q.qEnd !== null ? q.qEnd : Infinity;
      if (start >= q.qStart && start < qEnd) return { q: q, outside: true };
    }
    return null;
  }

  function placeRow(row) {
    var start = row.hasAttribute('data-start') ? Number(row.getAttribute('data-start')) : null;
    var end = row.hasAttribute('data-end') ? Number(row.getAttribute('data-end')) : null;
    if (start !== null && !isFinite(start)) start = null;
    if (end !== null && !isFinite(end)) end = null;
    var g = ui.qList.length ? groupFor(start, end) : null;
    var rows = g ? g.q.rows : preSection().rows;
    if (g && !rows) { ensureSection(g.q); rows = g.q.rows; }
    var outside = !!(g && g.outside);
    if (outside !== row.classList.contains('outside')) {
      row.classList.toggle('outside', outside);
      row.title = outside ? t('p_outside') : '';
    }
    if (row.parentNode === rows) return;
    var before = null;
    if (start !== null) {
      for (var i = 0; i < rows.children.length; i++) {
        var s = Number(rows.children[i].getAttribute('data-start'));
        if (isFinite(s) && s > start) { before = rows.children[i]; break; }
      }
    }
    rows.insertBefore(row, before);
  }

  function regroup() {
    for (var key in ui.utterances) {
      if (Object.prototype.hasOwnProperty.call(ui.utterances, key)) placeRow(ui.utterances[key]);
    }
    if (ui.preSection) ui.preSection.head.hidden = !ui.qList.length || !ui.preSection.rows.children.length;
  }

  // ---- scores (provisional ones replaced by the final one) ----
  function scoreScale(p) {
    var max = num(p.max) || num(p.scale) || null;
    if (max) return { max: max };
    var values = [num(p.overall), num(p.content)];
    if (p.delivery && typeof p.delivery === 'object') values.push(num(p.delivery.score));
    if (p.engagement && typeof p.engagement === 'object') values.push(num(p.engagement.score));
    (Array.isArray(p.competencies) ? p.competencies : []).forEach(function (c) { if (c) values.push(num(c.score)); });
    values = values.filter(function (v) { return v !== null; });
    var top = values.length ? Math.max.apply(null, values) : 100;
    if (top <= 1) return { max: 1, percent: true };
    if (top <= 5) return { max: 5 };
    if (top <= 10) return { max: 10 };
    return { max: 100 };
  }
  function fmtScore(v, scale) {
    v = num(v);
    if (v === null) return '—';
    if (scale.percent) return String(Math.round(v * 100));
    if (scale.max <= 10) return (Math.round(v * 10) / 10).toFixed(1) + '/' + scale.max;
    return String(Math.round(v));
  }
  function scoreFrac(v, scale) {
    v = num(v);
    return v === null ? 0 : Math.max(0, Math.min(1, v / scale.max));
  }

  function onScore(event, p, provisional) {
    if (p.question_id === undefined || p.question_id === null) return logUnknown(event, p);
    var q = questionFor(p.question_id, num(p.index));
    if (provisional && q.score && !q.score.provisional) return; // the final one stays
    q.score = { provisional: provisional, data: p };
    $('progress').hidden = false;
    ensureSection(q);
    renderScoreCard(q);
    renderList();
    logLine(event, t(provisional ? 'ev_score_provisional' : 'ev_score',
      { label: qLabel(q), overall: fmtScore(p.overall, scoreScale(p)) }), '');
  }

  function renderScoreCard(q) {
    var box = q.scoreBox;
    if (!box) return;
    clear(box);
    if (!q.score) return;
    var p = q.score.data || {};
    var scale = scoreScale(p);
    var card = el('div', 'score-card' + (q.score.provisional ? ' provisional' : ' final'));
    card.setAttribute('data-question-id', q.id);
    var head = el('div', 'score-head');
    head.appendChild(el('span', 'score-title', t('score_title')));
    head.appendChild(el('span', 'pill ' + (q.score.provisional ? 'pill-connecting' : 'pill-live'),
      t(q.score.provisional ? 'score_provisional' : 'score_final')));
    head.appendChild(el('span', 'spacer'));
    head.appendChild(el('span', 'score-overall-label muted small', t('score_overall')));
    head.appendChild(el('span', 'score-overall', fmtScore(p.overall, scale)));
    card.appendChild(head);
    var expl = locText(p.explanation);
    if (expl) card.appendChild(el('p', 'score-expl', expl));
    var subs = [];
    if (num(p.content) !== null) subs.push(t('score_content') + ' ' + fmtScore(p.content, scale));
    if (p.delivery && num(p.delivery.score) !== null) subs.push(t('score_delivery') + ' ' + fmtScore(p.delivery.score, scale));
    if (p.engagement && num(p.engagement.score) !== null) subs.push(t('score_engagement') + ' ' + fmtScore(p.engagement.score, scale));
    if (subs.length) card.appendChild(el('p', 'score-subs muted small', subs.join(' · ')));
    affectLines(p.affect, scale).forEach(function (line) { card.appendChild(line); });
    (Array.isArray(p.competencies) ? p.competencies : []).forEach(function (c) {
      if (!c || typeof c !== 'object') return;
      var comp = el('div', 'comp');
      var row = el('div', 'comp-row');
      row.appendChild(el('span', 'comp-name', locText(c.name) || String(c.id || '—')));
      var bar = el('span', 'comp-bar');
      var fill = el('span', 'comp-fill');
      fill.style.width = (scoreFrac(c.score, scale) * 100).toFixed(1) + '%';
      bar.appendChild(fill);
      row.appendChild(bar);
      row.appendChild(el('span', 'comp-val', fmtScore(c.score, scale)));
      comp.appendChild(row);
      var quotes = [];
      var seenQuote = {};
      (Array.isArray(c.points) ? c.points : []).forEach(function (pt) {
        if (!pt || !Array.isArray(pt.evidence)) return;
        pt.evidence.forEach(function (ev) {
          if (!ev || typeof ev.text !== 'string' || !ev.text.trim()) return;
          var k = ev.text + '@' + ev.start;
          if (seenQuote[k]) return;
          seenQuote[k] = true;
          quotes.push(ev);
        });
      });
      if (quotes.length) {
        var ul = el('ul', 'evidence');
        quotes.slice(0, 4).forEach(function (ev) {
          var li = el('li');
          li.appendChild(el('span', 'ev-quote', '“' + ev.text.trim() + '”'));
          var range = fmtMedia(num(ev.start));
          if (range && num(ev.end) !== null) range += '–' + fmtMedia(ev.end);
          if (range) {
            var time = el('button', 'ev-time link-button', range);
            time.type = 'button';
            time.addEventListener('click', function () { showRowAt(num(ev.start)); });
            li.appendChild(time);
          }
          ul.appendChild(li);
        });
        comp.appendChild(ul);
      }
      card.appendChild(comp);
    });
    card.appendChild(el('p', 'score-note muted small', t('score_note')));
    box.appendChild(card);
  }

  // Emotion context of an answer: one short line each, said whether it counts.
  function affectLines(a, scale) {
    if (!a || typeof a !== 'object') return [];
    var lines = [];
    var note = a.counted === true
      ? t('affect_counted', { score: num(a.score) !== null ? fmtScore(a.score, scale) : '—' })
      : t('affect_context');
    function line(text, kind) {
      var row = el('p', 'score-affect muted small');
      row.setAttribute('data-affect', kind);
      row.appendChild(el('span', 'affect-text', text));
      row.appendChild(document.createTextNode(' · '));
      row.appendChild(el('span', 'affect-note', note));
      lines.push(row);
    }
    var ex = a.expression && typeof a.expression === 'object' ? a.expression : null;
    if (ex && typeof ex.dominant === 'string') {
      var shares = ex.shares && typeof ex.shares === 'object' ? ex.shares : {};
      line(t('affect_expression', {
        label: expressionLabel(ex.dominant), share: num(shares[ex.dominant]) !== null ? fmtShare(shares[ex.dominant]) : ''
      }).trim(), 'expression');
    }
    var voice = a.voice && typeof a.voice === 'object' ? a.voice : null;
    if (voice && num(voice.arousal_mean) !== null) {
      line(t('affect_voice', { arousal: voice.arousal_mean.toFixed(2), n: num(voice.utterances) !== null ? voice.utterances : '—' }), 'voice');
    }
    return lines;
  }

  function showRowAt(t0) {
    if (t0 === null) return;
    for (var key in ui.utterances) {
      if (!Object.prototype.hasOwnProperty.call(ui.utterances, key)) continue;
      var row = ui.utterances[key];
      var s = Number(row.getAttribute('data-start'));
      var e = Number(row.getAttribute('data-end'));
      if (isFinite(s) && t0 >= s - 0.3 && t0 <= (isFinite(e) ? e : s) + 0.3) {
        row.scrollIntoView({ block: 'center', behavior: 'smooth' });
        row.classList.remove('flash');
        void row.offsetWidth;
        row.classList.add('flash');
        return;
      }
    }
  }

  function renderInterview() {
    if (!ui.qList.length) return;
    renderProgress();
    renderSections();
    ui.qList.forEach(function (q) { if (q.score) renderScoreCard(q); });
    regroup();
  }

  function logUnknown(event, p) {
    var detail = '';
    try { detail = JSON.stringify(p); } catch (e) { detail = ''; }
    if (detail.length > 160) detail = detail.slice(0, 157) + '…';
    return logLine(event, event.type + (detail && detail !== '{}' ? ' ' + detail : ''), '');
  }

  function logLine(event, text, cls) {
    var list = $('event-log');
    var li = document.createElement('li');
    if (cls) li.className = cls;
    if (event) li.setAttribute('data-type', event.type);
    var time = document.createElement('span');
    time.className = 'ev-time';
    var parts = [];
    if (event && event.wall_time !== undefined) parts.push(fmtClock(event.wall_time));
    else parts.push(fmtClock(Date.now()));
    if (event && typeof event.media_time === 'number') parts.push(fmtMedia(event.media_time));
    time.textContent = parts.join(' ');
    var body = document.createElement('span');
    body.className = 'ev-text';
    body.textContent = text;
    li.appendChild(time);
    li.appendChild(body);
    list.insertBefore(li, list.firstChild); // newest first
    while (list.children.length > MAX_LOG) list.removeChild(list.lastChild);
  }

  // ---- boot ----
  function boot() {
    var stored = null;
    try { stored = localStorage.getItem(LANG_KEY); } catch (e) { stored = null; }
    applyLang(stored || 'zh', false);
    $('lang-toggle').addEventListener('click', function () {
      applyLang(ui.lang === 'zh' ? 'en' : 'zh', true);
      if (ui.view === 'list') loadSessions().catch(handleError);
    });
    $('signin-form').addEventListener('submit', onSignin);
    $('logout').addEventListener('click', onLogout);
    $('refresh').addEventListener('click', function () { loadSessions().catch(handleError); });
    $('new-session').addEventListener('click', onNewSession);
    $('new-session-form').addEventListener('submit', onNewSessionSubmit);
    $('ns-cancel').addEventListener('click', closeNewSession);
    $('copy-link').addEventListener('click', onCopy);
    $('dismiss-link').addEventListener('click', function () {
      $('new-session-result').hidden = true;
      $('candidate-link').value = '';
    });
    window.addEventListener('online', function () {
      if (ui.view === 'live' && ui.wsState === 'reconnecting') connectEvents();
    });
    route();
  }

  // Read-only hooks for tests and support.
  window.candorHr = {
    get view() { return ui.view; },
    get wsState() { return ui.wsState; },
    get lastSeq() { return ui.lastSeq; },
    get currentQuestion() { return ui.current; },
    get questions() {
      return ui.qList.map(function (q) {
        return { question_id: q.id, index: q.index, practice: q.practice, phase: q.paused ? 'paused' : q.phase,
          reason: q.reason, answer_start: q.aStart, answer_end: q.aEnd,
          score: q.score ? { provisional: q.score.provisional, overall: q.score.data.overall } : null };
      });
    }
  };

  boot();
})();
