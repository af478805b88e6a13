/* Candor candidate page, the notice and consent step: the deployment's policy
 * (pipl: voice and face each on their own; eu: one consent, no emotion
 * inference), the consent the server records before anything is captured,
 * asking again when the server has none, and withdrawing it.
 * Classic script, plain ES2017; loads after candidate.js (Candor.candidate.consent).
 */
(function (Candor) {
  'use strict';

  var cand = Candor.candidate;
  var app = cand.app;
  var http = Candor.http;
  var $ = Candor.dom.$;
  var storeSet = Candor.store.set;
  var storeRemove = Candor.store.remove;

  function policyOf(creds) {
    var p = creds && creds.policy;
    return p && typeof p === 'object' && p.consent && typeof p.consent === 'object' ? p : null;
  }

  function separateConsent() {
    return !!(app.policy && app.policy.consent.separate === true);
  }

  function scopeListed(id) {
    var scopes = app.policy && Array.isArray(app.policy.consent.scopes) ? app.policy.consent.scopes : [];
    return scopes.some(function (s) { return s && s.id === id; });
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
    cand.setKey($('consent-text'), separate ? 'consent_label' : 'consent_label_all');
    var emotion = !!(app.policy && app.policy.emotion === true);
    var note = $('notice-emotion');
    if (app.policy) cand.setKey(note, emotion ? 'notice_emotion_on' : 'notice_emotion_off');
    note.hidden = !app.policy;
    cand.setKey($('consent-voice-notice'), 'consent_voice_notice');
    cand.setKey($('consent-face-notice'), emotion ? 'consent_face_notice_emotion' : 'consent_face_notice');
    ['voice', 'face'].forEach(function (id) {
      var tag = box.querySelector('label[for="consent-' + id + '"] .scope-tag');
      var required = scopeRequired(id);
      if (tag) {
        cand.setKey(tag, required ? 'scope_required' : 'scope_optional');
        tag.className = 'scope-tag' + (required ? ' required' : '');
      }
    });
    // Recording answers for human review: its own line, always optional, off unless ticked.
    $('consent-recording-line').hidden = !scopeListed('recording');
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
    var granted = separateConsent()
      ? { voice: $('consent-voice').checked, face: $('consent-face').checked }
      : { voice: true, face: true }; // one consent covers the camera and the microphone
    if (scopeListed('recording')) granted.recording = $('consent-recording').checked;
    return granted;
  }

  function lockConsent() {
    ['consent', 'consent-voice', 'consent-face', 'consent-recording'].forEach(function (id) { $(id).disabled = true; });
    $('consent-next').disabled = true;
  }

  // The consent the server has (or, without a policy, the page's own note).
  function useConsent(consent) {
    app.consent = consent || null;
    app.video = !(consent && consent.face === false);
    if (app.creds && app.policy) {
      app.creds.consent = app.consent;
      storeSet('sessionStorage', cand.KEYS.creds, JSON.stringify(app.creds));
    }
    if (consent) storeSet('sessionStorage', cand.KEYS.consent, '1');
    else storeRemove('sessionStorage', cand.KEYS.consent);
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
    }, cand.WHIP_TIMEOUT_MS);
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
    cand.live.clearTimers();
    cand.live.dropPeer();
    cand.devices.stopTracks();
    useConsent(null);
    $('consent').checked = false;
    $('consent-voice').checked = false;
    $('consent-face').checked = false;
    $('consent-recording').checked = false;
    cand.setMessage(null);
    cand.setState('idle');
    cand.showStep('notice');
    cand.showBanner('err_consent_required');
    onConsentChange();
  }

  // ---- withdrawing consent: stop sending at once, tell the server, end ----
  async function withdrawConsent() {
    if (app.withdrawing || !app.creds) return false;
    app.withdrawing = true;
    app.finishing = true; // no reconnect from here on
    app.gen++;
    cand.live.clearTimers();
    cand.live.dropPeer();
    cand.devices.stopTracks();
    $('withdraw-yes').disabled = true;
    var ok = false;
    var detail = '';
    try {
      var res = await http.fetchWithTimeout(consentUrl(), {
        method: 'DELETE',
        headers: { Authorization: 'Bearer ' + app.creds.token },
        credentials: 'omit',
        cache: 'no-store'
      }, cand.WHIP_TIMEOUT_MS);
      // 404: nothing left to withdraw (already withdrawn, or the session is gone).
      ok = res.ok || res.status === 404;
      if (!ok) detail = http.problemDetail(await http.readProblem(res), res);
    } catch (e) {
      detail = (e && e.message) || String(e);
    }
    app.withdrawing = false;
    $('withdraw-yes').disabled = false;
    if (!ok) {
      cand.setState('error');
      cand.showBanner('err_withdraw', { detail: detail });
      return false;
    }
    if (app.audioCtx && app.audioCtx.close) app.audioCtx.close().catch(function () {});
    app.audioCtx = null;
    app.location = null;
    app.consent = null;
    storeRemove('sessionStorage', cand.KEYS.creds);
    storeRemove('sessionStorage', cand.KEYS.consent);
    app.doneKind = 'withdrawn';
    storeSet('sessionStorage', cand.KEYS.finished, 'withdrawn');
    cand.interview.stopQuestionClock();
    clearTimeout(app.betweenTimer);
    app.betweenTimer = null;
    cand.clearBanner();
    cand.setMessage(null);
    cand.setState('finished');
    cand.renderDone();
    cand.showStep('done');
    return true;
  }

  // ---- user actions ----
  function onConsentChange() {
    $('consent-next').disabled = !consentReady();
  }

  async function onConsentNext() {
    if (!consentReady()) return false;
    cand.devices.ensureAudioContext(); // inside the click: iOS lets audio run after a gesture
    var granted = grantedScopes();
    if (app.policy) {
      // The server records the consent before anything is captured.
      app.consentBusy = true;
      onConsentChange();
      var btn = $('consent-next');
      cand.setKey(btn, 'consent_saving');
      var given;
      try {
        given = await postConsent(granted);
      } catch (err) {
        if (err && err.name === 'HttpError') {
          if (err.status === 401 || err.status === 410) cand.showBanner('err_session_gone', { status: err.status + (err.detail ? ': ' + err.detail : '') });
          else cand.showBanner('err_consent', { detail: err.detail });
        } else {
          cand.showBanner('err_network');
        }
        return false;
      } finally {
        app.consentBusy = false;
        cand.setKey(btn, 'consent_next');
        onConsentChange();
      }
      useConsent(given && typeof given === 'object' ? given : { voice: granted.voice, face: granted.face });
    } else {
      useConsent({ voice: true, face: true }); // a server without policies: as before
    }
    cand.clearBanner();
    cand.showStep('check');
    return cand.devices.openDevices();
  }

  // Tests and support: consent to everything, or {face: false} for audio only; {recording: true} keeps recordings.
  async function consentAndStart(opts) {
    $('consent').checked = true;
    $('consent-voice').checked = true;
    $('consent-face').checked = !(opts && opts.face === false);
    $('consent-recording').checked = !!(opts && opts.recording === true);
    onConsentChange();
    var ok = await onConsentNext();
    if (ok) cand.live.onStart();
    return ok;
  }

  cand.consent = {
    policyOf: policyOf,
    renderPolicy: renderPolicy,
    lockConsent: lockConsent,
    useConsent: useConsent,
    isConsentRequired: isConsentRequired,
    askConsentAgain: askConsentAgain,
    withdrawConsent: withdrawConsent,
    onConsentChange: onConsentChange,
    onConsentNext: onConsentNext,
    consentAndStart: consentAndStart
  };
})(window.Candor);
