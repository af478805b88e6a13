/* Candor HR, the structured interview in the live view (Candor.hr.interview):
 * the progress panel (the question that is on, its countdown on the media
 * clock, every question's state), the transcript grouped by question (each
 * utterance under the answer window it overlaps most) and the AI score cards
 * (a provisional score replaced by the final one).
 * Classic script, plain ES2017; loads after hr.js. Candor.hr.live hands it
 * the question.*, answer.*, interview.ended and score.* events.
 */
(function (Candor) {
  'use strict';

  var hr = Candor.hr;
  var ui = hr.ui;
  var t = hr.t;
  var locText = hr.locText;
  var fmtShare = hr.fmtShare;
  var fmt = Candor.fmt;
  var finiteOrNull = Candor.num.finiteOrNull;
  var nowMs = Candor.time.nowMs;
  var $ = Candor.dom.$;
  var el = Candor.dom.el;
  var clear = Candor.dom.clear;

  var MEDIA_AHEAD_MAX_S = 10; // how far the live clock runs on past the newest event

  // Media time now, from the newest event (the server's clock runs on the
  // candidate's audio: it stands still while nobody is connected).
  function noteMediaTime(event) {
    var mt = finiteOrNull(event.media_time);
    if (mt === null) return;
    if (mt >= ui.clock.t) {
      ui.clock.t = mt;
      ui.clock.at = nowMs();
    }
  }
  function mediaNow() {
    var c = ui.clock;
    if (!c.running) return c.t;
    return c.t + Math.min(MEDIA_AHEAD_MAX_S, Math.max(0, (nowMs() - c.at) / 1000));
  }

  function questionFor(id, index) {
    var key = String(id);
    var q = ui.questions[key];
    if (!q) {
      q = {
        id: key, index: null, total: null, number: null, scoredTotal: null, practice: false, text: null,
        prepS: null, answerS: null, phase: 'waiting', deadline: null, paused: false, pausedLeft: null,
        qStart: null, qEnd: null, aStart: null, aEnd: null, reason: null, score: null,
        section: null, head: null, rows: null, scoreBox: null
      };
      ui.questions[key] = q;
      ui.qList.push(q);
    }
    if (index !== null && index !== undefined) q.index = index;
    ui.qList.sort(function (a, b) { return (a.index === null ? 1e9 : a.index) - (b.index === null ? 1e9 : b.index); });
    return q;
  }

  function qNumber(q) {
    if (q.number !== null && q.number > 0) return q.number;
    var n = 0;
    for (var i = 0; i < ui.qList.length; i++) {
      if (!ui.qList[i].practice) n++;
      if (ui.qList[i] === q) return n;
    }
    return q.index !== null ? q.index + 1 : n;
  }
  function qScoredTotal() {
    if (ui.scoredTotal !== null) return ui.scoredTotal;
    if (ui.total !== null) {
      var practice = ui.qList.filter(function (q) { return q.practice; }).length;
      return ui.total - practice;
    }
    return null;
  }
  function qLabel(q, long) {
    if (q.practice) return t(long ? 'p_practice' : 'p_practice_short');
    var m = qScoredTotal();
    return long && m ? t('p_number', { n: qNumber(q), m: m }) : t('p_number_short', { n: qNumber(q) });
  }
  function reasonText(reason) {
    if (!reason) return '';
    return hr.labelOf('reason_', reason);
  }
  function qLeft(q) {
    if (q.paused) return q.pausedLeft;
    if (q.deadline === null) return null;
    return Math.max(0, q.deadline - mediaNow());
  }

  function onQuestionStarted(event, p) {
    if (p.question_id === undefined || p.question_id === null) return hr.live.logUnknown(event, p);
    var q = questionFor(p.question_id, finiteOrNull(p.index));
    if (finiteOrNull(p.total) !== null) ui.total = p.total;
    if (finiteOrNull(p.scored_total) !== null) ui.scoredTotal = p.scored_total;
    if (finiteOrNull(p.number) !== null) q.number = p.number;
    q.practice = p.practice === true || p.kind === 'practice';
    if (p.text) q.text = p.text;
    if (finiteOrNull(p.prep_s) !== null) q.prepS = p.prep_s;
    if (finiteOrNull(p.answer_s) !== null) q.answerS = p.answer_s;
    if (q.qStart === null) q.qStart = finiteOrNull(event.media_time);
    q.phase = p.phase === 'answer' ? 'answer' : 'prep';
    q.deadline = finiteOrNull(p.deadline);
    q.paused = false;
    q.pausedLeft = null;
    q.qEnd = null;
    ui.current = q.id;
    ui.interviewEnded = false;
    ensureSection(q);
    afterFlowChange();
    hr.live.logLine(event, t(p.resumed ? 'ev_question_resumed' : 'ev_question_started',
      { label: qLabel(q), text: locText(q.text) }), '');
  }

  function onAnswerStarted(event, p) {
    if (p.question_id === undefined || p.question_id === null) return hr.live.logUnknown(event, p);
    var q = questionFor(p.question_id, finiteOrNull(p.index));
    q.phase = 'answer';
    if (q.aStart === null) q.aStart = finiteOrNull(event.media_time);
    if (finiteOrNull(p.answer_ends_at) !== null) q.deadline = p.answer_ends_at;
    q.paused = false;
    q.pausedLeft = null;
    ui.current = q.id;
    ensureSection(q);
    afterFlowChange();
    hr.live.logLine(event, t(p.resumed ? 'ev_answer_resumed' : 'ev_answer_started', { label: qLabel(q) }), '');
  }

  function onAnswerEnded(event, p) {
    if (p.question_id === undefined || p.question_id === null) return hr.live.logUnknown(event, p);
    var q = questionFor(p.question_id, finiteOrNull(p.index));
    q.phase = 'ended';
    q.paused = false;
    q.reason = p.reason || null;
    if (finiteOrNull(p.start) !== null) q.aStart = p.start;
    else if (q.aStart === null) q.aStart = finiteOrNull(event.media_time);
    q.aEnd = finiteOrNull(p.end) !== null ? p.end : finiteOrNull(event.media_time);
    ensureSection(q);
    afterFlowChange();
    hr.live.logLine(event, t('ev_answer_ended', { label: qLabel(q), reason: reasonText(q.reason) || '—' }),
      q.reason === 'no_answer' || q.reason === 'long_silence' ? 'warn' : '');
  }

  function onQuestionEnded(event, p) {
    if (p.question_id === undefined || p.question_id === null) return hr.live.logUnknown(event, p);
    var q = questionFor(p.question_id, finiteOrNull(p.index));
    q.phase = 'ended';
    q.paused = false;
    q.qEnd = finiteOrNull(event.media_time);
    if (p.practice === true) q.practice = true;
    if (ui.current === q.id) ui.current = null;
    ensureSection(q);
    afterFlowChange();
    hr.live.logLine(event, t('ev_question_ended', { label: qLabel(q) }), '');
  }

  function onInterviewEnded(event) {
    ui.interviewEnded = true;
    ui.current = null;
    ui.qList.forEach(function (q) {
      if (q.phase === 'prep' || q.phase === 'answer') q.phase = 'ended';
    });
    afterFlowChange();
    hr.live.logLine(event, t('ev_interview_ended'), '');
  }

  // The candidate dropped: the server freezes the question until they are back.
  function pauseCurrent() {
    var q = ui.current ? ui.questions[ui.current] : null;
    if (!q || q.paused || (q.phase !== 'prep' && q.phase !== 'answer')) return;
    q.pausedLeft = qLeft(q);
    q.paused = true;
    renderProgress();
    renderSection(q);
  }

  function afterFlowChange() {
    $('progress').hidden = false;
    regroup();
    renderProgress();
    renderSections();
    if (!ui.progressTimer) ui.progressTimer = setInterval(renderCurrent, 250);
  }

  function renderProgress() {
    if ($('progress').hidden) return;
    var state = $('p-state');
    state.textContent = t(ui.interviewEnded ? 'p_state_ended' : 'p_state_running');
    state.className = 'pill' + (ui.interviewEnded ? ' pill-finished' : ' pill-live');
    renderCurrent();
    renderList();
  }

  function renderCurrent() {
    if ($('progress').hidden) return;
    var q = ui.current ? ui.questions[ui.current] : null;
    var label = $('p-label');
    var phase = $('p-phase');
    var text = $('p-text');
    var clock = $('p-clock');
    var clockLabel = $('p-clock-label');
    var fill = $('p-bar-fill');
    var box = $('p-current');
    if (!q) {
      label.textContent = t(ui.interviewEnded ? 'p_state_ended' : 'p_between');
      label.className = 'q-label muted';
      phase.hidden = true;
      text.textContent = '';
      text.hidden = true;
      clock.textContent = '';
      clockLabel.textContent = '';
      fill.parentNode.hidden = true;
      box.className = 'p-current idle';
      return;
    }
    label.textContent = qLabel(q, true);
    label.className = 'q-label' + (q.practice ? ' practice' : '');
    var ph = q.paused ? 'paused' : q.phase;
    phase.textContent = t('p_phase_' + ph);
    phase.className = 'pill q-phase-' + ph;
    phase.hidden = false;
    text.textContent = locText(q.text);
    text.hidden = false;
    var left = q.phase === 'ended' ? 0 : qLeft(q);
    var total = q.phase === 'answer' ? q.answerS : q.prepS;
    clockLabel.textContent = q.phase === 'ended' ? '' : t(q.phase === 'answer' ? 'p_clock_answer' : 'p_clock_prep');
    clock.textContent = fmt.countdown(left);
    var frac = left !== null && total ? Math.max(0, Math.min(1, left / total)) : 0;
    fill.style.width = (frac * 100).toFixed(1) + '%';
    fill.parentNode.hidden = q.phase === 'ended';
    box.className = 'p-current q-timer-' + (q.phase === 'answer' ? 'answer' : 'prep') +
      (left !== null && left <= 10 && !q.paused && q.phase !== 'ended' ? ' urgent' : '') + (q.paused ? ' paused' : '');
  }

  function statusText(q) {
    if (q.phase === 'ended') return t('p_phase_ended') + (q.reason ? ' · ' + reasonText(q.reason) : '');
    if (q.paused) return t('p_phase_paused');
    return t('p_phase_' + q.phase);
  }

  function renderList() {
    var list = $('p-list');
    clear(list);
    var byIndex = {};
    ui.qList.forEach(function (q) { if (q.index !== null) byIndex[q.index] = q; });
    var count = Math.max(ui.total || 0, ui.qList.length);
    var practiceCount = ui.qList.filter(function (x) { return x.practice; }).length;
    var seen = {};
    for (var i = 0; i < count; i++) {
      var q = byIndex[i];
      var li = el('li', 'p-item');
      if (!q) {
        li.className += ' not-asked';
        var n = i - practiceCount + 1; // practice questions come first
        li.appendChild(el('span', 'p-num', n >= 1 ? t('p_number_short', { n: n }) : '#' + (i + 1)));
        li.appendChild(el('span', 'p-qtext muted', t('p_not_asked')));
        list.appendChild(li);
        continue;
      }
      seen[q.id] = true;
      list.appendChild(listItem(q));
    }
    ui.qList.forEach(function (q) { if (!seen[q.id] && q.index === null) list.appendChild(listItem(q)); });
  }

  function listItem(q) {
    var ph = q.paused ? 'paused' : q.phase;
    var li = el('li', 'p-item state-' + ph + (q.id === ui.current ? ' current' : ''));
    li.setAttribute('data-question-id', q.id);
    li.appendChild(el('span', 'p-num' + (q.practice ? ' practice' : ''), qLabel(q)));
    var txt = el('span', 'p-qtext', locText(q.text) || '—');
    txt.title = locText(q.text);
    li.appendChild(txt);
    li.appendChild(el('span', 'p-status', statusText(q)));
    if (q.score) {
      var sc = scoreScale(q.score.data);
      var chip = el('span', 'p-score' + (q.score.provisional ? ' provisional' : ''),
        fmtScore(q.score.data.overall, sc));
      chip.title = t(q.score.provisional ? 'score_provisional' : 'score_final');
      li.appendChild(chip);
    }
    li.addEventListener('click', function () {
      if (q.section) q.section.scrollIntoView({ block: 'start', behavior: 'smooth' });
    });
    return li;
  }

  // ---- transcript sections, one per question ----
  function preSection() {
    if (ui.preSection) return ui.preSection;
    var sec = el('section', 'q-group pre');
    var head = el('div', 'q-group-head');
    head.hidden = true;
    head.appendChild(el('span', 'q-group-label', t('p_pre')));
    var rows = el('div', 'q-group-rows');
    sec.appendChild(head);
    sec.appendChild(rows);
    var box = $('transcript');
    var empty = $('transcript-empty');
    box.insertBefore(sec, empty.nextSibling);
    ui.preSection = { section: sec, head: head, rows: rows };
    return ui.preSection;
  }

  function ensureSection(q) {
    if (q.section) return;
    var sec = el('section', 'q-group');
    sec.setAttribute('data-question-id', q.id);
    var head = el('div', 'q-group-head');
    var rows = el('div', 'q-group-rows');
    var score = el('div', 'score-box');
    sec.appendChild(head);
    sec.appendChild(rows);
    sec.appendChild(score);
    q.section = sec;
    q.head = head;
    q.rows = rows;
    q.scoreBox = score;
    preSection(); // keeps "before the questions" first
    var box = $('transcript');
    var after = null;
    var sections = box.querySelectorAll('section.q-group[data-question-id]');
    for (var i = 0; i < sections.length; i++) {
      var other = ui.questions[sections[i].getAttribute('data-question-id')];
      if (other && other.index !== null && q.index !== null && other.index > q.index) { after = sections[i]; break; }
    }
    box.insertBefore(sec, after);
    renderSection(q);
    if (q.score) renderScoreCard(q);
  }

  function renderSections() {
    ui.qList.forEach(function (q) { if (q.section) renderSection(q); });
    if (ui.preSection) {
      ui.preSection.head.hidden = !ui.qList.length || !ui.preSection.rows.children.length;
      ui.preSection.head.firstChild.textContent = t('p_pre');
    }
  }

  function renderSection(q) {
    var head = q.head;
    clear(head);
    head.appendChild(el('span', 'q-group-label' + (q.practice ? ' practice' : ''), qLabel(q)));
    head.appendChild(el('span', 'q-group-text', locText(q.text)));
    var meta = [];
    if (q.aStart !== null) {
      meta.push(t('p_answer_range', { start: fmt.mediaTime(q.aStart), end: q.aEnd !== null ? fmt.mediaTime(q.aEnd) : '…' }));
    }
    meta.push(statusText(q));
    head.appendChild(el('span', 'q-group-meta', meta.join(' · ')));
    q.section.className = 'q-group' + (q.id === ui.current ? ' current' : '');
  }

  // Which question an utterance belongs to: the answer window it overlaps
  // most; else the question whose time (preparation included) it falls in.
  function groupFor(start, end) {
    if (start === null) return null;
    var e = end !== null && end > start ? end : start;
    var best = null;
    var bestOverlap = 0;
    var i, q;
    for (i = 0; i < ui.qList.length; i++) {
      q = ui.qList[i];
      if (q.aStart === null) continue;
      var aEnd = q.aEnd !== null ? q.aEnd : Infinity;
      var overlap = Math.min(e, aEnd) - Math.max(start, q.aStart);
      if (e === start) overlap = start >= q.aStart - 0.3 && start <= aEnd ? 1e-6 : -1;
      if (overlap > bestOverlap) { best = q; bestOverlap = overlap; }
    }
    if (best) return { q: best, outside: false };
    for (i = 0; i < ui.qList.length; i++) {
      q = ui.qList[i];
      if (q.qStart === null) continue;
      var qEnd = q.qEnd !== null ? q.qEnd : Infinity;
      if (start >= q.qStart && start < qEnd) return { q: q, outside: true };
    }
    return null;
  }

  function placeRow(row) {
    var start = row.hasAttribute('data-start') ? Number(row.getAttribute('data-start')) : null;
    var end = row.hasAttribute('data-end') ? Number(row.getAttribute('data-end')) : null;
    if (start !== null && !isFinite(start)) start = null;
    if (end !== null && !isFinite(end)) end = null;
    var g = ui.qList.length ? groupFor(start, end) : null;
    var rows = g ? g.q.rows : preSection().rows;
    if (g && !rows) { ensureSection(g.q); rows = g.q.rows; }
    var outside = !!(g && g.outside);
    if (outside !== row.classList.contains('outside')) {
      row.classList.toggle('outside', outside);
      row.title = outside ? t('p_outside') : '';
    }
    if (row.parentNode === rows) return;
    var before = null;
    if (start !== null) {
      for (var i = 0; i < rows.children.length; i++) {
        var s = Number(rows.children[i].getAttribute('data-start'));
        if (isFinite(s) && s > start) { before = rows.children[i]; break; }
      }
    }
    rows.insertBefore(row, before);
  }

  function regroup() {
    for (var key in ui.utterances) {
      if (Object.prototype.hasOwnProperty.call(ui.utterances, key)) placeRow(ui.utterances[key]);
    }
    if (ui.preSection) ui.preSection.head.hidden = !ui.qList.length || !ui.preSection.rows.children.length;
  }

  // ---- scores (provisional ones replaced by the final one) ----
  function scoreScale(p) {
    var max = finiteOrNull(p.max) || finiteOrNull(p.scale) || null;
    if (max) return { max: max };
    var values = [finiteOrNull(p.overall), finiteOrNull(p.content)];
    if (p.delivery && typeof p.delivery === 'object') values.push(finiteOrNull(p.delivery.score));
    if (p.engagement && typeof p.engagement === 'object') values.push(finiteOrNull(p.engagement.score));
    (Array.isArray(p.competencies) ? p.competencies : []).forEach(function (c) { if (c) values.push(finiteOrNull(c.score)); });
    values = values.filter(function (v) { return v !== null; });
    var top = values.length ? Math.max.apply(null, values) : 100;
    if (top <= 1) return { max: 1, percent: true };
    if (top <= 5) return { max: 5 };
    if (top <= 10) return { max: 10 };
    return { max: 100 };
  }
  function fmtScore(v, scale) {
    v = finiteOrNull(v);
    if (v === null) return '—';
    if (scale.percent) return String(Math.round(v * 100));
    if (scale.max <= 10) return (Math.round(v * 10) / 10).toFixed(1) + '/' + scale.max;
    return String(Math.round(v));
  }
  function scoreFrac(v, scale) {
    v = finiteOrNull(v);
    return v === null ? 0 : Math.max(0, Math.min(1, v / scale.max));
  }

  function onScore(event, p, provisional) {
    if (p.question_id === undefined || p.question_id === null) return hr.live.logUnknown(event, p);
    var q = questionFor(p.question_id, finiteOrNull(p.index));
    if (provisional && q.score && !q.score.provisional) return; // the final one stays
    q.score = { provisional: provisional, data: p };
    $('progress').hidden = false;
    ensureSection(q);
    renderScoreCard(q);
    renderList();
    hr.live.logLine(event, t(provisional ? 'ev_score_provisional' : 'ev_score',
      { label: qLabel(q), overall: fmtScore(p.overall, scoreScale(p)) }), '');
  }

  function renderScoreCard(q) {
    var box = q.scoreBox;
    if (!box) return;
    clear(box);
    if (!q.score) return;
    var p = q.score.data || {};
    var scale = scoreScale(p);
    var card = el('div', 'score-card' + (q.score.provisional ? ' provisional' : ' final'));
    card.setAttribute('data-question-id', q.id);
    var head = el('div', 'score-head');
    head.appendChild(el('span', 'score-title', t('score_title')));
    head.appendChild(el('span', 'pill ' + (q.score.provisional ? 'pill-connecting' : 'pill-live'),
      t(q.score.provisional ? 'score_provisional' : 'score_final')));
    head.appendChild(el('span', 'spacer'));
    head.appendChild(el('span', 'score-overall-label muted small', t('score_overall')));
    head.appendChild(el('span', 'score-overall', fmtScore(p.overall, scale)));
    card.appendChild(head);
    if (hr.recordings) hr.recordings.attachPlayer(card, q); // the answer's recording, where one was kept
    var expl = locText(p.explanation);
    if (expl) card.appendChild(el('p', 'score-expl', expl));
    var subs = [];
    if (finiteOrNull(p.content) !== null) subs.push(t('score_content') + ' ' + fmtScore(p.content, scale));
    if (p.delivery && finiteOrNull(p.delivery.score) !== null) subs.push(t('score_delivery') + ' ' + fmtScore(p.delivery.score, scale));
    if (p.engagement && finiteOrNull(p.engagement.score) !== null) subs.push(t('score_engagement') + ' ' + fmtScore(p.engagement.score, scale));
    if (subs.length) card.appendChild(el('p', 'score-subs muted small', subs.join(' · ')));
    affectLines(p.affect, scale).forEach(function (line) { card.appendChild(line); });
    (Array.isArray(p.competencies) ? p.competencies : []).forEach(function (c) {
      if (!c || typeof c !== 'object') return;
      var comp = el('div', 'comp');
      var row = el('div', 'comp-row');
      row.appendChild(el('span', 'comp-name', locText(c.name) || String(c.id || '—')));
      var bar = el('span', 'comp-bar');
      var fill = el('span', 'comp-fill');
      fill.style.width = (scoreFrac(c.score, scale) * 100).toFixed(1) + '%';
      bar.appendChild(fill);
      row.appendChild(bar);
      row.appendChild(el('span', 'comp-val', fmtScore(c.score, scale)));
      comp.appendChild(row);
      var quotes = [];
      var seenQuote = {};
      (Array.isArray(c.points) ? c.points : []).forEach(function (pt) {
        if (!pt || !Array.isArray(pt.evidence)) return;
        pt.evidence.forEach(function (ev) {
          if (!ev || typeof ev.text !== 'string' || !ev.text.trim()) return;
          var k = ev.text + '@' + ev.start;
          if (seenQuote[k]) return;
          seenQuote[k] = true;
          quotes.push(ev);
        });
      });
      if (quotes.length) {
        var ul = el('ul', 'evidence');
        quotes.slice(0, 4).forEach(function (ev) {
          var li = el('li');
          li.appendChild(el('span', 'ev-quote', '“' + ev.text.trim() + '”'));
          var range = fmt.mediaTime(finiteOrNull(ev.start));
          if (range && finiteOrNull(ev.end) !== null) range += '–' + fmt.mediaTime(ev.end);
          if (range) {
            var time = el('button', 'ev-time link-button', range);
            time.type = 'button';
            time.addEventListener('click', function () { showRowAt(finiteOrNull(ev.start)); });
            li.appendChild(time);
          }
          if (hr.recordings) hr.recordings.quoteButton(li, q, ev); // ▶ plays the answer from the quote
          ul.appendChild(li);
        });
        comp.appendChild(ul);
      }
      card.appendChild(comp);
    });
    card.appendChild(el('p', 'score-note muted small', t('score_note')));
    box.appendChild(card);
  }

  // Emotion context of an answer: one short line each, said whether it counts.
  function affectLines(a, scale) {
    if (!a || typeof a !== 'object') return [];
    var lines = [];
    var note = a.counted === true
      ? t('affect_counted', { score: finiteOrNull(a.score) !== null ? fmtScore(a.score, scale) : '—' })
      : t('affect_context');
    function line(text, kind) {
      var row = el('p', 'score-affect muted small');
      row.setAttribute('data-affect', kind);
      row.appendChild(el('span', 'affect-text', text));
      row.appendChild(document.createTextNode(' · '));
      row.appendChild(el('span', 'affect-note', note));
      lines.push(row);
    }
    var ex = a.expression && typeof a.expression === 'object' ? a.expression : null;
    if (ex && typeof ex.dominant === 'string') {
      var shares = ex.shares && typeof ex.shares === 'object' ? ex.shares : {};
      line(t('affect_expression', {
        label: hr.live.expressionLabel(ex.dominant), share: finiteOrNull(shares[ex.dominant]) !== null ? fmtShare(shares[ex.dominant]) : ''
      }).trim(), 'expression');
    }
    var voice = a.voice && typeof a.voice === 'object' ? a.voice : null;
    if (voice && finiteOrNull(voice.arousal_mean) !== null) {
      line(t('affect_voice', { arousal: voice.arousal_mean.toFixed(2), n: finiteOrNull(voice.utterances) !== null ? voice.utterances : '—' }), 'voice');
    }
    return lines;
  }

  function showRowAt(t0) {
    if (t0 === null) return;
    for (var key in ui.utterances) {
      if (!Object.prototype.hasOwnProperty.call(ui.utterances, key)) continue;
      var row = ui.utterances[key];
      var s = Number(row.getAttribute('data-start'));
      var e = Number(row.getAttribute('data-end'));
      if (isFinite(s) && t0 >= s - 0.3 && t0 <= (isFinite(e) ? e : s) + 0.3) {
        row.scrollIntoView({ block: 'center', behavior: 'smooth' });
        row.classList.remove('flash');
        void row.offsetWidth;
        row.classList.add('flash');
        return;
      }
    }
  }

  function renderInterview() {
    if (hr.recommend) hr.recommend.render(); // the reviewers' recommendations card (hr/recommend.js)
    if (!ui.qList.length) return;
    renderProgress();
    renderSections();
    ui.qList.forEach(function (q) { if (q.score) renderScoreCard(q); });
    regroup();
  }

  hr.interview = {
    noteMediaTime: noteMediaTime,
    pauseCurrent: pauseCurrent,
    placeRow: placeRow,
    onQuestionStarted: onQuestionStarted,
    onAnswerStarted: onAnswerStarted,
    onAnswerEnded: onAnswerEnded,
    onQuestionEnded: onQuestionEnded,
    onInterviewEnded: onInterviewEnded,
    onScore: onScore,
    render: renderInterview,
    // pure: what a score's numbers are out of, and how they show
    scoreScale: scoreScale,
    fmtScore: fmtScore,
    scoreFrac: scoreFrac
  };
})(window.Candor);
