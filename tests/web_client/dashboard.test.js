'use strict';
// The dashboard's pure helpers (hr/dashboard.js): the filter's query and CSV
// links, how a suppressed figure shows (<5, "needs at least 5"), rates,
// durations, intervals, and the chart rows made from the API's figures.

const test = require('node:test');
const assert = require('node:assert');
const { load } = require('./helpers');

globalThis.document = { readyState: 'loading', addEventListener: () => {} };

const Candor = load('common.js', 'hr.js', 'hr/signin.js', 'hr/sessions.js', 'hr/live.js', 'hr/interview.js',
  'hr/pipeline.js', 'hr/jobs.js', 'hr/board.js', 'hr/application.js', 'hr/dashboard.js');
const hr = Candor.hr;
const D = hr.dashboard;

test('routeOf: /hr/dashboard is the dashboard', () => {
  assert.deepStrictEqual(hr.routeOf('/hr/dashboard'), { view: 'dashboard', id: null });
  assert.deepStrictEqual(hr.routeOf('/hr/dashboard/'), { view: 'dashboard', id: null });
});

test('the filter becomes a query and CSV links with only what is set', () => {
  assert.strictEqual(D.queryOf({ job_id: '', from: '', to: '' }), '');
  assert.strictEqual(D.queryOf({ job_id: 'wealth manager', from: '2026-11-01', to: '' }), 'job_id=wealth%20manager&from=2026-11-01');
  assert.strictEqual(D.csvUrl('sources', { job_id: 'teller', from: '', to: '2026-12-01' }),
    '/v1/analytics/sources?job_id=teller&to=2026-12-01&format=csv');
  assert.strictEqual(D.csvUrl('funnel', {}), '/v1/analytics/funnel?format=csv');
});

test('a suppressed count shows as <5, never a number; zero shows', () => {
  assert.strictEqual(D.fmtCount(null, true), '<5');
  assert.strictEqual(D.fmtCount(3, true), '<5'); // even if a number came, suppressed wins
  assert.strictEqual(D.fmtCount(0, false), '0');
  assert.strictEqual(D.fmtCount(12), '12');
  assert.strictEqual(D.fmtCount(null), '—');
  assert.strictEqual(D.fmtCell({ n: null, suppressed: true }), '<5');
  assert.strictEqual(D.fmtCell({ n: 7 }), '7');
});

test('rates, durations and intervals', () => {
  assert.strictEqual(D.fmtRate(0.8333), '83.3%');
  assert.strictEqual(D.fmtRate(1), '100.0%');
  assert.strictEqual(D.fmtRate(null), '—');
  assert.strictEqual(D.fmtDuration(30, 'en'), '<1 min');
  assert.strictEqual(D.fmtDuration(90, 'zh'), '2 分钟');
  assert.strictEqual(D.fmtDuration(5400, 'zh'), '1.5 小时');
  assert.strictEqual(D.fmtDuration(3 * 86400, 'en'), '3.0 d');
  assert.strictEqual(D.fmtDuration(null, 'en'), '—');
  assert.strictEqual(D.fmtCI(-0.4572, 0.9908), '[-0.46, 0.99]');
  assert.strictEqual(D.fmtCI(null, null), '—');
});

test('validity text: a suppressed correlation asks for 5 people, in both languages', () => {
  hr.ui.lang = 'zh';
  assert.strictEqual(D.validityText({ n: null, suppressed: true, rho: null, note: 'needs at least 5' }), '需要至少5人');
  assert.strictEqual(D.validityText({ n: 0, rho: null, note: 'needs at least 5' }), '需要至少5人');
  assert.strictEqual(D.validityText({ n: 6, rho: null, note: 'no spread' }), '数值无差异');
  hr.ui.lang = 'en';
  assert.strictEqual(D.validityText({ n: null, suppressed: true, rho: null }), 'Needs at least 5 people');
  assert.strictEqual(D.validityText({ n: 6, rho: 0.8407, note: null }), '0.84');
  hr.ui.lang = 'zh';
});

test('chart rows: a suppressed stage, bin or question carries no number', () => {
  const funnel = { stages: [
    { stage: 'applied', n: 10, conversion: null },
    { stage: 'invited', n: 7, conversion: 0.7 },
    { stage: 'advanced', n: null, suppressed: true, conversion: null }
  ] };
  const items = D.funnelItems(funnel, (s) => s);
  assert.deepStrictEqual(items.map((i) => i.value), [10, 7, null]);
  assert.strictEqual(items[1].text, 'invited: 7 (70.0%)');
  assert.strictEqual(items[2].text, 'advanced: <5');
  const hist = D.histogramSeries({ n: 9, bins: [{ from: 0, to: 10, n: 0 }, { from: 10, to: 20, n: null, suppressed: true }, { from: 20, to: 30, n: 6 }] });
  assert.deepStrictEqual(hist.values, [0, 0, 6]);
  assert.deepStrictEqual(hist.suppressed, [false, true, false]);
  assert.deepStrictEqual(hist.labels, ['0–10', '10–20', '20–30']);
  const rows = D.boxRows([
    { question_id: 'q1', alternative: null, n: 6, p10: 45, p25: 52.5, p50: 65, p75: 77.5, p90: 85 },
    { question_id: 'q2', alternative: 'alt', n: null, suppressed: true, p10: null, p25: null, p50: null, p75: null, p90: null }
  ]);
  assert.deepStrictEqual(rows[0].box, [45, 52.5, 65, 77.5, 85]);
  assert.strictEqual(rows[1].box, null);
  assert.strictEqual(rows[1].name, 'q2 / alt');
});

test('every dashboard string has both languages', () => {
  const keys = ['dash_title', 'dash_needs_5', 'dash_stage_applied', 'dash_stage_advanced', 'dash_outcome_onsite',
    'dash_score_interview_score', 'dash_inv_opened', 'nav_dashboard'];
  for (const key of keys) {
    hr.ui.lang = 'zh';
    const zh = hr.t(key);
    hr.ui.lang = 'en';
    const en = hr.t(key);
    hr.ui.lang = 'zh';
    assert.notStrictEqual(zh, key, key);
    assert.notStrictEqual(en, zh, key);
  }
});
