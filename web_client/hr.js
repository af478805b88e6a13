/* Candor HR pages: sign in, session list, new session link, live view of one
 * session (/hr/sessions/<id>) over the event WebSocket with resume by seq.
 *
 * The page's controller, Candor.hr: the strings, the page's state (hr.ui),
 * t(), the banner, the API call, which view shows, and boot. Each view is a
 * file of its own, loaded after this one (hr.html):
 *
 *   hr/signin.js     Candor.hr.signin     sign in, sign out
 *   hr/sessions.js   Candor.hr.sessions   the session list and the new-session form
 *   hr/live.js       Candor.hr.live       one session live: event stream, transcript, face, consent, log
 *   hr/interview.js  Candor.hr.interview  the live view's structured interview: progress, answers, scores
 *
 * Boots once the document has loaded, after every view's script has run.
 * Plain ES2017 (no modules, no optional chaining), no framework. Data is
 * only ever put into the page as text.
 */
(function (Candor) {
  'use strict';

  var hr = Candor.hr = Candor.hr || {};
  var http = Candor.http;
  var $ = Candor.dom.$;

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

  var ui = hr.ui = {
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
  // A placeholder without a value shows as '?'.
  var t = hr.t = Candor.i18n.translator(STRINGS, function () { return ui.lang; }, '?');

  // A {zh, en} text from the server in the page's language.
  hr.locText = function (text) { return Candor.i18n.locText(text, ui.lang); };

  // The label of a value the server names (policy_eu, reason_time_limit...):
  // its string where there is one, else the value as sent.
  hr.labelOf = function (prefix, value) {
    var key = prefix + value;
    return STRINGS.zh[key] !== undefined ? t(key) : String(value);
  };

  // A moment as a local date and time; '—' when unreadable.
  hr.fmtDateTime = function (v) { return Candor.fmt.dateTime(v, ui.lang); };

  // A share (0..1) as a percentage, a boolean as yes / no.
  hr.fmtShare = function (v) { return Candor.fmt.share(v, t('yes'), t('no')); };

  function applyLang(lang, remember) {
    ui.lang = Candor.i18n.pickLang(STRINGS, lang);
    if (remember) Candor.store.set('localStorage', LANG_KEY, ui.lang);
    Candor.i18n.applyDom(t, ui.lang);
    hr.live.renderWsStatus();
    renderBanner();
    hr.sessions.renderJobOptions();
    hr.sessions.renderFieldErrors();
    hr.live.renderConsent();
    hr.interview.render();
  }

  // The banner: one message (a key of STRINGS) at a time; null hides it.
  function showBanner(key, params) {
    ui.banner = key ? { key: key, params: params || null } : null;
    renderBanner();
  }
  function renderBanner() {
    if (!ui.banner) { $('banner').hidden = true; return; }
    $('banner-text').textContent = t(ui.banner.key, ui.banner.params);
    $('banner').hidden = false;
  }

  // ---- HTTP ----
  // A JSON API call with the HR cookie: the body (null for 204 or not JSON);
  // AuthError for 401 / 403, HttpError for any other refusal.
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
    if (res.status === 401 || res.status === 403) throw new http.AuthError(res.status);
    if (!res.ok) throw new http.HttpError(res.status, await http.readDetail(res));
    if (res.status === 204) return null;
    var ct = res.headers.get('Content-Type') || '';
    return ct.indexOf('json') >= 0 ? res.json() : null;
  }

  function handleError(err) {
    if (err && err.name === 'AuthError') { hr.signin.show(); return; }
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
    if (view !== 'list') hr.sessions.stopRefresh();
  }

  function liveSessionIdFromPath() {
    var m = /^\/hr\/sessions\/([^\/]+)\/?$/.exec(location.pathname);
    return m ? decodeURIComponent(m[1]) : null;
  }

  function route() {
    showBanner(null);
    var id = liveSessionIdFromPath();
    if (id) hr.live.open(id);
    else hr.sessions.open();
  }

  hr.showBanner = showBanner;
  hr.api = api;
  hr.handleError = handleError;
  hr.setView = setView;
  hr.route = route;

  // ---- boot ----
  function boot() {
    applyLang(Candor.store.get('localStorage', LANG_KEY) || 'zh', false);
    $('lang-toggle').addEventListener('click', function () {
      applyLang(ui.lang === 'zh' ? 'en' : 'zh', true);
      if (ui.view === 'list') hr.sessions.load().catch(handleError);
    });
    hr.signin.init();
    hr.sessions.init();
    hr.live.init();
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

  // The views (hr/*.js) load after this file: start once they all have.
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})(window.Candor);
