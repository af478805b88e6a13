/* Candor candidate page, the interview on the wire: WHIP publish
 * (Candor.whip), reconnect with back-off, "server busy" with Retry-After,
 * and the "control" data channel (ping / pong, captions, the interview's
 * messages, which go to Candor.candidate.interview).
 * Classic script, plain ES2017; loads after candidate.js (Candor.candidate.live).
 */
(function (Candor) {
  'use strict';

  var cand = Candor.candidate;
  var app = cand.app;
  var t = cand.t;
  var whip = Candor.whip;
  var $ = Candor.dom.$;

  var DISCONNECT_GRACE_MS = 3000;
  var CONNECT_TIMEOUT_MS = 20000;
  var ICE_GATHER_TIMEOUT_MS = 5000;
  var BACKOFF_MAX_MS = 10000;
  // What the video sender is capped at when the server does not say (its
  // exchange answer's "video": the frame rate it samples, CANDOR_VIDEO_FPS).
  var VIDEO_LIMITS = { maxFramerate: 5, maxBitrate: 300000 };
  var BUSY_MAX_MS = 300000; // the longest Retry-After honoured as is
  var PING_INTERVAL_MS = 5000;
  var MAX_CAPTIONS = 500;

  // ---- WHIP publish and reconnect ----
  function videoLimits(video) {
    if (!video || typeof video !== 'object') return VIDEO_LIMITS;
    return {
      maxFramerate: video.max_fps > 0 ? video.max_fps : VIDEO_LIMITS.maxFramerate,
      maxBitrate: video.max_bitrate > 0 ? video.max_bitrate : null // null: the browser's choice
    };
  }

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
    cand.setState(app.everLive || app.attempt > 0 ? 'reconnecting' : 'connecting');
    cand.showStep('live');
    var pc;
    try {
      if (!cand.devices.tracksLive()) {
        var stream;
        try {
          stream = await cand.devices.getMedia();
        } catch (mediaErr) {
          mediaErr.isDeviceError = true;
          throw mediaErr;
        }
        if (gen !== app.gen) { stream.getTracks().forEach(function (tr) { tr.stop(); }); return; }
        cand.devices.stopTracks();
        cand.devices.useStream(stream);
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
      var res = await whip.postOffer(whipUrl, app.creds.token, sdp, cand.WHIP_TIMEOUT_MS);
      if (gen !== app.gen) return;
      if (!whip.accepted(res)) throw await whip.refusal(res);
      app.location = whip.resourceUrl(res, whipUrl);
      var answer = await res.text();
      if (gen !== app.gen) return;
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
      whip.limitVideo(pc, videoLimits(app.creds.video));
      app.connectTimer = setTimeout(function () {
        if (gen === app.gen && app.state !== 'live') scheduleReconnect();
      }, CONNECT_TIMEOUT_MS);
      onLinkChange(pc, gen);
    } catch (err) {
      if (gen !== app.gen || app.finishing) return;
      if (cand.consent.isConsentRequired(err)) {
        cand.consent.askConsentAgain();
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
        cand.setMessage(cand.devices.deviceErrorKey(err), { name: err.name || '?' }, true);
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
      cand.setMessage('server_busy', { s: left });
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
      cand.setMessage(null);
      cand.setState('live');
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
    cand.setState('reconnecting');
    cand.showStep('live');
    if (!keepMessage) cand.setMessage('retry_in', { n: n, s: (delay / 1000).toFixed(1) });
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
      cand.interview.renderQuestion(); // the buttons work again
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
      else if (msg.type === 'hello') { showCaptions(msg.captions); cand.interview.onHello(msg); }
      else if (msg.type === 'question') cand.interview.onQuestion(msg);
      else if (msg.type === 'answer_ended') cand.interview.onAnswerEnded(msg);
      else if (msg.type === 'question_ended') cand.interview.onQuestionEnded(msg);
      else if (msg.type === 'interview_ended') cand.interview.onInterviewEnded(msg);
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
    cand.renderMessage();
  }

  // The deployment says which captions come (CANDOR_CANDIDATE_CAPTIONS): none, no caption box.
  function showCaptions(mode) {
    app.captionsMode = typeof mode === 'string' ? mode : 'live';
    var off = app.captionsMode === 'off';
    $('caption-title').hidden = off;
    $('captions').hidden = off;
    // Each utterance once it is final: not "live" captions.
    cand.setKey($('caption-title'), app.captionsMode === 'live' ? 'caption_title' : 'caption_title_final');
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
    cand.devices.stopTracks(); // nothing more can be sent: let the camera go
    cand.setState('error');
    cand.showBanner(key, params);
  }

  function onStart() {
    cand.devices.ensureAudioContext();
    var p = $('preview').play();
    if (p && p.catch) p.catch(function () {});
    if (!cand.devices.tracksLive()) return;
    app.attempt = 0;
    publish();
  }

  cand.live = {
    clearTimers: clearTimers,
    dropPeer: dropPeer,
    publish: publish,
    retryNowIfWaiting: retryNowIfWaiting,
    onStart: onStart
  };
})(window.Candor);
