'use strict';
// The HR workspace's pure helpers (hr/pipeline.js): board columns, counts,
// evidence spans merged and the resume cut at them, scores, upload answers;
// and hr.routeOf, which view a path shows.

const test = require('node:test');
const assert = require('node:assert');
const { load } = require('./helpers');

globalThis.document = { readyState: 'loading', addEventListener: () => {} };

const Candor = load('common.js', 'hr.js', 'hr/signin.js', 'hr/sessions.js', 'hr/live.js', 'hr/interview.js',
  'hr/pipeline.js', 'hr/jobs.js', 'hr/board.js', 'hr/application.js');
const hr = Candor.hr;
const P = hr.pipeline;

test('routeOf: /hr is the jobs, then boards, candidates, the session list and one session', () => {
  assert.deepStrictEqual(hr.routeOf('/hr'), { view: 'jobs', id: null });
  assert.deepStrictEqual(hr.routeOf('/hr/'), { view: 'jobs', id: null });
  assert.deepStrictEqual(hr.routeOf('/hr/jobs/wealth_manager'), { view: 'board', id: 'wealth_manager' });
  assert.deepStrictEqual(hr.routeOf('/hr/applications/app_x%2Fy'), { view: 'application', id: 'app_x/y' });
  assert.deepStrictEqual(hr.routeOf('/hr/sessions'), { view: 'list', id: null });
  assert.deepStrictEqual(hr.routeOf('/hr/sessions/s1/'), { view: 'live', id: 's1' });
  assert.deepStrictEqual(hr.routeOf('/hr/jobs'), { view: 'jobs', id: null });
  assert.deepStrictEqual(hr.routeOf('/elsewhere'), { view: 'jobs', id: null });
});

test('every column has its label in both languages', () => {
  for (const c of P.COLUMNS) {
    hr.ui.lang = 'zh';
    const zh = hr.t(c.label);
    hr.ui.lang = 'en';
    const en = hr.t(c.label);
    hr.ui.lang = 'zh';
    assert.notStrictEqual(zh, c.label, c.key);
    assert.notStrictEqual(en, zh, c.key);
  }
});

test('columnOf and groupColumns: screened by outcome, the rest by state, order kept', () => {
  assert.strictEqual(P.columnOf({ state: 'screened', outcome: 'advance' }), 'screened/advance');
  assert.strictEqual(P.columnOf({ state: 'screened', outcome: 'pool' }), 'screened/pool');
  assert.strictEqual(P.columnOf({ state: 'screened', outcome: null }), 'screened/review');
  assert.strictEqual(P.columnOf({ state: 'decided', outcome: 'reject' }), 'decided');
  assert.strictEqual(P.columnOf({ state: 'gremlins' }), null);
  assert.strictEqual(P.columnOf(null), null);
  const g = P.groupColumns([
    { id: 'a', state: 'screened', outcome: 'advance' },
    { id: 'b', state: 'invited' },
    { id: 'c', state: 'screened', outcome: 'advance' },
    { id: 'd', state: 'nope' },
  ]);
  assert.deepStrictEqual(Object.keys(g), P.COLUMNS.map((c) => c.key));
  assert.deepStrictEqual(g['screened/advance'].map((a) => a.id), ['a', 'c']);
  assert.deepStrictEqual(g.invited.map((a) => a.id), ['b']);
  assert.deepStrictEqual(g.withdrawn, []);
});

test('columnCounts: decided outcomes summed, unknown keys and bad numbers ignored', () => {
  const c = P.columnCounts({ 'screened/advance': 2, 'screened/pool': 3, 'decided/reject': 4, 'decided/advance': 1,
    invited: 1, screened: 5, whatever: 9, interviewed: 'x' });
  assert.strictEqual(c['screened/advance'], 2);
  assert.strictEqual(c['screened/pool'], 3);
  assert.strictEqual(c['screened/review'], 5);
  assert.strictEqual(c.decided, 5);
  assert.strictEqual(c.invited, 1);
  assert.strictEqual(c.interviewed, 0);
  assert.strictEqual(c.whatever, undefined);
  assert.strictEqual(P.columnCounts(null).invited, 0);
});

test('mergeSpans: clamped, sorted, overlapping and touching spans merged, empty and bad ones dropped', () => {
  assert.deepStrictEqual(P.mergeSpans([{ start: 5, end: 9 }, { start: 0, end: 2 }, { start: 8, end: 12 }], 100),
    [{ start: 0, end: 2 }, { start: 5, end: 12 }]);
  assert.deepStrictEqual(P.mergeSpans([{ start: 0, end: 3 }, { start: 3, end: 5 }]), [{ start: 0, end: 5 }]);
  assert.deepStrictEqual(P.mergeSpans([{ start: 2, end: 4 }, { start: 1, end: 10 }], 6), [{ start: 1, end: 6 }]);
  assert.deepStrictEqual(P.mergeSpans([{ start: -3, end: 2 }, { start: 4, end: 4 }, { start: 'a', end: 3 }, null, { start: 9, end: 20 }], 8),
    [{ start: 0, end: 2 }]);
  assert.deepStrictEqual(P.mergeSpans(null, 5), []);
});

