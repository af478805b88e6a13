/* Candor HR, the workspace's pure helpers (Candor.hr.pipeline): the board's
 * columns and which column an application goes in, the counts per column
 * from the server's counts, evidence spans merged for highlighting, a text
 * cut into marked and plain pieces, scores, and the line an upload's answer
 * becomes. No DOM, no fetch: tests/web_client/workspace.test.js tests them
 * under node.
 * Classic script, plain ES2017; loads after hr.js.
 */
(function (Candor) {
  'use strict';

  var hr = Candor.hr = Candor.hr || {};

  // The board's columns, in the pipeline's order: a state, or for screened
  // the screening's outcome (nothing is rejected without a person: the pool
  // waits for HR's confirmation). `optional` columns show only when not empty.
  var COLUMNS = [
    { key: 'applied', label: 'col_applied', optional: true },
    { key: 'screened/advance', label: 'col_advance' },
    { key: 'screened/review', label: 'col_review' },
    { key: 'screened/pool', label: 'col_pool' },
    { key: 'invited', label: 'col_invited' },
    { key: 'interviewing', label: 'col_interviewing' },
    { key: 'interviewed', label: 'col_interviewed' },
    { key: 'decided', label: 'col_decided' },
    { key: 'withdrawn', label: 'col_withdrawn', optional: true }
  ];

  // The column of one application summary ({state, outcome}); null for a
  // state the board does not know.
  function columnOf(app) {
    if (!app || typeof app.state !== 'string') return null;
    if (app.state === 'screened') {
      var o = app.outcome === 'advance' || app.outcome === 'pool' ? app.outcome : 'review';
      return 'screened/' + o;
    }
    for (var i = 0; i < COLUMNS.length; i++) if (COLUMNS[i].key === app.state) return app.state;
    return null;
  }

  // Summaries into {column key: [summary, ...]}, every column present, each
  // keeping the order it was given (the server sorts).
  function groupColumns(apps) {
    var out = {};
    COLUMNS.forEach(function (c) { out[c.key] = []; });
    (apps || []).forEach(function (a) {
      var key = columnOf(a);
      if (key) out[key].push(a);
    });
    return out;
  }

  // The server's counts ({"screened/advance": n, "decided/reject": n, "invited": n})
  // per column: decided's outcomes summed, screened without an outcome as review.
  function columnCounts(counts) {
    var out = {};
    COLUMNS.forEach(function (c) { out[c.key] = 0; });
    Object.keys(counts || {}).forEach(function (k) {
      var n = Number(counts[k]);
      if (!isFinite(n)) return;
      var parts = k.split('/');
      var key = parts[0] === 'screened' ? columnOf({ state: 'screened', outcome: parts[1] }) : parts[0];
      if (Object.prototype.hasOwnProperty.call(out, key)) out[key] += n;
    });
    return out;
  }

  // Evidence spans ([{start, end}]) clamped to [0, length], empty ones
  // dropped, sorted, and overlapping or touching ones merged.
  function mergeSpans(spans, length) {
    var max = typeof length === 'number' && isFinite(length) ? length : Infinity;
    var list = [];
    (spans || []).forEach(function (s) {
      if (!s) return;
      var a = Number(s.start), b = Number(s.end);
      if (!isFinite(a) || !isFinite(b)) return;
      a = Math.max(0, Math.floor(a));
      b = Math.min(max, Math.floor(b));
      if (b > a) list.push({ start: a, end: b });
    });
    list.sort(function (x, y) { return x.start - y.start || x.end - y.end; });
    var out = [];
    list.forEach(function (s) {
      var last = out[out.length - 1];
      if (last && s.start <= last.end) last.end = Math.max(last.end, s.end);
      else out.push({ start: s.start, end: s.end });
    });
    return out;
  }

  // A text cut at the (merged) spans: [{text, mark}], in order, together the
  // whole text. The page puts each piece in as text, marked ones in <mark>.
  function segments(text, spans) {
    var s = typeof text === 'string' ? text : '';
    var merged = mergeSpans(spans, s.length);
    var out = [];
    var at = 0;
    merged.forEach(function (m) {
      if (m.start > at) out.push({ text: s.slice(at, m.start), mark: false });
      out.push({ text: s.slice(m.start, m.end), mark: true });
      at = m.end;
    });
    if (at < s.length || !out.length) out.push({ text: s.slice(at), mark: false });
    return out;
  }

  // A score (0..100) as a whole number; '—' when there is none.
  function fmtScore(v) {
    if (typeof v !== 'number' || !isFinite(v)) return '—';
    return String(Math.round(v));
  }

  // Points of a match row: "7 / 7", "3.3 / 3.3" (one decimal only where needed).
  function fmtPoints(points, max) {
    function one(v) {
      if (typeof v !== 'number' || !isFinite(v)) return '—';
      var r = Math.round(v * 10) / 10;
      return r === Math.round(r) ? String(Math.round(r)) : r.toFixed(1);
    }
    return one(points) + ' / ' + one(max);
  }

  // The report itself out of what GET /v1/sessions/<id>/report answers
  // ({session_id, version, report}), or a bare report; null for nothing.
  function reportBody(answer) {
    if (!answer || typeof answer !== 'object') return null;
    if (answer.report && typeof answer.report === 'object') return answer.report;
    if (answer.body && typeof answer.body === 'object') return answer.body;
    return answer;
  }

  // The interview score of a report (see reportBody): a number or null.
  function reportOverall(answer) {
    var body = reportBody(answer);
    if (!body) return null;
    var v = body.overall;
    if (v && typeof v === 'object') v = v.score;
    return typeof v === 'number' && isFinite(v) ? v : null;
  }

  // What one upload's answer says: {kind: ok | duplicate | error, ...}.
  // status: the HTTP status (0: the request failed); body: the parsed JSON or null.
  function uploadResult(status, body) {
    var b = body && typeof body === 'object' ? body : {};
    if (status === 201) {
      return { kind: 'ok', id: b.id || null, outcome: b.outcome || null,
        score: b.screening && typeof b.screening.score === 'number' ? b.screening.score : null };
    }
    if (status === 200) return { kind: 'duplicate', id: b.id || null };
    var detail = typeof b.detail === 'string' && b.detail ? b.detail : (typeof b.title === 'string' && b.title ? b.title : '');
    if (!detail) detail = status ? 'HTTP ' + status : 'network error';
    return { kind: 'error', code: typeof b.code === 'string' ? b.code : null, detail: detail, status: status };
  }

  // A ZIP batch's files (GET /v1/applications/batch/{id}) as upload results: "zip › file", each its own.
  function batchResults(batch, zipName) {
    var files = batch && Array.isArray(batch.files) ? batch.files : [];
    return files.filter(function (f) { return f.status !== 'pending'; }).map(function (f) {
      var name = zipName + ' › ' + (f.filename || '#' + f.index);
      if (f.status === 'ok') return { name: name, result: { kind: 'ok', id: f.application_id || null, outcome: null, score: null } };
      if (f.status === 'duplicate') return { name: name, result: { kind: 'duplicate', id: f.application_id || null } };
      var e = f.error || {};
      return { name: name, result: { kind: 'error', code: e.code || null, detail: e.message || e.code || 'error', status: 0 } };
    });
  }

  // The share of a set of uploads done (0..1): files finished count whole,
  // the one on its way by half its bytes sent (the other half is the server
  // reading and screening it).
  function uploadShare(done, total, sent) {
    if (!total) return 0;
    var part = typeof sent === 'number' && isFinite(sent) ? Math.max(0, Math.min(1, sent)) * 0.5 : 0;
    return Math.max(0, Math.min(1, (done + (done < total ? part : 0)) / total));
  }

  // How a requirement was matched, as the server says it ("vocabulary", "vocabulary 1 of 2",
  // "words 0.80", "meaning 0.58", "same certificate"), in the page's words: t(key, vars).
  function howText(how, t) {
    if (typeof how !== 'string' || !how) return '';
    var m = /^vocabulary(?: (\d+) of (\d+))?$/.exec(how);
    if (m) return m[1] ? t('how_vocab_part', { n: m[1], of: m[2] }) : t('how_vocab');
    m = /^(words|meaning) ([0-9.]+)$/.exec(how);
    if (m) return t(m[1] === 'words' ? 'how_words' : 'how_meaning', { x: m[2] });
    if (how === 'same certificate') return t('how_cert');
    return how;
  }

  hr.pipeline = {
    howText: howText,
    COLUMNS: COLUMNS,
    columnOf: columnOf,
    groupColumns: groupColumns,
    columnCounts: columnCounts,
    mergeSpans: mergeSpans,
    segments: segments,
    fmtScore: fmtScore,
    fmtPoints: fmtPoints,
    reportBody: reportBody,
    reportOverall: reportOverall,
    uploadResult: uploadResult,
    batchResults: batchResults,
    uploadShare: uploadShare
  };
})(window.Candor);
