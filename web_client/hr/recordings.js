/* Candor HR, answers' recordings on the session's report (Candor.hr.recordings):
 * a player per answer (GET /v1/sessions/<id>/recordings, then the answer's
 * WebM with Range requests so the player can seek) and a "▶" beside each
 * evidence quote that plays the answer from the quote's media time.
 * Only where the candidate consented to recording (else the list is empty and
 * nothing shows). Classic script, plain ES2017; loads after hr/interview.js,
 * which calls attachPlayer() and quoteButton() while it draws a score card.
 */
(function (Candor) {
  'use strict';

  var hr = Candor.hr;
  var ui = hr.ui;
  var t = hr.t;
  var fmt = Candor.fmt;
  var finiteOrNull = Candor.num.finiteOrNull;
  var el = Candor.dom.el;

  var RELOAD_MS = 5000; // while answers are still ending, look again at most this often

  var state = { sessionId: null, byAnswer: {}, players: {}, loading: null, loadedAt: 0 };

  // Pure: where in the file a media time was recorded. segments: [[media_time, file_time], ...]
  // in order; the last segment that starts at or before t holds it; clamped to the file.
  function fileTimeAt(segments, t0, duration) {
    if (!Array.isArray(segments) || !segments.length || finiteOrNull(t0) === null) return 0;
    var chosen = segments[0];
    for (var i = 0; i < segments.length; i++) {
      if (Number(segments[i][0]) <= t0 + 1e-9) chosen = segments[i];
      else break;
    }
    var at = Math.max(0, Number(chosen[1]) + (t0 - Number(chosen[0])));
    var d = finiteOrNull(duration);
    return d !== null ? Math.min(at, d) : at;
  }

  function reset(id) {
    if (state.sessionId === id) return;
    state = { sessionId: id, byAnswer: {}, players: {}, loading: null, loadedAt: 0 };
  }

  // The session's list; redraws the score cards when it brings something new.
  function load() {
    var id = ui.sessionId;
    if (!id) return null;
    reset(id);
    if (state.loading) return state.loading;
    if (Date.now() - state.loadedAt < RELOAD_MS) return null;
    state.loadedAt = Date.now();
    state.loading = hr.api('GET', '/v1/sessions/' + encodeURIComponent(id) + '/recordings').then(function (data) {
      state.loading = null;
      if (state.sessionId !== id || !data || !Array.isArray(data.recordings)) return;
      var added = false;
      data.recordings.forEach(function (r) {
        if (!r || finiteOrNull(r.answer) === null || typeof r.url !== 'string') return;
        if (!state.byAnswer[r.answer]) added = true;
        state.byAnswer[r.answer] = r;
      });
      if (added && hr.interview) hr.interview.render();
    }, function () { state.loading = null; /* none kept, or no permission: no players */ });
    return state.loading;
  }

  function recordingOf(q) {
    if (!q || q.index === null || q.index === undefined) return null;
    reset(ui.sessionId);
    var r = state.byAnswer[q.index] || null;
    if (!r) load();
    return r;
  }

  // One media element per answer, kept across redraws of the card (moving it does not stop playback).
  function playerOf(r) {
    var p = state.players[r.answer];
    if (p) return p;
    var video = Array.isArray(r.kinds) && r.kinds.indexOf('video') >= 0;
    var media = document.createElement(video ? 'video' : 'audio');
    media.className = 'rec-player';
    media.controls = true;
    media.preload = 'metadata';
    media.src = r.url;
    media.setAttribute('data-answer', String(r.answer));
    p = state.players[r.answer] = media;
    return p;
  }

  function attachPlayer(card, q) {
    var r = recordingOf(q);
    if (!r) return;
    var box = el('div', 'rec');
    var head = el('div', 'rec-head muted small');
    head.appendChild(el('span', 'rec-title', t('rec_title')));
    var d = finiteOrNull(r.duration);
    if (d !== null) head.appendChild(el('span', 'rec-duration', fmt.mediaTime(d)));
    box.appendChild(head);
    box.appendChild(playerOf(r));
    card.appendChild(box);
  }

  // Seek the answer's player to the quote and play it.
  function playAt(q, mediaTime) {
    var r = recordingOf(q);
    if (!r) return false;
    var media = playerOf(r);
    media.currentTime = fileTimeAt(r.segments, mediaTime, r.duration);
    var played = media.play();
    if (played && typeof played.catch === 'function') played.catch(function () { /* the user can press play */ });
    return true;
  }

  function quoteButton(li, q, ev) {
    var start = finiteOrNull(ev && ev.start);
    if (start === null || !recordingOf(q)) return;
    var b = el('button', 'ev-play link-button', '▶');
    b.type = 'button';
    b.title = t('rec_play_quote');
    b.setAttribute('aria-label', t('rec_play_quote'));
    b.setAttribute('data-media-time', String(start));
    b.addEventListener('click', function () { playAt(q, start); });
    li.insertBefore(b, li.firstChild);
  }

  hr.recordings = {
    attachPlayer: attachPlayer,
    quoteButton: quoteButton,
    playAt: playAt,
    load: load,
    // pure
    fileTimeAt: fileTimeAt
  };
})(window.Candor);