test('segments: the whole text, marked where the evidence is, nothing lost or doubled', () => {
  const text = '<b>张三</b> 本科，银行从业资格 & AFP';
  const segs = P.segments(text, [{ start: 10, end: 16 }, { start: 0, end: 3 }, { start: 12, end: 14 }]);
  assert.strictEqual(segs.map((s) => s.text).join(''), text);
  assert.deepStrictEqual(segs.filter((s) => s.mark).map((s) => s.text), ['<b>', text.slice(10, 16)]);
  assert.deepStrictEqual(P.segments('abc', []), [{ text: 'abc', mark: false }]);
  assert.deepStrictEqual(P.segments('', [{ start: 0, end: 2 }]), [{ text: '', mark: false }]);
  assert.deepStrictEqual(P.segments(null, []), [{ text: '', mark: false }]);
  assert.deepStrictEqual(P.segments('abc', [{ start: 0, end: 3 }]), [{ text: 'abc', mark: true }]);
});

test('fmtScore, fmtPoints and reportOverall', () => {
  assert.strictEqual(P.fmtScore(72.3), '72');
  assert.strictEqual(P.fmtScore(null), '—');
  assert.strictEqual(P.fmtScore('72'), '—');
  assert.strictEqual(P.fmtPoints(7, 7), '7 / 7');
  assert.strictEqual(P.fmtPoints(3.33, 3.33), '3.3 / 3.3');
  assert.strictEqual(P.fmtPoints(null, 5), '— / 5');
  assert.strictEqual(P.reportOverall({ overall: 81.5 }), 81.5);
  assert.strictEqual(P.reportOverall({ body: { overall: 60 } }), 60);
  assert.strictEqual(P.reportOverall({ session_id: 's', version: 2, report: { overall: 66.6 } }), 66.6);
  assert.deepStrictEqual(P.reportBody({ version: 1, report: { overall: 1 } }), { overall: 1 });
  assert.strictEqual(P.reportOverall({ overall: { score: 70 } }), 70);
  assert.strictEqual(P.reportOverall({ overall: null }), null);
  assert.strictEqual(P.reportOverall(null), null);
});

test('uploadResult: 201 scored, 200 a duplicate, else the problem\'s detail and code', () => {
  assert.deepStrictEqual(P.uploadResult(201, { id: 'app_1', outcome: 'advance', screening: { score: 72.3 } }),
    { kind: 'ok', id: 'app_1', outcome: 'advance', score: 72.3 });
  assert.deepStrictEqual(P.uploadResult(200, { id: 'app_1' }), { kind: 'duplicate', id: 'app_1' });
  assert.deepStrictEqual(P.uploadResult(422, { title: 'Resume not read', detail: 'the file is empty', code: 'empty' }),
    { kind: 'error', code: 'empty', detail: 'the file is empty', status: 422 });
  assert.deepStrictEqual(P.uploadResult(413, null), { kind: 'error', code: null, detail: 'HTTP 413', status: 413 });
  assert.strictEqual(P.uploadResult(0, null).detail, 'network error');
});

test('uploadShare: finished files whole, the current one by half its bytes, within 0..1', () => {
  assert.strictEqual(P.uploadShare(0, 0, 0), 0);
  assert.strictEqual(P.uploadShare(0, 4, 1), 0.125);
  assert.strictEqual(P.uploadShare(2, 4, 0.5), 0.5625);
  assert.strictEqual(P.uploadShare(4, 4, 1), 1);
  assert.strictEqual(P.uploadShare(1, 2, 7), 0.75);
});

test('application.valueText: education, languages and years in words; objects as their text', () => {
  const v = hr.application.valueText;
  assert.strictEqual(v('education', 'bachelor'), '本科');
  assert.strictEqual(v('language', 'en'), '英语');
  assert.strictEqual(v('years', '2', true), '2 年以上');  // what the job asks
  assert.strictEqual(v('years', '7.2'), '7.2 年');  // what the resume shows
  assert.strictEqual(v('skill', '资产配置'), '资产配置');
  assert.strictEqual(v('skill', null), '—');
  assert.strictEqual(v('skill', { zh: '合规', en: 'compliance' }), '合规');
});

test('howText: the server\'s match notes in the page\'s words', () => {
  const t = (key, vars) => key + (vars ? JSON.stringify(vars) : '');
  assert.strictEqual(P.howText('vocabulary', t), 'how_vocab');
  assert.strictEqual(P.howText('vocabulary 1 of 2', t), 'how_vocab_part{"n":"1","of":"2"}');
  assert.strictEqual(P.howText('meaning 0.58', t), 'how_meaning{"x":"0.58"}');
  assert.strictEqual(P.howText('words 0.80', t), 'how_words{"x":"0.80"}');
  assert.strictEqual(P.howText('same certificate', t), 'how_cert');
  assert.strictEqual(P.howText('something new', t), 'something new');
  assert.strictEqual(P.howText(null, t), '');
});

test('batchResults: a ZIP batch\'s read files as upload lines, pending ones left for later', () => {
  const batch = { id: 'b1', state: 'running', total: 4, files: [
    { index: 0, filename: 'a.pdf', status: 'ok', application_id: 'app_1' },
    { index: 1, filename: 'b.pdf', status: 'duplicate', application_id: 'app_1' },
    { index: 2, filename: 'c.pdf', status: 'error', error: { code: 'encrypted', message: 'the file is encrypted' } },
    { index: 3, filename: 'd.pdf', status: 'pending' },
  ] };
  const lines = P.batchResults(batch, 'campus.zip');
  assert.deepStrictEqual(lines.map(l => l.name), ['campus.zip › a.pdf', 'campus.zip › b.pdf', 'campus.zip › c.pdf']);
  assert.deepStrictEqual(lines.map(l => l.result.kind), ['ok', 'duplicate', 'error']);
  assert.strictEqual(lines[0].result.id, 'app_1');
  assert.strictEqual(lines[2].result.code, 'encrypted');
  assert.deepStrictEqual(P.batchResults(null, 'x.zip'), []);
});
