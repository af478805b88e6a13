/* Candor candidate page: notice and consent, device check, WHIP publish,
 * live captions over the "control" data channel, reconnect, finish.
 *
 * The page's controller, Candor.candidate: the strings, the page's state
 * (cand.app), t(), the banner and messages, steps and states, the link
 * exchange, finish, and boot. The steps are files of their own, loaded after
 * this one (candidate.html, after common.js and whip.js):
 *
 *   candidate/consent.js    Candor.candidate.consent    policy, consent, withdrawal
 *   candidate/devices.js    Candor.candidate.devices    camera preview, microphone level
 *   candidate/live.js       Candor.candidate.live       WHIP publish, reconnect, data channel
 *   candidate/interview.js  Candor.candidate.interview  the structured interview's questions
 *
 * Boots once the document has loaded, after every step's script has run.
 * Plain ES2017 (no modules, no optional chaining) so that it runs in desktop
 * browsers, Safari / iOS WKWebView and the WeCom (企业微信) webview.
 */
(function (Candor) {
  'use strict';

  var cand = Candor.candidate = Candor.candidate || {};
  var i18n = Candor.i18n;
  var http = Candor.http;
  var whip = Candor.whip;
  var $ = Candor.dom.$;
  var storeGet = Candor.store.get;
  var storeSet = Candor.store.set;
  var storeRemove = Candor.store.remove;
  var parseTime = Candor.time.parseTime;

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
      consent_recording: '同意保存我的回答录音（及录像）供招聘人员回看',
      consent_recording_notice: '每道题回答的录音（同意处理面部图像时也包括录像）加密保存，仅供招聘人员人工复核，按保留期限删除。不同意也没关系：面试照常进行，不保存任何录音录像。',
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
      caption_title_final: '识别出的回答',
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
      webview_title: '请在系统浏览器中打开',
      webview_text_wecom: '企业微信的内置浏览器无法使用摄像头和麦克风进行视频面试。请在手机或电脑的系统浏览器中打开本链接，面试链接仍然有效。',
      webview_text: '此内置浏览器无法使用摄像头和麦克风进行视频面试。请在手机或电脑的系统浏览器中打开本链接，面试链接仍然有效。',
      webview_how: '点击右上角的“…”，选择“在默认浏览器中打开”；或复制下面的链接，粘贴到 Chrome、Edge 或 Safari 的地址栏。',
      webview_link: '面试链接',
      webview_copy: '复制链接',
      webview_copied: '已复制，请粘贴到系统浏览器中打开。',
      webview_copy_failed: '无法自动复制，请长按链接手动复制。',
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
      consent_recording: 'I agree that recordings of my answers are kept for the recruiters to review',
      consent_recording_notice: 'Each answer\'s audio (and video, if you agreed to face processing) is kept encrypted, only for a person to review, and deleted after the retention period. Declining is fine: the interview goes on and no recording is kept.',
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
      caption_title_final: 'What we heard',
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
      webview_title: 'Open this in your system browser',
      webview_text_wecom: 'The WeCom in-app browser cannot use the camera and microphone for a video interview. Open this link in your phone\'s or computer\'s system browser: it still works there.',
      webview_text: 'This in-app browser cannot use the camera and microphone for a video interview. Open this link in your phone\'s or computer\'s system browser: it still works there.',
      webview_how: 'Tap "…" at the top right and choose "Open in browser", or copy the link below into Chrome, Edge or Safari.',
      webview_link: 'Interview link',
      webview_copy: 'Copy link',
      webview_copied: 'Copied: paste it into your system browser.',
      webview_copy_failed: 'Could not copy automatically: press and hold the link to copy it.',
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

  var KEYS = cand.KEYS = {
    lang: 'candor.lang',
    creds: 'candor.candidate',
    pending: 'candor.pendingCode',
    consent: 'candor.consent',
    finished: 'candor.finished',
    interview: 'candor.interview', // '1': the session is a structured interview
    practice: 'candor.practiceCount' // practice questions before the scored ones
  };
  var WEBVIEW_UA = /wxwork|MicroMessenger|WebView|wv\)/i;
  cand.WHIP_TIMEOUT_MS = 15000; // a WHIP or consent request

  var app = cand.app = {
    state: 'idle', // idle | checking | ready | connecting | live | reconnecting | finished | error
    captions: [],
    captionsMode: 'live', // the server's hello says: live | final | off
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
  var t = cand.t = i18n.translator(STRINGS, function () { return app.lang; });

  // Whether STRINGS has the key (a reason the server names may be new).
  cand.hasString = function (key) { return STRINGS.zh[key] !== undefined; };

  function applyLang(lang, remember) {
    app.lang = i18n.pickLang(STRINGS, lang);
    if (remember) storeSet('localStorage', KEYS.lang, app.lang);
    i18n.applyDom(t, app.lang);
    document.title = 'Candor ' + t('title');
    cand.consent.renderPolicy();
    renderBanner();
    renderMessage();
    renderStatus();
    renderExpiry();
    cand.devices.renderMicState();
    cand.interview.renderQuestion();
    if (cand.selfid) cand.selfid.render();
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
    if (state !== 'live') cand.interview.pauseQuestion();
    renderStatus();
    renderMessage();
    cand.interview.renderQuestion();
  }

  function showStep(step) {
    $('step-notice').hidden = step !== 'notice';
    $('stage').hidden = step !== 'check' && step !== 'live';
    $('check-panel').hidden = step !== 'check';
    $('live-panel').hidden = step !== 'live';
    $('step-done').hidden = step !== 'done';
    var webviewStep = $('step-webview');
    if (webviewStep) webviewStep.hidden = step !== 'webview';
    app.step = step;
    cand.interview.renderStageMode();
    if (step === 'check' || step === 'live') {
      var title = $('stage-title');
      title.setAttribute('data-i18n', step === 'live' ? 'live_title' : 'check_title');
      title.textContent = t(title.getAttribute('data-i18n'));
    }
  }

  // A node whose text is the string `key` (and stays so when the language changes).
  function setKey(node, key) {
    if (!node) return;
    node.setAttribute('data-i18n', key);
    node.textContent = t(key);
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

  // ---- an in-app webview (WeCom 企业微信, WeChat) without camera or WebRTC ----
  // Pure helpers (tests/web_client/wecom.test.js): what the page is in, and the link to open elsewhere.
  var webview = {
    isWeCom: function (ua) { return /wxwork/i.test(ua || ''); },
    isInApp: function (ua) { return WEBVIEW_UA.test(ua || ''); },
    // What the webview lacks for an interview: [] when it has everything.
    missing: function (win) {
      var nav = win.navigator || {};
      var out = [];
      if (!(nav.mediaDevices && typeof nav.mediaDevices.getUserMedia === 'function')) out.push('getUserMedia');
      if (typeof win.RTCPeerConnection !== 'function') out.push('RTCPeerConnection');
      return out;
    },
    // The page's link with its one-time code, unused yet: the system browser exchanges it.
    link: function (loc, code) {
      var base = loc.origin + loc.pathname + (loc.search || '');
      return code ? base + '#code=' + encodeURIComponent(code) : base;
    }
  };

  function showWebviewStep(link, wecom) {
    var section = $('step-webview');
    if (!section) {
      var el = Candor.dom.el;
      section = el('section', 'card step-webview');
      section.id = 'step-webview';
      section.setAttribute('role', 'region');
      var title = el('h2');
      title.id = 'webview-title';
      var text = el('p');
      text.id = 'webview-text';
      var how = el('p', 'muted');
      how.id = 'webview-how';
      var label = el('label');
      label.id = 'webview-link-label';
      label.setAttribute('for', 'webview-link');
      var input = el('input', 'copy-input');
      input.id = 'webview-link';
      input.type = 'text';
      input.readOnly = true;
      input.setAttribute('autocomplete', 'off');
      input.setAttribute('spellcheck', 'false');
      var copy = el('button', 'primary');
      copy.id = 'webview-copy';
      copy.type = 'button';
      var status = el('p', 'small');
      status.id = 'webview-copy-status';
      status.setAttribute('role', 'status');
      section.appendChild(title);
      section.appendChild(text);
      section.appendChild(how);
      section.appendChild(label);
      section.appendChild(input);
      section.appendChild(copy);
      section.appendChild(status);
      var notice = $('step-notice');
      notice.parentNode.insertBefore(section, notice);
      input.addEventListener('focus', function () { input.select(); });
      copy.addEventListener('click', async function () {
        var ok = await Candor.dom.copyInput(input);
        setKey(status, ok ? 'webview_copied' : 'webview_copy_failed');
      });
    }
    setKey($('webview-title'), 'webview_title');
    setKey($('webview-text'), wecom ? 'webview_text_wecom' : 'webview_text');
    setKey($('webview-how'), 'webview_how');
    setKey($('webview-link-label'), 'webview_link');
    setKey($('webview-copy'), 'webview_copy');
    $('webview-link').value = link;
    showStep('webview');
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

  // ---- finish ----
  async function finish() {
    if (app.finishing) return;
    app.finishing = true;
    app.gen++;
    cand.live.clearTimers();
    var loc = app.location;
    var token = app.creds && app.creds.token;
    if (loc && token) {
      try {
        await whip.hangUp(loc, token, 5000);
      } catch (e) { /* the server also notices the peer going away */ }
    }
    cand.live.dropPeer();
    cand.devices.stopTracks();
    if (app.audioCtx && app.audioCtx.close) app.audioCtx.close().catch(function () {});
    app.audioCtx = null;
    app.location = null;
    storeRemove('sessionStorage', KEYS.creds);
    storeRemove('sessionStorage', KEYS.consent);
    app.doneKind = app.interviewComplete ? 'interview' : '1';
    storeSet('sessionStorage', KEYS.finished, app.doneKind);
    cand.interview.stopQuestionClock();
    clearTimeout(app.betweenTimer);
    app.betweenTimer = null;
    setMessage(null);
    setState('finished');
    renderDone();
    showStep('done');
    if (cand.selfid) cand.selfid.show(); // the voluntary self-identification, while the token is still here
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

  // ---- boot ----
  async function boot() {
    var stored = storeGet('localStorage', KEYS.lang);
    applyLang(stored || 'zh', false);

    $('lang-toggle').addEventListener('click', function () {
      applyLang(app.lang === 'zh' ? 'en' : 'zh', true);
    });
    $('consent').addEventListener('change', cand.consent.onConsentChange);
    $('consent-voice').addEventListener('change', cand.consent.onConsentChange);
    $('consent-face').addEventListener('change', cand.consent.onConsentChange);
    $('consent-recording').addEventListener('change', cand.consent.onConsentChange);
    $('consent-next').addEventListener('click', cand.consent.onConsentNext);
    $('retry-devices').addEventListener('click', cand.devices.openDevices);
    $('start').addEventListener('click', cand.live.onStart);
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
    $('withdraw-yes').addEventListener('click', cand.consent.withdrawConsent);
    $('q-ready').addEventListener('click', function () { cand.interview.sendAction('ready'); });
    $('q-done').addEventListener('click', function () { cand.interview.sendAction('done'); });
    window.addEventListener('online', cand.live.retryNowIfWaiting);
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
        cand.live.publish();
      }
    });
    document.addEventListener('visibilitychange', function () {
      if (document.visibilityState === 'visible') {
        cand.live.retryNowIfWaiting();
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

    // In WeCom's (or another app's) webview without camera or WebRTC: not a broken page, but the
    // step that hands the link, code and all, to the system browser. The code is not exchanged here.
    var ua = navigator.userAgent || '';
    if (webview.isInApp(ua) && webview.missing(window).length) {
      showWebviewStep(webview.link(location, code || storeGet('sessionStorage', KEYS.pending)), webview.isWeCom(ua));
      setState('error');
      return;
    }

    var problem = environmentProblem();
    if (problem) {
      showStep('notice');
      showBanner(problem.key, null, problem.hint);
      setState('error');
      cand.consent.lockConsent();
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
            cand.consent.lockConsent();
            setState('error');
            return;
          }
        } else {
          // network trouble: keep the code for a reload
          showStep('notice');
          showBanner('err_network');
          cand.consent.lockConsent();
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
      cand.consent.lockConsent();
      setState('error');
      return;
    }
    if (credsExpired(app.creds)) {
      showStep('notice');
      showBanner('err_expired');
      cand.consent.lockConsent();
      setState('error');
      return;
    }
    if (!stored && typeof app.creds.language_hint === 'string' && /^en/i.test(app.creds.language_hint)) {
      applyLang('en', false);
    }
    renderExpiry();
    app.policy = cand.consent.policyOf(app.creds);
    cand.consent.renderPolicy();

    // Consent already given (a reload, or the server says so): back to the
    // device check, with the camera only where the face was consented to.
    var given = app.policy
      ? (app.creds.consent && typeof app.creds.consent === 'object' && app.creds.consent.voice ? app.creds.consent : null)
      : (storeGet('sessionStorage', KEYS.consent) ? { voice: true, face: true } : null);
    if (given) {
      cand.consent.useConsent(given);
      $('consent').checked = true;
      $('consent-voice').checked = given.voice !== false;
      $('consent-face').checked = given.face !== false;
      $('consent-recording').checked = given.recording === true;
      showStep('check');
      cand.devices.renderPreviewMode();
      cand.devices.openDevices();
    } else {
      showStep('notice');
      cand.consent.onConsentChange();
    }
  }

  // Small hooks for tests and support: read state, nothing secret.
  window.candor = {
    get state() { return app.state; },
    captions: app.captions,
    get captionsMode() { return app.captionsMode; },
    get micLevel() { return app.micLevel; },
    get heard() { return app.heard; },
    get rttMs() { return app.rttMs; },
    get attempt() { return app.attempt; },
    get lang() { return app.lang; },
    get step() { return app.step; },
    get connectionState() { return app.pc ? whip.linkState(app.pc) : null; },
    get dataChannelState() { return app.dc ? app.dc.readyState : null; },
    get interview() { return app.interview; },
    get question() {
      var q = app.q;
      if (!q) return null;
      return { question_id: q.question_id, index: q.index, practice: q.practice, phase: q.phase,
        paused: q.paused, remaining_s: Math.round(cand.interview.questionLeft(q) * 10) / 10 };
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
    connect: function () { app.attempt = 0; return cand.live.publish(); },
    consentAndStart: function (opts) { return cand.consent.consentAndStart(opts); },
    withdrawConsent: function () { return cand.consent.withdrawConsent(); }
  };

  cand.showBanner = showBanner;
  cand.clearBanner = clearBanner;
  cand.setMessage = setMessage;
  cand.renderMessage = renderMessage;
  cand.setState = setState;
  cand.showStep = showStep;
  cand.webview = webview;
  cand.setKey = setKey;
  cand.finish = finish;
  cand.renderDone = renderDone;

  // The steps (candidate/*.js) load after this file: start once they all have.
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})(window.Candor);
