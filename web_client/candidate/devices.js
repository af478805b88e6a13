/* Candor candidate page, the device check: camera preview (none
 * without face consent: audio only), the microphone level meter, permission
 * and device errors, and getting a track back when one ends.
 * Classic script, plain ES2017; loads after candidate.js (Candor.candidate.devices).
 */
(function (Candor) {
  'use strict';

  var cand = Candor.candidate;
  var app = cand.app;
  var t = cand.t;
  var $ = Candor.dom.$;

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
    cand.setState('checking');
    $('start').disabled = true;
    $('retry-devices').hidden = true;
    cand.setMessage(app.video ? 'requesting' : 'requesting_audio');
    var stream;
    try {
      stream = await getMedia();
    } catch (err) {
      cand.setState('idle');
      cand.setMessage(deviceErrorKey(err), { name: (err && (err.name || err.message)) || '?' }, true);
      $('retry-devices').hidden = false;
      return false;
    }
    if (!stream.getAudioTracks().length || (app.video && !stream.getVideoTracks().length)) {
      stream.getTracks().forEach(function (tr) { tr.stop(); });
      cand.setState('idle');
      cand.setMessage(app.video ? 'err_notfound' : 'err_notfound_audio', null, true);
      $('retry-devices').hidden = false;
      return false;
    }
    useStream(stream);
    cand.setState('ready');
    cand.setMessage(app.video ? 'devices_ok' : 'devices_ok_audio');
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
    cand.setKey($('preview-placeholder'), app.video ? 'camera_off' : 'camera_off_audio');
    cand.setKey($('check-hint'), app.video ? 'check_hint' : 'check_hint_audio');
    cand.interview.renderStageMode();
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
    cand.setMessage('err_track_ended', null, true);
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
      cand.setMessage(null);
    } catch (err) {
      cand.setMessage(deviceErrorKey(err), { name: (err && err.name) || '?' }, true);
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

  cand.devices = {
    deviceErrorKey: deviceErrorKey,
    ensureAudioContext: ensureAudioContext,
    getMedia: getMedia,
    openDevices: openDevices,
    useStream: useStream,
    renderPreviewMode: renderPreviewMode,
    stopTracks: stopTracks,
    renderMicState: renderMicState,
    tracksLive: tracksLive
  };
})(window.Candor);
