/* Candor HR, the live view of one session (Candor.hr.live, /hr/sessions/<id>):
 * the event WebSocket with resume by seq and back-off, the live transcript
 * (partials, then finals), face, expression and voice metrics, the policy
 * and consent card, and the event log. Events of the structured interview go
 * to Candor.hr.interview.
 * Classic script, plain ES2017; loads after hr.js.
 */
(function (Candor) {
  'use strict';

  var hr = Candor.hr;
  var ui = hr.ui;
  var t = hr.t;
  var fmtDateTime = hr.fmtDateTime;
  var fmtShare = hr.fmtShare;
  var fmt = Candor.fmt;
  var finiteOrNull = Candor.num.finiteOrNull;
  var $ = Candor.dom.$;

  var BACKOFF_MAX_MS = 10000;
  var MAX_LOG = 300;

  // Show the session, then follow its events.
  async function openLive(id) {
    ui.sessionId = id;
    $('live-session-id').textContent = id;
    hr.setView('live');
    if (hr.recommend) hr.recommend.open(id);
    try {
      var data = await hr.api('GET', '/v1/sessions');
      var found = ((data && data.sessions) || []).filter(function (s) { return s.id === id; })[0];
      renderSessionState(found);
      if (!found) hr.showBanner('err_no_session', { id: id });
      if (found) loadSessionWho(id);
    } catch (err) {
      if (err && err.name === 'AuthError') { hr.signin.show(); return; }
      // the event stream may still work; say what failed
      hr.handleError(err);
    }
    connectEvents();
  }

  // Who and for which job (the candidate's name is only in the one-session GET).
  function loadSessionWho(id) {
    hr.api('GET', '/v1/sessions/' + encodeURIComponent(id)).then(function (s) {
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
    return hr.labelOf('policy_', name);
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
      if ($('c-recording')) {
        $('c-recording').textContent = t(c.recording === true ? 'c_yes' : 'c_recording_no');
        $('c-recording').className = c.recording === true ? 'ok' : '';
      }
    } else {
      var none = t(ui.consentWithdrawn ? 'c_withdrawn' : 'c_pending');
      voice.textContent = policy ? none : '—';
      face.textContent = policy ? none : '—';
      emotion.textContent = policy === 'eu' ? t('c_emotion_off') : '—';
      $('c-given').textContent = '—';
      if ($('c-recording')) { $('c-recording').textContent = '—'; $('c-recording').className = ''; }
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
      recording: p.recording === true,
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
    return hr.labelOf('expr_', label);
  }

  function onExpressionMetrics(event, p) {
    var probs = p.probabilities && typeof p.probabilities === 'object' ? p.probabilities : null;
    var dom = typeof p.dominant === 'string' ? p.dominant : null;
    if (!dom) { $('m-expression').textContent = '—'; return; }
    var share = probs && finiteOrNull(probs[dom]) !== null ? ' ' + fmtShare(probs[dom]) : '';
    $('m-expression').textContent = expressionLabel(dom) + share;
  }

  function onVoiceAffect(event, p) {
    $('m-arousal').textContent = finiteOrNull(p.arousal) !== null ? p.arousal.toFixed(2) : '—';
  }

  function renderSessionState(s) {
    var el = $('live-session-state');
    if (!s) { el.hidden = true; return; }
    el.textContent = (s.state || '') + (s.connected ? ' · ' + t('connected_yes') : '');
    el.className = 'pill' + (s.connected ? ' pill-live' : '');
    el.hidden = false;
  }

  // ---- the event stream: resume after the last seq seen ----
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
      if (ev.code === 4401 || ev.code === 4403) { hr.signin.show(); return; }
      if (ev.code === 4001) { scheduleEvents(0); return; } // too slow: dropped, come back at once
      if (!opened) {
        // A refused handshake hides its HTTP status: ask the API whether we are signed in.
        hr.api('GET', '/v1/sessions').then(function () { scheduleEvents(null); }, function (err) {
          if (err && err.name === 'AuthError') hr.signin.show();
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
      delay = Candor.time.jitter(Candor.time.backoffMs(n, BACKOFF_MAX_MS));
    }
    setWsState('reconnecting');
    ui.wsTimer = setTimeout(connectEvents, delay);
  }

  function onEvent(event) {
    var p = event.payload && typeof event.payload === 'object' ? event.payload : {};
    hr.interview.noteMediaTime(event);
    switch (event.type) {
      case 'question.started': return hr.interview.onQuestionStarted(event, p);
      case 'answer.started': return hr.interview.onAnswerStarted(event, p);
      case 'answer.ended': return hr.interview.onAnswerEnded(event, p);
      case 'question.ended': return hr.interview.onQuestionEnded(event, p);
      case 'interview.ended': return hr.interview.onInterviewEnded(event, p);
      case 'score.provisional': return hr.interview.onScore(event, p, true);
      case 'score.question': return hr.interview.onScore(event, p, false);
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
          hr.interview.pauseCurrent();
        }
        refreshSessionState();
        return logLine(event, t('ev_connection_ended', { reason: p.reason || '—' }), 'warn');
      case 'session.error':
        return logLine(event, t('ev_session_error', { message: p.message || '' }), 'error');
      case 'candidate.message': // the candidate wrote through WeCom ("my microphone does not work")
        return logLine(event, t('ev_candidate_message', { text: p.text || '' }), 'warn message');
      case 'media.dropped':
        return logLine(event, t('ev_media_dropped', { kind: p.kind, count: p.count }), 'warn');
      case 'session.created':
        return logLine(event, t('ev_session_created'), '');
      case 'media.flowing':
        ui.clock.running = true;
        ui.clock.at = Candor.time.nowMs();
        return logLine(event, t('ev_media_flowing'), '');
      default:
        return logUnknown(event, p);
    }
  }

  function refreshSessionState() {
    hr.api('GET', '/v1/sessions').then(function (data) {
      var found = ((data && data.sessions) || []).filter(function (s) { return s.id === ui.sessionId; })[0];
      renderSessionState(found);
    }, function () { /* shown by the next failure that matters */ });
  }

  // ---- transcript and metrics ----
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
    hr.interview.placeRow(row);
    $('transcript-empty').hidden = true;
    if (nearBottom) box.scrollTop = box.scrollHeight;
    return row;
  }

  function onPartial(event, p) {
    var key = utteranceKey(event, p);
    var row = utteranceRow(key, finiteOrNull(p.start) !== null ? p.start : finiteOrNull(event.media_time));
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
    row.children[0].textContent = fmt.mediaTime(event.media_time);
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
    hr.interview.placeRow(row);
    row.children[0].textContent = fmt.mediaTime(start) + (end !== null ? '–' + fmt.mediaTime(end) : '');
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
    $('m-faces').textContent = fm + ' / ' + fmt.fixed(p.faces_mean, 2);
    $('m-yaw').textContent = fmt.fixed(p.yaw, 1, '°');
    $('m-pitch').textContent = fmt.fixed(p.pitch, 1, '°');
    $('m-roll').textContent = fmt.fixed(p.roll, 1, '°');
    $('m-gaze').textContent = fmtShare(p.gaze_at_camera);
    var mt = typeof p.newest_media_time === 'number' ? p.newest_media_time : event.media_time;
    $('m-time').textContent = fmt.mediaTime(mt) || '—';
  }

  // ---- event log, newest first ----
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
    if (event && event.wall_time !== undefined) parts.push(fmt.wallClock(event.wall_time));
    else parts.push(fmt.wallClock(Date.now()));
    if (event && typeof event.media_time === 'number') parts.push(fmt.mediaTime(event.media_time));
    time.textContent = parts.join(' ');
    var body = document.createElement('span');
    body.className = 'ev-text';
    body.textContent = text;
    li.appendChild(time);
    li.appendChild(body);
    list.insertBefore(li, list.firstChild); // newest first
    while (list.children.length > MAX_LOG) list.removeChild(list.lastChild);
  }

  function init() {
    window.addEventListener('online', function () {
      if (ui.view === 'live' && ui.wsState === 'reconnecting') connectEvents();
    });
  }

  hr.live = {
    init: init,
    open: openLive,
    connectEvents: connectEvents,
    closeEvents: closeEvents,
    setWsState: setWsState,
    renderWsStatus: renderWsStatus,
    renderConsent: renderConsent,
    expressionLabel: expressionLabel,
    logLine: logLine,
    logUnknown: logUnknown
  };
})(window.Candor);
