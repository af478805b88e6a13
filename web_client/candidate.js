/* Candor candidate page: notice and consent, device check, WHIP publish,
 * live captions over the "control" data channel, reconnect, finish.
 *
 * The page's controller; loads after common.js (Candor.i18n, .http, .time,
 * .num, .fmt, .store, .dom) and whip.js (Candor.whip), and boots at once.
 * Plain ES2017 (no modules, no optional chaining) so that it runs in desktop
 * browsers, Safari / iOS WKWebView and the WeCom (企业微信) webview.
 */
(function (Candor) {
  'use strict';

  var i18n = Candor.i18n;
  var http = Candor.http;
  var whip = Candor.whip;
  var $ = Candor.dom.$;
  var storeGet = Candor.store.get;
  var storeSet = Candor.store.set;
  var storeRemove = Candor.store.remove;
  var parseTime = Candor.time.parseTime;
  var nowMs = Candor.time.nowMs;
  var toNumber = Candor.num.toNumber;

  var STRINGS = {
    zh: {
      title: 'AI 预面试',
      lang_toggle: 'English',
      notice_title: '开始前请阅读',
      notice_intro: '本次预面试由 AI 辅助分析。将被分析的内容：',
      notice_speech: '语音：您的回答会被自动转写为文字；',
      notice_face: '面部：您是否在画面中、画面中的人脸数量、头部姿态和视线方向；',
      notice_human: '机器不会单独做出任何决定：分析结果仅供招聘人员参考，由招聘人员人工审核并决定。',
      notice_before: '在您同意之前，摄像头和麦克风不会开启，也不会发送任何内容。',
      consent_label: '我已阅读上述说明，同意接受 AI 辅助面试；录用决定由招聘人员做出。',
      consent_label_all: '我已阅读上述说明，同意开启摄像头和麦克风，由 AI 处理我的声音和面部图像以辅助面试；录用决定由招聘人员做出。',
      scope_required: '必选',
      scope_optional: '可选',
      consent_voice: '同意处理我的声音',
      consent_voice_notice: '语音识别（把您的回答转写为文字），以及语速、停顿、音高等声音特征。AI 面试必须有此项；如不同意，请联系招聘人员另行安排。',
      consent_face: '同意处理我的面部图像',
      consent_face_notice: '您是否在画面中、画面中的人脸数量和视线方向。不同意也没关系：面试照常进行，只使用音频，摄像头不会开启。',
      consent_face_notice_emotion: '您是否在画面中、画面中的人脸数量、视线方向，以及面部表情。不同意也没关系：面试照常进行，只使用音频，摄像头不会开启。',
      notice_emotion_on: '表情与语气：在您同意的范围内，系统会分析面部表情和声音的语气起伏，仅作为参考背景，默认不计入评分。',
      notice_emotion_off: '不进行任何情绪识别：系统不会从您的面部或声音推断情绪。',
      consent_saving: '正在记录您的同意…',
      err_consent: '无法记录您的同意：{detail}',
      err_consent_required: '继续面试需要您的同意。请阅读说明，重新勾选后继续。',
      camera_off_audio: '仅音频：摄像头不会开启',
      check_hint_audio: '仅音频面试，摄像头不会开启。请说几句话，看音量条是否跳动。确认无误后点击“开始面试”。',
      requesting_audio: '正在请求麦克风权限，请在弹出的提示中选择“允许”…',
      devices_ok_audio: '麦克风已就绪（仅音频，摄像头未开启）。',
      err_denied_audio: '麦克风权限被拒绝。请在浏览器地址栏或系统设置中允许本页面使用麦克风，然后点击“重试”。',
      err_notfound_audio: '没有找到麦克风。请连接麦克风后点击“重试”。',
      err_busy_audio: '麦克风正被其他应用占用。请关闭其他使用麦克风的应用后点击“重试”。',
      err_device_audio: '无法打开麦克风（{name}）。请点击“重试”。',
      server_busy: '服务器繁忙，{s} 秒后自动重试…',
      withdraw: '撤回同意',
      withdraw_confirm_text: '撤回同意后，面试会立即结束，分析随即停止。确定撤回吗？',
      withdraw_yes: '确认撤回',
      err_withdraw: '撤回同意未能送达服务器：{detail}。摄像头和麦克风已关闭；请再点一次“确认撤回”，或联系招聘人员。',
      done_title_withdrawn: '您已撤回同意',
      done_text_withdrawn: '面试已结束，不会再对您进行任何分析。如需其他面试安排，请联系招聘人员。',
      q_hint_answer_audio: '请开始作答。说完后点击“回答完毕”。',
      consent_next: '同意并继续',
      expires: '此面试链接有效期至 {time}。',
      check_title: '设备检查',
      live_title: '面试进行中',
      camera_off: '摄像头未开启',
      mic_label: '麦克风',
      mic_heard: '有声音',
      mic_quiet: '请说几句话',
      mic_unavailable: '无法显示音量',
      check_hint: '请确认能在画面中看到自己，然后说几句话，看音量条是否跳动。确认无误后点击“开始面试”。',
      requesting: '正在请求摄像头和麦克风权限，请在弹出的提示中选择“允许”…',
      devices_ok: '摄像头和麦克风已就绪。',
      retry: '重试',
      start: '开始面试',
      caption_title: '实时字幕',
      caption_empty: '开始回答后，这里会显示识别出的文字。',
      finish: '结束面试',
      finish_confirm_text: '确定要结束面试吗？结束后无法继续。',
      finish_yes: '确认结束',
      cancel: '取消',
      done_title: '面试已结束，谢谢！',
      done_text: '您的回答已提交，可以关闭此页面。',
      status_connecting: '正在连接…',
      status_live: '● 正在录制',
      status_reconnecting: '连接中断，正在重连…',
      status_busy: '等待服务器…',
      status_finished: '已结束',
      retry_in: '第 {n} 次重连，{s} 秒后重试。',
      rtt: '网络延迟 {ms} 毫秒',
      loading_link: '正在验证面试链接…',
      err_no_code: '面试链接无效或已被使用。请打开招聘方发给您的完整链接；如果问题仍然存在，请联系招聘人员获取新链接。',
      err_link: '面试链接无法使用：{detail}',
      err_expired: '面试链接已过期，请联系招聘人员获取新链接。',
      err_network: '网络错误，无法连接服务器。请检查网络后刷新页面。',
      err_insecure: '此页面没有通过安全连接（HTTPS）打开，浏览器不允许使用摄像头和麦克风。请使用以 https:// 开头的链接打开。',
      err_unsupported: '当前浏览器不支持视频面试（缺少 WebRTC 或摄像头接口）。请使用最新版的 Chrome、Edge、Safari 或系统浏览器打开此链接。',
      hint_webview: '您似乎是在企业微信或微信的内置浏览器中打开的。请点击右上角的“…”，选择“在默认浏览器中打开”（iPhone 请使用 Safari）。',
      err_denied: '摄像头或麦克风权限被拒绝。请在浏览器地址栏或系统设置中允许本页面使用摄像头和麦克风，然后点击“重试”。',
      err_notfound: '没有找到摄像头或麦克风。请连接设备（或换用带摄像头的手机/电脑）后点击“重试”。',
      err_busy: '摄像头或麦克风正被其他应用占用。请关闭其他使用摄像头的应用（如视频会议）后点击“重试”。',
      err_device: '无法打开摄像头或麦克风（{name}）。请点击“重试”。',
      err_session_gone: '面试会话已失效或已过期（{status}）。请联系招聘人员。',
      err_publish: '无法连接到面试服务器：{detail}',
      err_track_ended: '摄像头或麦克风已断开，正在尝试重新打开…',
      start_resume: '继续面试',
      q_waiting: '正在准备题目…',
      q_practice: '练习题（不计分）',
      q_number: '第 {n} / {m} 题',
      q_phase_prep: '准备中',
      q_phase_answer: '回答中',
      q_phase_paused: '已暂停',
      q_timer_prep: '准备时间',
      q_timer_answer: '回答剩余时间',
      q_hint_prep: '请先思考您的回答。准备好后点击“开始回答”；准备时间结束后会自动开始。',
      q_hint_practice: '这是练习题，用来熟悉流程，不计分。',
      q_hint_answer: '请看着摄像头作答。说完后点击“回答完毕”。',
      q_hint_prep_over: '准备时间结束，即将开始回答…',
      q_hint_answer_over: '回答时间到。',
      q_hint_paused: '连接中断，计时已暂停。恢复连接后将继续本题。',
      q_ready: '开始回答',
      q_done: '回答完毕',
      q_next: '下一题…',
      q_practice_over: '练习结束，正式题目马上开始…',
      q_reason_candidate_done: '已收到您的回答。',
      q_reason_time_limit: '本题回答时间已到。',
      q_reason_long_silence: '较长时间没有听到声音，本题已结束。',
      q_reason_no_answer: '没有听到回答，本题已结束。',
      q_all_done: '全部题目已完成，正在提交…',
      done_title_interview: '面试已完成，谢谢！',
      done_text_interview: '您已回答完全部问题，回答已提交。您现在可以关闭此页面。',
      done_review: '招聘人员会人工审核您的面试，录用与否由招聘人员决定，不会由机器单独决定。'
    },
    en: {
      title: 'AI pre-interview',
      lang_toggle: '中文',
      notice_title: 'Before you start',
      notice_intro: 'This pre-interview is analysed with the help of AI. What is analysed:',
      notice_speech: 'Speech: your answers are transcribed to text automatically.',
      notice_face: 'Face: whether you are in the picture, how many faces are in it, your head pose and gaze direction.',
      notice_human: 'No decision is made by the machine alone: the analysis only assists recruiters, who review it and decide.',
      notice_before: 'Your camera and microphone stay off, and nothing is sent, until you agree.',
      consent_label: 'I have read the notice and agree to an AI-assisted interview; a person makes the decision.',
      consent_label_all: 'I have read the notice and agree to turn on my camera and microphone and to the AI processing of my voice and face image for this interview; a person makes the decision.',
      scope_required: 'Required',
      scope_optional: 'Optional',
      consent_voice: 'I agree to the processing of my voice',
      consent_voice_notice: 'Speech recognition (your answers as text) and voice features such as pace, pauses and pitch. An AI interview needs this; if you do not agree, ask the recruiter for another arrangement.',
      consent_face: 'I agree to the processing of my face image',
      consent_face_notice: 'Whether you are in the picture, how many faces are in it, and your gaze. Declining is fine: the interview goes on with audio only and the camera stays off.',
      consent_face_notice_emotion: 'Whether you are in the picture, how many faces are in it, your gaze and your facial expression. Declining is fine: the interview goes on with audio only and the camera stays off.',
      notice_emotion_on: 'Expression and tone: within what you agree to, your facial expression and the liveliness of your voice are analysed as context only; by default they do not count towards the score.',
      notice_emotion_off: 'No emotion inference is performed: nothing about your emotions is inferred from your face or voice.',
      consent_saving: 'Recording your consent…',
      err_consent: 'Your consent could not be recorded: {detail}',
      err_consent_required: 'Your consent is needed to go on with the interview. Read the notice and tick the boxes again.',
      camera_off_audio: 'Audio only: the camera stays off',
      check_hint_audio: 'Audio-only interview: the camera stays off. Say a few words: the level bar should move. When all is well, click "Start interview".',
      requesting_audio: 'Asking for microphone access: choose "Allow" when asked…',
      devices_ok_audio: 'The microphone is ready (audio only, camera off).',
      err_denied_audio: 'Microphone access was denied. Allow this page to use the microphone in the address bar or system settings, then click "Try again".',
      err_notfound_audio: 'No microphone was found. Connect one, then click "Try again".',
      err_busy_audio: 'The microphone is in use by another app. Close other apps that use it, then click "Try again".',
      err_device_audio: 'The microphone could not be opened ({name}). Click "Try again".',
      server_busy: 'The server is busy; retrying in {s} s…',
      withdraw: 'Withdraw consent',
      withdraw_confirm_text: 'If you withdraw your consent, the interview ends now and the analysis stops. Withdraw?',
      withdraw_yes: 'Yes, withdraw',
      err_withdraw: 'Your withdrawal could not reach the server: {detail}. The camera and microphone are off; click "Yes, withdraw" again or contact the recruiter.',
      done_title_withdrawn: 'You have withdrawn your consent',
      done_text_withdrawn: 'The interview has ended and nothing more is analysed. If you would like another arrangement, please contact the recruiter.',
      q_hint_answer_audio: 'Answer now. Click "I\'ve finished" when you are done.',
      consent_next: 'Agree and continue',
      expires: 'This interview link is valid until {time}.',
      check_title: 'Device check',
      live_title: 'Interview in progress',
      camera_off: 'Camera off',
      mic_label: 'Microphone',
      mic_heard: 'Sound detected',
      mic_quiet: 'Say a few words',
      mic_unavailable: 'Level not available',
      check_hint: 'Check that you can see yourself, then say a few words: the level bar should move. When all is well, click "Start interview".',
      requesting: 'Asking for camera and microphone access: choose "Allow" when asked…',
      devices_ok: 'Camera and microphone are ready.',
      retry: 'Try again',
      start: 'Start interview',
      caption_title: 'Live captions',
      caption_empty: 'What you say will appear here.',
      finish: 'Finish interview',
      finish_confirm_text: 'Finish the interview? You cannot continue afterwards.',
      finish_yes: 'Yes, finish',
      cancel: 'Cancel',
      done_title: 'Interview finished. Thank you!',
      done_text: 'Your answers have been submitted. You can close this page now.',
      status_connecting: 'Connecting…',
      status_live: '● Live',
      status_reconnecting: 'Connection lost, reconnecting…',
      status_busy: 'Waiting for the server…',
      status_finished: 'Finished',
      retry_in: 'Reconnect attempt {n}, next try in {s} s.',
      rtt: 'Network delay {ms} ms',
      loading_link: 'Checking your interview link…',
      err_no_code: 'This interview link is invalid or has already been used. Open the full link you were sent; if that does not help, ask the recruiter for a new link.',
      err_link: 'This interview link cannot be used: {detail}',
      err_expired: 'This interview link has expired. Please ask the recruiter for a new one.',
      err_network: 'Network error: the server cannot be reached. Check your connection and reload the page.',
      err_insecure: 'This page was not opened over a secure connection (HTTPS), so the browser does not allow the camera and microphone. Open the link that starts with https://.',
      err_unsupported: 'This browser cannot do video interviews (WebRTC or camera access is missing). Open the link in an up-to-date Chrome, Edge, Safari or your system browser.',
      hint_webview: 'You seem to be in the WeCom or WeChat in-app browser. Tap "…" at the top right and choose "Open in browser" (on iPhone, use Safari).',
      err_denied: 'Camera or microphone access was denied. Allow this page to use the camera and microphone in the address bar or system settings, then click "Try again".',
      err_notfound: 'No camera or microphone was found. Connect one (or use a phone or computer with a camera), then click "Try again".',
      err_busy: 'The camera or microphone is in use by another app. Close other apps that use the camera (such as video calls), then click "Try again".',
      err_device: 'The camera or microphone could not be opened ({name}). Click "Try again".',
      err_session_gone: 'This interview session is no longer valid ({status}). Please contact the recruiter.',
      err_publish: 'Cannot connect to the interview server: {detail}',
      err_track_ended: 'The camera or microphone stopped; trying to open it again…',
      start_resume: 'Continue interview',
      q_waiting: 'Preparing the first question…',
      q_practice: 'Practice question (not scored)',
      q_number: 'Question {n} of {m}',
      q_phase_prep: 'Preparing',
      q_phase_answer: 'Answering',
      q_phase_paused: 'Paused',
      q_timer_prep: 'Preparation time',
      q_timer_answer: 'Time left to answer',
      q_hint_prep: 'Think about your answer first. Click "Start answering" when you are ready; answering starts by itself when the time is up.',
      q_hint_practice: 'This is a practice question to get used to the format. It is not scored.',
      q_hint_answer: 'Answer facing the camera. Click "I\'ve finished" when you are done.',
      q_hint_prep_over: 'Preparation time is over: answering starts now…',
      q_hint_answer_over: 'Time is up.',
      q_hint_paused: 'Connection lost: the timer is paused. This question continues when you are back.',
      q_ready: 'Start answering',
      q_done: 'I\'ve finished',
      q_next: 'Next question…',
      q_practice_over: 'Practice done. The interview questions start now…',
      q_reason_candidate_done: 'Your answer has been recorded.',
      q_reason_time_limit: 'The time for this question is up.',
      q_reason_long_silence: 'No speech was heard for a while, so this question has ended.',
      q_reason_no_answer: 'No answer was heard, so this question has ended.',
      q_all_done: 'All questions answered. Submitting…',
      done_title_interview: 'Interview complete. Thank you!',
      done_text_interview: 'You have answered all the questions and your answers have been submitted. You can close this page now.',
      done_review: 'A recruiter will review your interview. The decision is made by a person, never by the machine alone.'
    }
  };

  var KEYS = {
    lang: 'candor.lang',
    creds: 'candor.candidate',
    pending: 'candor.pendingCode',
    consent: 'candor.consent',
    finished: 'candor.finished',
    interview: 'candor.interview', // '1': the session is a structured interview
    practice: 'candor.practiceCount' // practice questions before the scored ones
  };
  var WEBVIEW_UA = /wxwork|MicroMessenger|WebView|wv\)/i;
  var DISCONNECT_GRACE_MS = 3000;
  var CONNECT_TIMEOUT_MS = 20000;
  var ICE_GATHER_TIMEOUT_MS = 5000;
  var WHIP_TIMEOUT_MS = 15000;
  var BACKOFF_MAX_MS = 10000;
  var VIDEO_MAX_BITRATE = 800000; // bit/s: the server samples a few frames a second
  var BUSY_MAX_MS = 300000; // the longest Retry-After honoured as is
  var PING_INTERVAL_MS = 5000;
  var MAX_CAPTIONS = 500;
  var BETWEEN_MS = 1800; // the "next question" pause between two questions
  var ACTION_RETRY_MS = 4000; // a ready/done that got no answer can be sent again
  var URGENT_S = 10;
  var FINISH_DELAY_MS = 1500; // after interview_ended, before hanging up

  var app = {
    state: 'idle', // idle | checking | ready | connecting | live | reconnecting | finished | error
    captions: [],
    lang: 'zh',
    creds: null,
    stream: null,
    pc: null,
    dc: null,
    location: null,
    gen: 0,
    attempt: 0,
    everLive: false,
    finishing: false,
    retryTimer: null,
    disconnectTimer: null,
    connectTimer: null,
    pingTimer: null,
    rttMs: null,
    audioCtx: null,
    meter: null,
    heard: false,
    reacquiring: false,
    micLevel: 0,
    message: null, // {key, params} of the device / live message
    banner: null, // {key, params, hint}
    // Structured interview (null: not known yet, false: free talk).
    interview: null,
    interviewComplete: false, // the server said interview_ended
    q: null, // the question that is on: the server's message + receivedAt, paused, pausedLeft
    between: null, // {title, note, until}: the short pause between two questions
    pendingQ: null, // a question that arrived during that pause
    lastEnded: null, // {question_id, reason} of the last answer_ended
    qTimer: null,
    betweenTimer: null,
    action: null, // {type, question_id, phase, at}: a ready / done sent, not answered yet
    practiceCount: null,
    questionEvents: [], // what the page was told (tests, support)
    // Consent per the deployment's policy profile (from the code exchange).
    policy: null, // {name, emotion, consent: {separate, scopes: [{id, required}]}}; null: not told
    consent: null, // what the server recorded: {policy, voice, face, emotion, given_at}
    consentBusy: false,
    video: true, // the camera is used (false: no face consent, audio only)
    withdrawing: false,
    doneKind: null, // 'interview' | 'withdrawn' | '1'
    busyTimer: null, // the "server busy, retrying in N s" countdown
    busyUntil: 0
  };

  // ---- i18n ----
  // A placeholder without a value stays as written ({name}).
  var t = i18n.translator(STRINGS, function () { return app.lang; });

  function applyLang(lang, remember) {
    app.lang = i18n.pickLang(STRINGS, lang);
    if (remember) storeSet('localStorage', KEYS.lang, app.lang);
    i18n.applyDom(t, app.lang);
    document.title = 'Candor ' + t('title');
    renderPolicy();
    renderBanner();
    renderMessage();
    renderStatus();
    renderExpiry();
    renderMicState();
    renderQuestion();
  }

  // ---- banner (errors that block the flow) and messages ----
  function showBanner(key, params, hintKey) {
    app.banner = { key: key, params: params || null, hint: hintKey || null };
    renderBanner();
  }
  function clearBanner() {
    app.banner = null;
    renderBanner();
  }
  function renderBanner() {
    var el = $('banner');
    if (!app.banner) { el.hidden = true; return; }
    $('banner-text').textContent = t(app.banner.key, app.banner.params);
    var hint = $('banner-hint');
    if (app.banner.hint) {
      hint.textContent = t(app.banner.hint);
      hint.hidden = false;
    } else {
      hint.hidden = true;
    }
    el.hidden = false;
  }

  function setMessage(key, params, isError) {
    app.message = key ? { key: key, params: params || null, error: !!isError } : null;
    renderMessage();
    renderStatus();
  }
  function renderMessage() {
    var el = $('device-msg');
    var live = $('live-detail');
    var text = app.message ? t(app.message.key, app.message.params) : '';
    el.textContent = text;
    el.className = 'device-msg' + (app.message && app.message.error ? ' error' : '');
    var detail = [];
    if (app.state === 'reconnecting' && app.message) detail.push(text);
    if (app.state === 'live' && app.rttMs !== null) detail.push(t('rtt', { ms: app.rttMs }));
    live.textContent = detail.join(' · ');
    var busy = !!(app.message && app.message.key === 'server_busy' && app.state === 'reconnecting');
    live.className = busy ? 'live-msg busy' : 'muted small';
  }

  function renderStatus() {
    var el = $('status');
    var key = {
      connecting: 'status_connecting',
      live: 'status_live',
      reconnecting: 'status_reconnecting',
      finished: 'status_finished'
    }[app.state];
    if (!key) { el.hidden = true; return; }
    // never connected yet, the server full: not a "lost" connection
    if (app.state === 'reconnecting' && app.message && app.message.key === 'server_busy') key = 'status_busy';
    el.textContent = t(key);
    el.className = 'pill pill-' + app.state;
    el.hidden = false;
  }

  function renderExpiry() {
    var el = $('session-expiry');
    if (!app.creds || !app.creds.expires_at) { el.hidden = true; return; }
    var d = parseTime(app.creds.expires_at);
    if (!d) { el.hidden = true; return; }
    el.textContent = t('expires', { time: d.toLocaleString(i18n.dateLocale(app.lang)) });
    el.hidden = false;
  }

  function setState(state) {
    app.state = state;
    document.body.setAttribute('data-state', state);
    // The server freezes the question while the candidate is away.
    if (state !== 'live') pauseQuestion();
    renderStatus();
    renderMessage();
    renderQuestion();
  }

  function showStep(step) {
    $('step-notice').hidden = step !== 'notice';
    $('stage').hidden = step !== 'check' && step !== 'live';
    $('check-panel').hidden = step !== 'check';
    $('live-panel').hidden = step !== 'live';
    $('step-done').hidden = step !== 'done';
    app.step = step;
    renderStageMode();
    if (step === 'check' || step === 'live') {
      var title = $('stage-title');
      title.setAttribute('data-i18n', step === 'live' ? 'live_title' : 'check_title');
      title.textContent = t(title.getAttribute('data-i18n'));
    }
  }

  // ---- policy and consent ----
  function setKey(node, key) {
    if (!node) return;
    node.setAttribute('data-i18n', key);
    node.textContent = t(key);
  }

  function policyOf(creds) {
    var p = creds && creds.policy;
    return p && typeof p === 'object' && p.consent && typeof p.consent === 'object' ? p : null;
  }

  function separateConsent() {
    return !!(app.policy && app.policy.consent.separate === true);
  }

  function scopeRequired(id) {
    var scopes = app.policy && Array.isArray(app.policy.consent.scopes) ? app.policy.consent.scopes : [];
    for (var i = 0; i < scopes.length; i++) {
      if (scopes[i] && scopes[i].id === id) return scopes[i].required === true;
    }
    return id === 'voice'; // an AI interview always needs the voice
  }

  function renderPolicy() {
    var box = $('consent-scopes');
    if (!box) return;
    var separate = separateConsent();
    box.hidden = !separate;
    // Separate consents: the general box is the notice and the human decision;
    // one consent: the box covers the camera and the microphone as well.
    setKey($('consent-text'), separate ? 'consent_label' : 'consent_label_all');
    var emotion = !!(app.policy && app.policy.emotion === true);
    var note = $('notice-emotion');
    if (app.policy) setKey(note, emotion ? 'notice_emotion_on' : 'notice_emotion_off');
    note.hidden = !app.policy;
    setKey($('consent-voice-notice'), 'consent_voice_notice');
    setKey($('consent-face-notice'), emotion ? 'consent_face_notice_emotion' : 'consent_face_notice');
    ['voice', 'face'].forEach(function (id) {
      var tag = box.querySelector('label[for="consent-' + id + '"] .scope-tag');
      var required = scopeRequired(id);
      if (tag) {
        setKey(tag, required ? 'scope_required' : 'scope_optional');
        tag.className = 'scope-tag' + (required ? ' required' : '');
      }
    });
    var withdraw = $('withdraw');
    if (withdraw) withdraw.hidden = !app.policy;
  }

  function consentReady() {
    if (!$('consent').checked || !app.creds || app.consentBusy) return false;
    if (separateConsent()) {
      if (scopeRequired('voice') && !$('consent-voice').checked) return false;
      if (scopeRequired('face') && !$('consent-face').checked) return false;
    }
    return true;
  }

  function grantedScopes() {
    if (separateConsent()) return { voice: $('consent-voice').checked, face: $('consent-face').checked };
    return { voice: true, face: true }; // one consent covers the camera and the microphone
  }

  function lockConsent() {
    ['consent', 'consent-voice', 'consent-face'].forEach(function (id) { $(id).disabled = true; });
    $('consent-next').disabled = true;
  }

  // The consent the server has (or, without a policy, the page's own note).
  function useConsent(consent) {
    app.consent = consent || null;
    app.video = !(consent && consent.face === false);
    if (app.creds && app.policy) {
      app.creds.consent = app.consent;
      storeSet('sessionStorage', KEYS.creds, JSON.stringify(app.creds));
    }
    if (consent) storeSet('sessionStorage', KEYS.consent, '1');
    else storeRemove('sessionStorage', KEYS.consent);
  }

  function consentUrl() {
    return '/v1/sessions/' + encodeURIComponent(app.creds.session_id) + '/consent';
  }

  async function postConsent(granted) {
    var res = await http.fetchWithTimeout(consentUrl(), {
      method: 'POST',
      headers: {
        Authorization: 'Bearer ' + app.creds.token,
        'Content-Type': 'application/json',
        Accept: 'application/json'
      },
      body: JSON.stringify(granted),
      credentials: 'omit',
      cache: 'no-store'
    }, WHIP_TIMEOUT_MS);
    if (!res.ok) {
      var body = await http.readProblem(res);
      throw new http.HttpError(res.status, http.problemDetail(body, res), body && body.type);
    }
    return res.json();
  }

  function isConsentRequired(err) {
    return !!(err && err.name === 'HttpError' && err.status === 403 && /consent-required$/.test(err.type || ''));
  }

  // The server no longer has a consent (withdrawn elsewhere): stop, ask again.
  function askConsentAgain() {
    app.gen++;
    clearTimers();
    dropPeer();
    stopTracks();
    useConsent(null);
    $('consent').checked = false;
    $('consent-voice').checked = false;
    $('consent-face').checked = false;
    setMessage(null);
    setState('idle');
    showStep('notice');
    showBanner('err_consent_required');
    onConsentChange();
  }

  // ---- environment checks ----
  function isLocalhost() {
    var h = location.hostname;
    return h === 'localhost' || h === '127.0.0.1' || h === '[::1]' || h === '::1' || /\.localhost$/.test(h);
  }
  function environmentProblem() {
    var webview = WEBVIEW_UA.test(navigator.userAgent || '');
    if (window.isSecureContext === false && !isLocalhost()) {
      return { key: 'err_insecure', hint: webview ? 'hint_webview' : null };
    }
    var hasGum = !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia);
    if (typeof window.RTCPeerConnection !== 'function' || !hasGum) {
      return { key: 'err_unsupported', hint: webview ? 'hint_webview' : null };
    }
    return null;
  }

  // ---- link exchange ----
  function readCodeFromHash() {
    var hash = location.hash || '';
    if (hash.charAt(0) === '#') hash = hash.slice(1);
    if (!hash) return null;
    var code = null;
    try {
      code = new URLSearchParams(hash).get('code');
    } catch (e) {
      var m = /(?:^|&)code=([^&]*)/.exec(hash);
      code = m ? decodeURIComponent(m[1]) : null;
    }
    return code || null;
  }

  async function exchangeCode(code) {
    var res = await fetch('/v1/candidate/exchange', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ code: code }),
      credentials: 'same-origin',
      cache: 'no-store'
    });
    if (!res.ok) {
      var body = await http.readProblem(res);
      throw new http.HttpError(res.status, http.problemDetail(body, res));
    }
    return res.json();
  }

  function loadCreds() {
    var raw = storeGet('sessionStorage', KEYS.creds);
    if (!raw) return null;
    try {
      var c = JSON.parse(raw);
      return c && c.token && c.whip_url ? c : null;
    } catch (e) { return null; }
  }

  function credsExpired(c) {
    var d = parseTime(c && c.expires_at);
    return !!d && d.getTime() < Date.now();
  }

  // ---- devices: camera preview and microphone level ----
  var MEDIA_CONSTRAINTS = {
    audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    video: {
      facingMode: 'user',
      width: { ideal: 640 },
      height: { ideal: 480 },
      frameRate: { ideal: 15, max: 30 }
    }
  };

  function deviceErrorKey(err) {
    var name = (err && err.name) || '';
    var key = 'err_device';
    if (name === 'NotAllowedError' || name === 'PermissionDeniedError' || name === 'SecurityError') key = 'err_denied';
    else if (name === 'NotFoundError' || name === 'DevicesNotFoundError' || name === 'OverconstrainedError' ||
        name === 'ConstraintNotSatisfiedError') key = 'err_notfound';
    else if (name === 'NotReadableError' || name === 'TrackStartError' || name === 'AbortError') key = 'err_busy';
    return app.video ? key : key + '_audio'; // audio only: say microphone, not camera
  }

  function ensureAudioContext() {
    // Made inside a click (user gesture) so that iOS lets it run.
    var AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) return null;
    if (!app.audioCtx) {
      try { app.audioCtx = new AC(); } catch (e) { app.audioCtx = null; }
    }
    if (app.audioCtx && app.audioCtx.state === 'suspended' && app.audioCtx.resume) {
      app.audioCtx.resume().catch(function () {});
    }
    return app.audioCtx;
  }

  // Without face consent the camera is never asked for: audio only.
  async function getMedia() {
    var video = app.video;
    try {
      return await navigator.mediaDevices.getUserMedia(
        video ? MEDIA_CONSTRAINTS : { audio: MEDIA_CONSTRAINTS.audio });
    } catch (err) {
      if (err && (err.name === 'OverconstrainedError' || err.name === 'ConstraintNotSatisfiedError')) {
        return navigator.mediaDevices.getUserMedia({ audio: true, video: video });
      }
      throw err;
    }
  }

  async function openDevices() {
    if (app.state === 'checking') return false;
    stopTracks();
    ensureAudioContext();
    setState('checking');
    $('start').disabled = true;
    $('retry-devices').hidden = true;
    setMessage(app.video ? 'requesting' : 'requesting_audio');
    var stream;
    try {
      stream = await getMedia();
    } catch (err) {
      setState('idle');
      setMessage(deviceErrorKey(err), { name: (err && (err.name || err.message)) || '?' }, true);
      $('retry-devices').hidden = false;
      return false;
    }
    if (!stream.getAudioTracks().length || (app.video && !stream.getVideoTracks().length)) {
      stream.getTracks().forEach(function (tr) { tr.stop(); });
      setState('idle');
      setMessage(app.video ? 'err_notfound' : 'err_notfound_audio', null, true);
      $('retry-devices').hidden = false;
      return false;
    }
    useStream(stream);
    setState('ready');
    setMessage(app.video ? 'devices_ok' : 'devices_ok_audio');
    $('start').disabled = false;
    return true;
  }

  function useStream(stream) {
    if (!app.video) {
      // never sent without face consent (a camera the browser handed over anyway)
      stream.getVideoTracks().forEach(function (tr) { tr.stop(); stream.removeTrack(tr); });
    }
    app.stream = stream;
    stream.getTracks().forEach(function (track) {
      track.addEventListener('ended', function () { onTrackEnded(track); });
    });
    renderPreviewMode();
    startMeter(stream);
    if (!stream.getVideoTracks().length) return; // audio only: no preview
    var video = $('preview');
    video.muted = true;
    video.setAttribute('playsinline', '');
    video.setAttribute('webkit-playsinline', '');
    video.srcObject = stream;
    var p = video.play();
    if (p && p.catch) p.catch(function () { /* played again on the next click */ });
    $('preview-placeholder').hidden = true;
  }

  function renderPreviewMode() {
    setKey($('preview-placeholder'), app.video ? 'camera_off' : 'camera_off_audio');
    setKey($('check-hint'), app.video ? 'check_hint' : 'check_hint_audio');
    renderStageMode();
  }

  function stopTracks() {
    if (app.stream) {
      app.stream.getTracks().forEach(function (tr) { tr.stop(); });
      app.stream = null;
    }
    stopMeter();
    var video = $('preview');
    if (video) video.srcObject = null;
    var ph = $('preview-placeholder');
    if (ph) ph.hidden = false;
  }

  function startMeter(stream) {
    stopMeter();
    var ctx = ensureAudioContext();
    if (!ctx || !ctx.createMediaStreamSource) { renderMicState(true); return; }
    var source, analyser, sink;
    try {
      source = ctx.createMediaStreamSource(stream);
      analyser = ctx.createAnalyser();
      analyser.fftSize = 1024;
      analyser.smoothingTimeConstant = 0.3;
      // Safari only pulls an analyser that leads to the destination: feed it
      // through a silent gain so nothing is played back.
      sink = ctx.createGain();
      sink.gain.value = 0;
      source.connect(analyser);
      analyser.connect(sink);
      sink.connect(ctx.destination);
    } catch (e) {
      renderMicState(true);
      return;
    }
    var buf = new Uint8Array(analyser.fftSize);
    var meter = { source: source, analyser: analyser, sink: sink, raf: 0, level: 0 };
    function tick() {
      analyser.getByteTimeDomainData(buf);
      var sum = 0;
      for (var i = 0; i < buf.length; i++) {
        var v = (buf[i] - 128) / 128;
        sum += v * v;
      }
      var rms = Math.sqrt(sum / buf.length);
      var db = rms > 0 ? 20 * Math.log(rms) / Math.LN10 : -100;
      var level = Math.max(0, Math.min(1, (db + 60) / 60));
      // fast attack, slow release
      meter.level = level > meter.level ? level : meter.level * 0.92 + level * 0.08;
      app.micLevel = meter.level;
      $('mic-level').style.width = Math.round(meter.level * 100) + '%';
      if (!app.heard && db > -45) {
        app.heard = true;
        renderMicState();
      }
      meter.raf = window.requestAnimationFrame(tick);
    }
    app.meter = meter;
    meter.raf = window.requestAnimationFrame(tick);
    renderMicState();
  }

  function stopMeter() {
    var m = app.meter;
    if (!m) return;
    window.cancelAnimationFrame(m.raf);
    try { m.source.disconnect(); m.analyser.disconnect(); m.sink.disconnect(); } catch (e) { /* gone */ }
    app.meter = null;
    app.micLevel = 0;
    var el = $('mic-level');
    if (el) el.style.width = '0%';
  }

  function renderMicState(unavailable) {
    var el = $('mic-state');
    if (!el) return;
    if (unavailable === true) { el.textContent = t('mic_unavailable'); return; }
    if (!app.meter) { el.textContent = ''; return; }
    el.textContent = app.heard ? t('mic_heard') : t('mic_quiet');
    el.className = 'meter-state' + (app.heard ? ' ok' : '');
  }

  async function onTrackEnded() {
    if (app.state !== 'live' && app.state !== 'reconnecting' && app.state !== 'connecting') return;
    if (app.finishing || app.reacquiring) return;
    app.reacquiring = true;
    setMessage('err_track_ended', null, true);
    try {
      var stream = await getMedia();
      var old = app.stream;
      useStream(stream);
      if (old) old.getTracks().forEach(function (tr) { if (tr.readyState !== 'ended') tr.stop(); });
      var pc = app.pc;
      if (pc && pc.getSenders) {
        var tracks = { audio: stream.getAudioTracks()[0], video: stream.getVideoTracks()[0] };
        pc.getSenders().forEach(function (sender) {
          var kind = sender.track ? sender.track.kind : null;
          if (kind && tracks[kind]) sender.replaceTrack(tracks[kind]).catch(function () {});
        });
      }
      setMessage(null);
    } catch (err) {
      setMessage(deviceErrorKey(err), { name: (err && err.name) || '?' }, true);
    } finally {
      app.reacquiring = false;
    }
  }

  function tracksLive() {
    if (!app.stream) return false;
    var tracks = app.stream.getTracks();
    if (!app.stream.getAudioTracks().length) return false;
    if (app.video && !app.stream.getVideoTracks().length) return false;
    for (var i = 0; i < tracks.length; i++) {
      if (tracks[i].readyState === 'ended') return false;
    }
    return true;
  }

  // ---- WHIP publish and reconnect ----
  function clearTimers() {
    clearInterval(app.busyTimer);
    app.busyTimer = null;
    clearTimeout(app.retryTimer);
    clearTimeout(app.disconnectTimer);
    clearTimeout(app.connectTimer);
    clearInterval(app.pingTimer);
    app.retryTimer = app.disconnectTimer = app.connectTimer = app.pingTimer = null;
  }

  function dropPeer() {
    var pc = app.pc;
    var dc = app.dc;
    app.pc = null;
    app.dc = null;
    if (dc) {
      dc.onopen = dc.onclose = dc.onmessage = dc.onerror = null;
      try { dc.close(); } catch (e) { /* closed */ }
    }
    if (pc) {
      pc.onconnectionstatechange = pc.oniceconnectionstatechange = null;
      try { pc.close(); } catch (e) { /* closed */ }
    }
  }

  async function publish() {
    if (app.finishing || !app.creds) return;
    var gen = ++app.gen;
    clearTimers();
    dropPeer();
    setState(app.everLive || app.attempt > 0 ? 'reconnecting' : 'connecting');
    showStep('live');
    var pc;
    try {
      if (!tracksLive()) {
        var stream;
        try {
          stream = await getMedia();
        } catch (mediaErr) {
          mediaErr.isDeviceError = true;
          throw mediaErr;
        }
        if (gen !== app.gen) { stream.getTracks().forEach(function (tr) { tr.stop(); }); return; }
        stopTracks();
        useStream(stream);
      }
      var iceServers = Array.isArray(app.creds.ice_servers) ? app.creds.ice_servers : [];
      pc = new RTCPeerConnection({ iceServers: iceServers, bundlePolicy: 'max-bundle' });
      app.pc = pc;
      // The control channel exists before the offer so that it is negotiated in it.
      var dc = pc.createDataChannel('control', { ordered: true });
      app.dc = dc;
      wireDataChannel(dc, gen);
      var audio = app.stream.getAudioTracks()[0];
      var video = app.video ? app.stream.getVideoTracks()[0] : null;
      pc.addTransceiver(audio, { direction: 'sendonly', streams: [app.stream] });
      // Without face consent the offer has an audio section only.
      if (video) pc.addTransceiver(video, { direction: 'sendonly', streams: [app.stream] });
      pc.onconnectionstatechange = function () { onLinkChange(pc, gen); };
      pc.oniceconnectionstatechange = function () { onLinkChange(pc, gen); };

      // No trickle: every candidate gathered within the timeout goes in the offer.
      var sdp = await whip.createOffer(pc, ICE_GATHER_TIMEOUT_MS);
      if (gen !== app.gen) return;

      var whipUrl = new URL(app.creds.whip_url, location.href).href;
      var res = await whip.postOffer(whipUrl, app.creds.token, sdp, WHIP_TIMEOUT_MS);
      if (gen !== app.gen) return;
      if (!whip.accepted(res)) throw await whip.refusal(res);
      app.location = whip.resourceUrl(res, whipUrl);
      var answer = await res.text();
      if (gen !== app.gen) return;
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
      whip.limitVideoBitrate(pc, VIDEO_MAX_BITRATE);
      app.connectTimer = setTimeout(function () {
        if (gen === app.gen && app.state !== 'live') scheduleReconnect();
      }, CONNECT_TIMEOUT_MS);
      onLinkChange(pc, gen);
    } catch (err) {
      if (gen !== app.gen || app.finishing) return;
      if (isConsentRequired(err)) {
        askConsentAgain();
        return;
      }
      if (err && err.name === 'HttpError' && (err.status === 503 || err.status === 429)) {
        serverBusy(err.retryAfter);
        return;
      }
      if (err && err.name === 'HttpError' && whip.isFatalStatus(err.status)) {
        fail('err_session_gone', { status: err.status + (err.detail ? ': ' + err.detail : '') });
        return;
      }
      var deviceTrouble = !!(err && err.isDeviceError);
      if (deviceTrouble) {
        // getUserMedia failed while reconnecting: keep trying, say why.
        setMessage(deviceErrorKey(err), { name: err.name || '?' }, true);
      }
      scheduleReconnect(err && err.retryAfter > 0 ? err.retryAfter * 1000 : null, deviceTrouble);
    }
  }

  // The server is full (or still loading): say so, count down, and try again
  // exactly when it said to (Retry-After), else on the usual back-off.
  function serverBusy(retryAfterS) {
    var delay = retryAfterS >= 0 && isFinite(retryAfterS)
      ? Math.min(BUSY_MAX_MS, Math.round(retryAfterS * 1000))
      : Candor.time.backoffMs(app.attempt + 1, BACKOFF_MAX_MS);
    delay = Math.max(delay, 250);
    scheduleReconnect(delay, true, true);
    app.busyUntil = Date.now() + delay;
    renderBusy();
    app.busyTimer = setInterval(renderBusy, 250);
  }

  function renderBusy() {
    var left = Math.max(0, Math.ceil((app.busyUntil - Date.now()) / 1000));
    if (!app.message || app.message.key !== 'server_busy' || app.message.params.s !== left) {
      setMessage('server_busy', { s: left });
    }
  }

  function onLinkChange(pc, gen) {
    if (gen !== app.gen || app.finishing) return;
    var s = whip.linkState(pc);
    if (s === 'connected') {
      clearTimeout(app.disconnectTimer);
      app.disconnectTimer = null;
      clearTimeout(app.connectTimer);
      app.connectTimer = null;
      app.attempt = 0;
      app.everLive = true;
      setMessage(null);
      setState('live');
    } else if (s === 'failed') {
      scheduleReconnect(0);
    } else if (s === 'disconnected') {
      if (!app.disconnectTimer) {
        app.disconnectTimer = setTimeout(function () {
          app.disconnectTimer = null;
          if (gen === app.gen && whip.linkState(pc) !== 'connected') scheduleReconnect(0);
        }, DISCONNECT_GRACE_MS);
      }
    } else if (s === 'closed' && app.state === 'live') {
      scheduleReconnect(0);
    }
  }

  function scheduleReconnect(delayMs, keepMessage, exact) {
    if (app.finishing || app.state === 'finished' || app.state === 'error') return;
    var gen = ++app.gen; // stale callbacks of the old peer stop here
    clearTimers();
    dropPeer();
    var n = ++app.attempt;
    var delay = delayMs;
    if (delay === null || delay === undefined) {
      delay = Candor.time.jitter(Candor.time.backoffMs(n, BACKOFF_MAX_MS));
    } else if (n > 1 && !exact) {
      // an immediate retry only for the first try after a drop
      delay = Math.max(delay, Candor.time.backoffMs(n, BACKOFF_MAX_MS));
    }
    delay = Math.min(delay, exact ? BUSY_MAX_MS : 30000);
    setState('reconnecting');
    showStep('live');
    if (!keepMessage) setMessage('retry_in', { n: n, s: (delay / 1000).toFixed(1) });
    app.retryTimer = setTimeout(function () {
      if (gen === app.gen) publish();
    }, delay);
  }

  function retryNowIfWaiting() {
    if (app.state === 'reconnecting' && app.retryTimer) {
      clearTimeout(app.retryTimer);
      app.retryTimer = null;
      publish();
    }
  }

  function wireDataChannel(dc, gen) {
    dc.onopen = function () {
      if (gen !== app.gen) return;
      renderQuestion(); // the buttons work again
      sendPing();
      clearInterval(app.pingTimer);
      app.pingTimer = setInterval(sendPing, PING_INTERVAL_MS);
    };
    dc.onclose = function () {
      if (gen !== app.gen || app.finishing) return;
      // The server hung up or the transport broke: publish again.
      scheduleReconnect(app.attempt === 0 ? 0 : null);
    };
    dc.onmessage = function (ev) {
      if (gen !== app.gen) return;
      if (typeof ev.data !== 'string') return;
      var msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (!msg || typeof msg !== 'object') return;
      if (msg.type === 'caption') onCaption(msg);
      else if (msg.type === 'pong') onPong(msg);
      else if (msg.type === 'hello') onHello(msg);
      else if (msg.type === 'question') onQuestion(msg);
      else if (msg.type === 'answer_ended') onAnswerEnded(msg);
      else if (msg.type === 'question_ended') onQuestionEnded(msg);
      else if (msg.type === 'interview_ended') onInterviewEnded(msg);
      // unknown types are ignored
    };
  }

  function sendPing() {
    var dc = app.dc;
    if (!dc || dc.readyState !== 'open') return;
    try { dc.send(JSON.stringify({ type: 'ping', t: Date.now() })); } catch (e) { /* closing */ }
  }

  function onPong(msg) {
    var sent = Number(msg.t);
    if (!isFinite(sent)) return;
    app.rttMs = Math.max(0, Date.now() - sent);
    renderMessage();
  }

  function onCaption(msg) {
    var text = typeof msg.text === 'string' ? msg.text : '';
    var final = msg.final === true;
    app.captions.push({ text: text, final: final, at: Date.now() });
    if (app.captions.length > MAX_CAPTIONS) app.captions.splice(0, app.captions.length - MAX_CAPTIONS);
    $('caption-empty').hidden = true;
    var current = $('caption');
    if (final) {
      current.textContent = '';
      if (text.trim()) {
        var li = document.createElement('li');
        li.textContent = text;
        var list = $('caption-history');
        list.appendChild(li);
        while (list.children.length > 6) list.removeChild(list.firstChild);
      }
    } else {
      current.textContent = text;
    }
  }

  function fail(key, params) {
    app.gen++;
    clearTimers();
    dropPeer();
    stopTracks(); // nothing more can be sent: let the camera go
    setState('error');
    showBanner(key, params);
  }

  // ---- structured interview: question, countdowns, ready / done ----
  function onHello(msg) {
    app.serverSessionId = msg.session_id;
    if (msg.interview === true) {
      app.interview = true;
      storeSet('sessionStorage', KEYS.interview, '1');
    } else if (msg.interview === false) {
      app.interview = false;
      storeRemove('sessionStorage', KEYS.interview);
    }
    renderStageMode();
    renderQuestion();
  }

  function noteEvent(msg) {
    app.questionEvents.push(msg);
    if (app.questionEvents.length > 200) app.questionEvents.splice(0, app.questionEvents.length - 200);
  }

  function onQuestion(msg) {
    noteEvent(msg);
    if (app.interview !== true) {
      app.interview = true; // a question means an interview even without hello
      storeSet('sessionStorage', KEYS.interview, '1');
      renderStageMode();
    }
    var q = {
      question_id: msg.question_id,
      index: toNumber(msg.index, 0),
      total: toNumber(msg.total, 0),
      number: toNumber(msg.number, null),
      scored_total: toNumber(msg.scored_total, null),
      practice: msg.practice === true,
      text: msg.text,
      phase: msg.phase === 'answer' ? 'answer' : 'prep',
      prep_s: Math.max(0, toNumber(msg.prep_s, 0)),
      answer_s: Math.max(0, toNumber(msg.answer_s, 0)),
      remaining_s: Math.max(0, toNumber(msg.remaining_s, 0)),
      receivedAt: nowMs(),
      paused: false,
      pausedLeft: null
    };
    if (q.index === 0) {
      app.practiceCount = q.practice ? 1 : 0;
      storeSet('sessionStorage', KEYS.practice, String(app.practiceCount));
    }
    if (app.action && (app.action.question_id !== q.question_id || app.action.phase !== q.phase)) app.action = null;
    if (app.between && !(app.q && app.q.question_id === q.question_id)) {
      // Shown once the short "next question" pause is over; its clock runs already.
      app.pendingQ = q;
      return;
    }
    app.between = null;
    showQuestion(q);
  }

  function showQuestion(q) {
    // A new question starts with an empty caption box; the same one keeps it.
    if (!app.shownQuestionId || app.shownQuestionId !== q.question_id) clearCaptions();
    app.shownQuestionId = q.question_id;
    app.q = q;
    startQuestionClock();
    renderQuestion();
  }

  function clearCaptions() {
    var list = $('caption-history');
    while (list.firstChild) list.removeChild(list.firstChild);
    $('caption').textContent = '';
    $('caption-empty').hidden = false;
  }

  function onAnswerEnded(msg) {
    noteEvent(msg);
    app.lastEnded = { question_id: msg.question_id, reason: msg.reason };
    app.action = null;
    if (app.q && app.q.question_id === msg.question_id) {
      app.q.phase = 'ended';
      renderQuestion();
    }
  }

  function onQuestionEnded(msg) {
    noteEvent(msg);
    var reason = app.lastEnded && app.lastEnded.question_id === msg.question_id ? app.lastEnded.reason : null;
    var practice = msg.practice === true || !!(app.q && app.q.question_id === msg.question_id && app.q.practice);
    if (app.q && app.q.question_id === msg.question_id) app.q = null;
    app.action = null;
    showBetween(practice ? 'q_practice_over' : 'q_next', reason ? 'q_reason_' + reason : null);
  }

  function onInterviewEnded(msg) {
    noteEvent(msg);
    app.interview = true;
    app.interviewComplete = true;
    app.q = null;
    app.pendingQ = null;
    showBetween('q_all_done', null, true);
    // A moment more of audio lets the server close the last utterance.
    setTimeout(finish, FINISH_DELAY_MS);
  }

  function showBetween(titleKey, noteKey, sticky) {
    clearTimeout(app.betweenTimer);
    app.between = { title: titleKey, note: noteKey && STRINGS.zh[noteKey] ? noteKey : null };
    app.betweenTimer = sticky ? null : setTimeout(endBetween, BETWEEN_MS);
    renderQuestion();
  }

  function endBetween() {
    app.betweenTimer = null;
    var next = app.pendingQ;
    if (!next) return; // keep "next question…" up until the server says what is on
    app.pendingQ = null;
    app.between = null;
    showQuestion(next);
  }

  function questionLeft(q) {
    if (!q) return 0;
    if (q.paused) return q.pausedLeft !== null ? q.pausedLeft : q.remaining_s;
    return Math.max(0, q.remaining_s - (nowMs() - q.receivedAt) / 1000);
  }

  function pauseQuestion() {
    var q = app.q || app.pendingQ;
    if (!q || q.paused) return;
    q.pausedLeft = questionLeft(q);
    q.paused = true;
  }

  function startQuestionClock() {
    if (app.qTimer) return;
    app.qTimer = setInterval(function () {
      if (!app.q) return;
      renderQuestion();
    }, 250);
  }

  function stopQuestionClock() {
    clearInterval(app.qTimer);
    app.qTimer = null;
  }

  function questionLabel(q) {
    if (q.practice) return t('q_practice');
    var practice = app.practiceCount;
    if (practice === null || practice === undefined) {
      var stored = storeGet('sessionStorage', KEYS.practice);
      // The interview opens with one practice question unless seen otherwise.
      practice = stored === '0' || stored === '1' ? Number(stored) : (q.index > 0 ? 1 : 0);
    }
    var n = q.number !== null ? q.number : q.index - practice + 1;
    var m = q.scored_total !== null ? q.scored_total : q.total - practice;
    if (!(n >= 1)) n = q.index + 1;
    if (!(m >= n)) m = Math.max(n, q.total);
    return t('q_number', { n: n, m: m });
  }

  function renderStageMode() {
    var on = app.interview === true && app.step === 'live';
    var stage = $('stage');
    if (stage) stage.className = 'card' + (on ? ' interview' : '') + (app.video ? '' : ' audio-only');
    var panel = $('question-panel');
    if (panel) panel.hidden = !on;
    var start = $('start');
    if (start) {
      // Back after a reload in the middle of an interview: the question continues.
      var resume = storeGet('sessionStorage', KEYS.interview) === '1' && !app.everLive;
      start.setAttribute('data-i18n', resume ? 'start_resume' : 'start');
      start.textContent = t(start.getAttribute('data-i18n'));
    }
  }

  function renderQuestion() {
    var panel = $('question-panel');
    if (!panel || panel.hidden) return;
    var q = app.q;
    $('q-waiting').hidden = !!(q || app.between);
    $('q-between').hidden = !app.between;
    $('q-body').hidden = !q || !!app.between;
    if (app.between) {
      $('q-between-title').textContent = t(app.between.title);
      $('q-between-note').textContent = app.between.note ? t(app.between.note) : '';
      $('q-between-note').hidden = !app.between.note;
      return;
    }
    if (!q) return;
    $('q-label').textContent = questionLabel(q);
    $('q-label').className = 'q-label' + (q.practice ? ' practice' : '');
    $('q-text').textContent = i18n.locText(q.text, app.lang);

    var left = questionLeft(q);
    var answering = q.phase === 'answer';
    var ended = q.phase === 'ended';
    var total = answering ? q.answer_s : q.prep_s;
    if (!(total > 0)) total = Math.max(q.remaining_s, 1);
    var phase = $('q-phase');
    var phaseKey = q.paused ? 'q_phase_paused' : (answering || ended ? 'q_phase_answer' : 'q_phase_prep');
    phase.textContent = t(phaseKey);
    phase.className = 'pill q-phase-' + (q.paused ? 'paused' : (answering || ended ? 'answer' : 'prep'));
    $('q-timer-label').textContent = t(answering || ended ? 'q_timer_answer' : 'q_timer_prep');
    $('q-clock').textContent = Candor.fmt.countdown(ended ? 0 : left);
    var frac = ended ? 0 : Math.max(0, Math.min(1, left / total));
    $('q-bar-fill').style.width = (frac * 100).toFixed(1) + '%';
    var urgent = !q.paused && !ended && left <= URGENT_S;
    $('q-timer').className = 'q-timer q-timer-' + (answering || ended ? 'answer' : 'prep') +
      (urgent ? ' urgent' : '') + (q.paused ? ' paused' : '');

    var hint;
    if (q.paused) hint = t('q_hint_paused');
    else if (ended || (answering && left <= 0)) hint = t('q_hint_answer_over');
    else if (!answering && left <= 0) hint = t('q_hint_prep_over');
    else hint = t(answering ? (app.video ? 'q_hint_answer' : 'q_hint_answer_audio') : 'q_hint_prep');
    if (q.practice && !answering && !ended) hint = t('q_hint_practice') + (app.lang === 'zh' ? '' : ' ') + hint;
    $('q-hint').textContent = hint;

    var open = !!(app.dc && app.dc.readyState === 'open') && app.state === 'live';
    var waiting = !!(app.action && nowMs() - app.action.at < ACTION_RETRY_MS);
    var ready = $('q-ready');
    var done = $('q-done');
    ready.hidden = answering || ended || q.paused;
    done.hidden = !answering || q.paused;
    ready.disabled = !open || waiting;
    done.disabled = !open || waiting;
  }

  function sendAction(type) {
    var q = app.q;
    var dc = app.dc;
    if (!q || !dc || dc.readyState !== 'open') return false;
    try {
      dc.send(JSON.stringify({ type: type }));
    } catch (e) {
      return false;
    }
    app.action = { type: type, question_id: q.question_id, phase: q.phase, at: nowMs() };
    renderQuestion();
    return true;
  }

  // ---- finish ----
  async function finish() {
    if (app.finishing) return;
    app.finishing = true;
    app.gen++;
    clearTimers();
    var loc = app.location;
    var token = app.creds && app.creds.token;
    if (loc && token) {
      try {
        await whip.hangUp(loc, token, 5000);
      } catch (e) { /* the server also notices the peer going away */ }
    }
    dropPeer();
    stopTracks();
    if (app.audioCtx && app.audioCtx.close) app.audioCtx.close().catch(function () {});
    app.audioCtx = null;
    app.location = null;
    storeRemove('sessionStorage', KEYS.creds);
    storeRemove('sessionStorage', KEYS.consent);
    app.doneKind = app.interviewComplete ? 'interview' : '1';
    storeSet('sessionStorage', KEYS.finished, app.doneKind);
    stopQuestionClock();
    clearTimeout(app.betweenTimer);
    app.betweenTimer = null;
    setMessage(null);
    setState('finished');
    renderDone();
    showStep('done');
  }

  function renderDone() {
    // "all questions answered" only when the server said so; leaving early is
    // "finished"; a withdrawn consent says that nothing more is analysed.
    var kind = app.doneKind || (app.interviewComplete ? 'interview' : '1');
    var suffix = kind === 'interview' ? '_interview' : (kind === 'withdrawn' ? '_withdrawn' : '');
    setKey($('done-title'), 'done_title' + suffix);
    setKey($('done-text'), 'done_text' + suffix);
    $('done-review').hidden = kind === 'withdrawn';
  }

  // ---- withdrawing consent: stop sending at once, tell the server, end ----
  async function withdrawConsent() {
    if (app.withdrawing || !app.creds) return false;
    app.withdrawing = true;
    app.finishing = true; // no reconnect from here on
    app.gen++;
    clearTimers();
    dropPeer();
    stopTracks();
    $('withdraw-yes').disabled = true;
    var ok = false;
    var detail = '';
    try {
      var res = await http.fetchWithTimeout(consentUrl(), {
        method: 'DELETE',
        headers: { Authorization: 'Bearer ' + app.creds.token },
        credentials: 'omit',
        cache: 'no-store'
      }, WHIP_TIMEOUT_MS);
      // 404: nothing left to withdraw (already withdrawn, or the session is gone).
      ok = res.ok || res.status === 404;
      if (!ok) detail = http.problemDetail(await http.readProblem(res), res);
    } catch (e) {
      detail = (e && e.message) || String(e);
    }
    app.withdrawing = false;
    $('withdraw-yes').disabled = false;
    if (!ok) {
      setState('error');
      showBanner('err_withdraw', { detail: detail });
      return false;
    }
    if (app.audioCtx && app.audioCtx.close) app.audioCtx.close().catch(function () {});
    app.audioCtx = null;
    app.location = null;
    app.consent = null;
    storeRemove('sessionStorage', KEYS.creds);
    storeRemove('sessionStorage', KEYS.consent);
    app.doneKind = 'withdrawn';
    storeSet('sessionStorage', KEYS.finished, 'withdrawn');
    stopQuestionClock();
    clearTimeout(app.betweenTimer);
    app.betweenTimer = null;
    clearBanner();
    setMessage(null);
    setState('finished');
    renderDone();
    showStep('done');
    return true;
  }

  // ---- user actions ----
  function onConsentChange() {
    $('consent-next').disabled = !consentReady();
  }

  async function onConsentNext() {
    if (!consentReady()) return false;
    ensureAudioContext(); // inside the click: iOS lets audio run after a gesture
    var granted = grantedScopes();
    if (app.policy) {
      // The server records the consent before anything is captured.
      app.consentBusy = true;
      onConsentChange();
      var btn = $('consent-next');
      setKey(btn, 'consent_saving');
      var given;
      try {
        given = await postConsent(granted);
      } catch (err) {
        if (err && err.name === 'HttpError') {
          if (err.status === 401 || err.status === 410) showBanner('err_session_gone', { status: err.status + (err.detail ? ': ' + err.detail : '') });
          else showBanner('err_consent', { detail: err.detail });
        } else {
          showBanner('err_network');
        }
        return false;
      } finally {
        app.consentBusy = false;
        setKey(btn, 'consent_next');
        onConsentChange();
      }
      useConsent(given && typeof given === 'object' ? given : { voice: granted.voice, face: granted.face });
    } else {
      useConsent({ voice: true, face: true }); // a server without policies: as before
    }
    clearBanner();
    showStep('check');
    return openDevices();
  }

  function onStart() {
    ensureAudioContext();
    var p = $('preview').play();
    if (p && p.catch) p.catch(function () {});
    if (!tracksLive()) return;
    app.attempt = 0;
    publish();
  }

  // Tests and support: consent to everything, or {face: false} for audio only.
  async function consentAndStart(opts) {
    $('consent').checked = true;
    $('consent-voice').checked = true;
    $('consent-face').checked = !(opts && opts.face === false);
    onConsentChange();
    var ok = await onConsentNext();
    if (ok) onStart();
    return ok;
  }

  // ---- boot ----
  async function boot() {
    var stored = storeGet('localStorage', KEYS.lang);
    applyLang(stored || 'zh', false);

    $('lang-toggle').addEventListener('click', function () {
      applyLang(app.lang === 'zh' ? 'en' : 'zh', true);
    });
    $('consent').addEventListener('change', onConsentChange);
    $('consent-voice').addEventListener('change', onConsentChange);
    $('consent-face').addEventListener('change', onConsentChange);
    $('consent-next').addEventListener('click', onConsentNext);
    $('retry-devices').addEventListener('click', openDevices);
    $('start').addEventListener('click', onStart);
    $('finish').addEventListener('click', function () {
      $('finish-confirm').hidden = false;
      $('finish').hidden = true;
      $('withdraw-confirm').hidden = true;
    });
    $('finish-cancel').addEventListener('click', function () {
      $('finish-confirm').hidden = true;
      $('finish').hidden = false;
    });
    $('finish-yes').addEventListener('click', finish);
    $('withdraw').addEventListener('click', function () {
      $('withdraw-confirm').hidden = false;
      $('finish-confirm').hidden = true;
      $('finish').hidden = false;
    });
    $('withdraw-cancel').addEventListener('click', function () {
      $('withdraw-confirm').hidden = true;
    });
    $('withdraw-yes').addEventListener('click', withdrawConsent);
    $('q-ready').addEventListener('click', function () { sendAction('ready'); });
    $('q-done').addEventListener('click', function () { sendAction('done'); });
    window.addEventListener('online', retryNowIfWaiting);
    // Leaving or reloading the page: hang up at once so that HR sees the
    // connection end now rather than after the ICE timeout. The session stays.
    window.addEventListener('pagehide', function () {
      if (app.finishing || !app.location || !app.creds) return;
      whip.hangUpOnExit(app.location, app.creds.token);
    });
    // Back from the back-forward cache with a dead peer: publish again.
    window.addEventListener('pageshow', function (ev) {
      if (ev.persisted && (app.state === 'live' || app.state === 'reconnecting')) {
        app.attempt = 0;
        publish();
      }
    });
    document.addEventListener('visibilitychange', function () {
      if (document.visibilityState === 'visible') {
        retryNowIfWaiting();
        if (app.audioCtx && app.audioCtx.state === 'suspended') app.audioCtx.resume().catch(function () {});
      }
    });

    // Take the one-time code out of the address bar at once; keep it in
    // sessionStorage only until the exchange has answered.
    var code = readCodeFromHash();
    if (code) {
      storeSet('sessionStorage', KEYS.pending, code);
      try {
        history.replaceState(null, '', location.pathname + location.search);
      } catch (e) {
        location.hash = '';
      }
    }

    var problem = environmentProblem();
    if (problem) {
      showStep('notice');
      showBanner(problem.key, null, problem.hint);
      setState('error');
      lockConsent();
      return;
    }

    var pending = storeGet('sessionStorage', KEYS.pending);
    if (pending) {
      setMessage('loading_link');
      try {
        var creds = await exchangeCode(pending);
        storeRemove('sessionStorage', KEYS.pending);
        storeRemove('sessionStorage', KEYS.finished);
        storeRemove('sessionStorage', KEYS.consent);
        storeRemove('sessionStorage', KEYS.interview);
        storeRemove('sessionStorage', KEYS.practice);
        storeSet('sessionStorage', KEYS.creds, JSON.stringify(creds));
      } catch (err) {
        if (err && err.name === 'HttpError') {
          storeRemove('sessionStorage', KEYS.pending);
          if (!loadCreds()) {
            showStep('notice');
            // 404: unknown or used code; 410: expired. Others: say what the server said.
            if (err.status === 404) showBanner('err_no_code');
            else if (err.status === 410) showBanner('err_expired');
            else showBanner('err_link', { detail: err.detail });
            lockConsent();
            setState('error');
            return;
          }
        } else {
          // network trouble: keep the code for a reload
          showStep('notice');
          showBanner('err_network');
          lockConsent();
          setState('error');
          return;
        }
      }
      setMessage(null);
    }

    if (!code && storeGet('sessionStorage', KEYS.finished)) {
      app.doneKind = storeGet('sessionStorage', KEYS.finished);
      app.interviewComplete = app.doneKind === 'interview';
      renderDone();
      showStep('done');
      setState('finished');
      return;
    }

    app.creds = loadCreds();
    if (!app.creds) {
      showStep('notice');
      showBanner('err_no_code');
      lockConsent();
      setState('error');
      return;
    }
    if (credsExpired(app.creds)) {
      showStep('notice');
      showBanner('err_expired');
      lockConsent();
      setState('error');
      return;
    }
    if (!stored && typeof app.creds.language_hint === 'string' && /^en/i.test(app.creds.language_hint)) {
      applyLang('en', false);
    }
    renderExpiry();
    app.policy = policyOf(app.creds);
    renderPolicy();

    // Consent already given (a reload, or the server says so): back to the
    // device check, with the camera only where the face was consented to.
    var given = app.policy
      ? (app.creds.consent && typeof app.creds.consent === 'object' && app.creds.consent.voice ? app.creds.consent : null)
      : (storeGet('sessionStorage', KEYS.consent) ? { voice: true, face: true } : null);
    if (given) {
      useConsent(given);
      $('consent').checked = true;
      $('consent-voice').checked = given.voice !== false;
      $('consent-face').checked = given.face !== false;
      showStep('check');
      renderPreviewMode();
      openDevices();
    } else {
      showStep('notice');
      onConsentChange();
    }
  }

  // Small hooks for tests and support: read state, nothing secret.
  window.candor = {
    get state() { return app.state; },
    captions: app.captions,
    get micLevel() { return app.micLevel; },
    get heard() { return app.heard; },
    get rttMs() { return app.rttMs; },
    get attempt() { return app.attempt; },
    get lang() { return app.lang; },
    get connectionState() { return app.pc ? whip.linkState(app.pc) : null; },
    get dataChannelState() { return app.dc ? app.dc.readyState : null; },
    get interview() { return app.interview; },
    get question() {
      var q = app.q;
      if (!q) return null;
      return { question_id: q.question_id, index: q.index, practice: q.practice, phase: q.phase,
        paused: q.paused, remaining_s: Math.round(questionLeft(q) * 10) / 10 };
    },
    get between() { return app.between ? app.between.title : null; },
    questionEvents: app.questionEvents,
    get policy() { return app.policy ? app.policy.name : null; },
    get consent() { return app.consent; },
    get video() { return app.video; },
    // what the page sends: the kinds of its live tracks and of the peer's senders
    get trackKinds() { return app.stream ? app.stream.getTracks().map(function (tr) { return tr.kind; }) : []; },
    get senderKinds() {
      if (!app.pc || !app.pc.getSenders) return [];
      return app.pc.getSenders().filter(function (x) { return !!x.track; }).map(function (x) { return x.track.kind; });
    },
    connect: function () { app.attempt = 0; return publish(); },
    consentAndStart: consentAndStart,
    withdrawConsent: withdrawConsent
  };

  boot();
})(window.Candor);
