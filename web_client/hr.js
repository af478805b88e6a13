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
      err_no_session: '会话列表中没有 {id}：链接可能有误，或会话已被删除。'
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
      err_no_session: 'Session {id} is not in the session list: the link may be wrong or the session deleted.'
    }
  };

  var LANG_KEY = 'candor.hr.lang';
  var BACKOFF_MAX_MS = 10000;
  var LIST_REFRESH_MS = 5000;
  var MAX_LOG = 300;

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
    banner: null
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
      cell(tr, s.id, 'id');
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

  async function onNewSession() {
    $('new-session').disabled = true;
    try {
      var s = await api('POST', '/v1/sessions', {});
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
      $('new-session').disabled = false;
    }
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
    } catch (err) {
      if (err && err.name === 'AuthError') { showSignin(); return; }
      // the event stream may still work; say what failed
      handleError(err);
    }
    connectEvents();
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
    var p = event.payload || {};
    switch (event.type) {
      case 'transcript.partial': return onPartial(event, p);
      case 'transcript.final': return onFinal(event, p);
      case 'speech.start': return setSpeaking(true);
      case 'speech.end': return setSpeaking(false);
      case 'face.metrics': return onFaceMetrics(event, p);
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
        refreshSessionState();
        return logLine(event, t('ev_connection_ended', { reason: p.reason || '—' }), 'warn');
      case 'session.error':
        return logLine(event, t('ev_session_error', { message: p.message || '' }), 'error');
      case 'media.dropped':
        return logLine(event, t('ev_media_dropped', { kind: p.kind, count: p.count }), 'warn');
      case 'session.created':
        return logLine(event, t('ev_session_created'), '');
      case 'media.flowing':
        return logLine(event, t('ev_media_flowing'), '');
      default: {
        var detail = '';
        try { detail = JSON.stringify(p); } catch (e) { detail = ''; }
        if (detail.length > 160) detail = detail.slice(0, 157) + '…';
        return logLine(event, event.type + (detail && detail !== '{}' ? ' ' + detail : ''), '');
      }
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

  function utteranceRow(key) {
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
    box.appendChild(row);
    $('transcript-empty').hidden = true;
    ui.utterances[key] = row;
    if (nearBottom) box.scrollTop = box.scrollHeight;
    return row;
  }

  function onPartial(event, p) {
    var key = utteranceKey(event, p);
    var row = utteranceRow(key);
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
    var row = utteranceRow(key);
    row.className = 'utt final';
    var start = typeof p.start === 'number' ? p.start : event.media_time;
    var end = typeof p.end === 'number' ? p.end : null;
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
    get lastSeq() { return ui.lastSeq; }
  };

  boot();
})();
