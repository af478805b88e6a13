/* Candor.whip: WHIP (RFC 9725) publishing for the candidate page. The offer
 * with every ICE candidate in it (no trickle), its POST, the answer and the
 * session URL, hang-up, the link state of the peer connection, and which
 * refusals are final. The page (candidate.js) owns the peer connection, the
 * tracks and the reconnect policy.
 *
 * Classic script, plain ES2017; load after common.js.
 */
(function (window) {
  'use strict';

  var Candor = window.Candor;
  var http = Candor.http;

  // Resolves once ICE gathering is complete, or after timeoutMs with what was
  // gathered by then (an unreachable STUN/TURN server must not block the call).
  function waitIceGathering(pc, timeoutMs) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise(function (resolve) {
      var done = false;
      function finish() {
        if (done) return;
        done = true;
        pc.removeEventListener('icegatheringstatechange', onChange);
        pc.removeEventListener('icecandidate', onCandidate);
        clearTimeout(timer);
        resolve();
      }
      function onChange() { if (pc.iceGatheringState === 'complete') finish(); }
      function onCandidate(ev) { if (!ev.candidate) finish(); }
      var timer = setTimeout(finish, timeoutMs);
      pc.addEventListener('icegatheringstatechange', onChange);
      pc.addEventListener('icecandidate', onCandidate);
    });
  }

  // The local offer's SDP, with the candidates gathered within iceTimeoutMs.
  async function createOffer(pc, iceTimeoutMs) {
    var offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    await waitIceGathering(pc, iceTimeoutMs);
    return pc.localDescription.sdp;
  }

  // POST the offer to the WHIP endpoint; the Response (see accepted, refusal).
  function postOffer(whipUrl, token, sdp, timeoutMs) {
    return http.fetchWithTimeout(whipUrl, {
      method: 'POST',
      headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/sdp' },
      body: sdp,
      credentials: 'omit',
      cache: 'no-store'
    }, timeoutMs);
  }

  function accepted(res) {
    return res.status === 201 || res.status === 200;
  }

  // The HttpError for a refused offer: the problem's detail and type, and
  // retryAfter (seconds; NaN without a readable Retry-After).
  async function refusal(res) {
    var body = await http.readProblem(res);
    var err = new http.HttpError(res.status, http.problemDetail(body, res), body && body.type);
    err.retryAfter = http.parseRetryAfter(res.headers.get('Retry-After'));
    return err;
  }

  // The WHIP session's URL (Location, resolved against the URL that answered: with several nodes
  // the offer may have followed a 307 to another node), or null.
  function resourceUrl(res, whipUrl) {
    var loc = res.headers.get('Location');
    return loc ? new URL(loc, res.url || whipUrl).href : null;
  }

  // DELETE the WHIP session (rejects on a network error or after timeoutMs).
  function hangUp(url, token, timeoutMs) {
    return http.fetchWithTimeout(url, {
      method: 'DELETE',
      headers: { Authorization: 'Bearer ' + token },
      credentials: 'omit'
    }, timeoutMs);
  }

  // DELETE the WHIP session from a page that is going away (pagehide): a
  // keepalive request, best effort, never throws.
  function hangUpOnExit(url, token) {
    try {
      window.fetch(url, {
        method: 'DELETE',
        headers: { Authorization: 'Bearer ' + token },
        credentials: 'omit',
        keepalive: true
      }).catch(function () {});
    } catch (e) { /* best effort */ }
  }

  // connectionState, or the ICE state mapped onto it where the browser has none.
  function linkState(pc) {
    var s = pc.connectionState;
    if (s) return s;
    s = pc.iceConnectionState;
    if (s === 'completed') return 'connected';
    if (s === 'checking') return 'connecting';
    return s;
  }

  // The server samples a few frames a second and decodes every frame it is
  // sent: cap the video sender's frame rate and bitrate (where the browser
  // lets us) to what it uses, sparing the candidate's uplink and the server.
  // limits: { maxFramerate, maxBitrate }; a missing or falsy one is left alone.
  function limitVideo(pc, limits) {
    try {
      pc.getSenders().forEach(function (sender) {
        if (!sender.track || sender.track.kind !== 'video' || !sender.getParameters) return;
        var params = sender.getParameters();
        if (!params.encodings || !params.encodings.length) return;
        if (limits.maxBitrate) params.encodings[0].maxBitrate = limits.maxBitrate;
        if (limits.maxFramerate) params.encodings[0].maxFramerate = limits.maxFramerate;
        sender.setParameters(params).catch(function () {});
      });
    } catch (e) { /* not supported here: keep the browser's choice */ }
  }

  // A refusal that trying again will not fix (the session is gone, the token
  // is wrong...); 408, 409, 425 and 429 are worth another try, and 5xx too.
  function isFatalStatus(status) {
    return status >= 400 && status < 500 && status !== 408 && status !== 409 && status !== 425 && status !== 429;
  }

  Candor.whip = {
    waitIceGathering: waitIceGathering,
    createOffer: createOffer,
    postOffer: postOffer,
    accepted: accepted,
    refusal: refusal,
    resourceUrl: resourceUrl,
    hangUp: hangUp,
    hangUpOnExit: hangUpOnExit,
    linkState: linkState,
    limitVideo: limitVideo,
    isFatalStatus: isFatalStatus
  };
})(window);
