/* Candor candidate page, the structured interview: the question
 * that is on, its countdowns (paused while the candidate is away), the
 * short pause between questions, and the ready / done buttons.
 * Classic script, plain ES2017; loads after candidate.js (Candor.candidate.interview).
 */
(function (Candor) {
  'use strict';

  var cand = Candor.candidate;
  var app = cand.app;
  var t = cand.t;
  var i18n = Candor.i18n;
  var $ = Candor.dom.$;
  var storeGet = Candor.store.get;
  var storeSet = Candor.store.set;
  var storeRemove = Candor.store.remove;
  var nowMs = Candor.time.nowMs;
  var toNumber = Candor.num.toNumber;

  var BETWEEN_MS = 1800; // the "next question" pause between two questions
  var ACTION_RETRY_MS = 4000; // a ready/done that got no answer can be sent again
  var URGENT_S = 10;
  var FINISH_DELAY_MS = 1500; // after interview_ended, before hanging up

  // ---- structured interview: question, countdowns, ready / done ----
  function onHello(msg) {
    app.serverSessionId = msg.session_id;
    if (msg.interview === true) {
      app.interview = true;
      storeSet('sessionStorage', cand.KEYS.interview, '1');
    } else if (msg.interview === false) {
      app.interview = false;
      storeRemove('sessionStorage', cand.KEYS.interview);
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
      storeSet('sessionStorage', cand.KEYS.interview, '1');
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
      storeSet('sessionStorage', cand.KEYS.practice, String(app.practiceCount));
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
    setTimeout(cand.finish, FINISH_DELAY_MS);
  }

  function showBetween(titleKey, noteKey, sticky) {
    clearTimeout(app.betweenTimer);
    app.between = { title: titleKey, note: noteKey && cand.hasString(noteKey) ? noteKey : null };
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
      var stored = storeGet('sessionStorage', cand.KEYS.practice);
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
      var resume = storeGet('sessionStorage', cand.KEYS.interview) === '1' && !app.everLive;
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

  cand.interview = {
    onHello: onHello,
    onQuestion: onQuestion,
    onAnswerEnded: onAnswerEnded,
    onQuestionEnded: onQuestionEnded,
    onInterviewEnded: onInterviewEnded,
    questionLeft: questionLeft,
    pauseQuestion: pauseQuestion,
    stopQuestionClock: stopQuestionClock,
    renderStageMode: renderStageMode,
    renderQuestion: renderQuestion,
    sendAction: sendAction
  };
})(window.Candor);
