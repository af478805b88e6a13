'use strict';
// The later-outcomes card (hr/application.js) and the dashboard's source-cost
// form (hr/dashboard.js): what the forms' strings become as PUT bodies, which
// field a mistake names, and how a record and money show.

const test = require('node:test');
const assert = require('node:assert');
const { load } = require('./helpers');

globalThis.document = { readyState: 'loading', addEventListener: () => {} };

const Candor = load('common.js', 'hr.js', 'hr/signin.js', 'hr/sessions.js', 'hr/live.js', 'hr/interview.js',
  'hr/pipeline.js', 'hr/jobs.js', 'hr/board.js', 'hr/application.js', 'hr/dashboard.js');
const hr = Candor.hr;
const A = hr.application;
const D = hr.dashboard;

test('an outcome form becomes the whole record: every field sent, "not yet" as null', () => {
  assert.deepStrictEqual(A.outcomeBody({ onsite: 'pass', probation_rating: '4', performance_12m: '3.5' }),
    { body: { onsite: 'pass', probation_rating: 4, performance_12m: 3.5 }, errors: null });
  assert.deepStrictEqual(A.outcomeBody({ onsite: '', probation_rating: '', performance_12m: '' }),
    { body: { onsite: null, probation_rating: null, performance_12m: null }, errors: null });
  assert.deepStrictEqual(A.outcomeBody({ onsite: 'fail', probation_rating: '', performance_12m: ' -2 ' }).body,
    { onsite: 'fail', probation_rating: null, performance_12m: -2 });
  assert.deepStrictEqual(A.outcomeBody({}).body, { onsite: null, probation_rating: null, performance_12m: null });
});

test('12-month performance: a number, full-width digits too; anything else names the field', () => {
  assert.strictEqual(A.outcomeBody({ performance_12m: '３.５' }).body.performance_12m, 3.5);
  assert.strictEqual(A.outcomeBody({ performance_12m: '.5' }).body.performance_12m, 0.5);
  assert.strictEqual(A.outcomeBody({ performance_12m: '0' }).body.performance_12m, 0);
  for (const bad of ['abc', '3,5', '1e309', 'Infinity', 'NaN', '3.5分', '1 2', '0x10', '.']) {
    const got = A.outcomeBody({ onsite: 'pass', performance_12m: bad });
    assert.strictEqual(got.body, null, bad);
    assert.deepStrictEqual(got.errors, { performance_12m: 'oc_err_performance' }, bad);
  }
});

test('a probation rating is 1 to 5, an on-site result pass or fail; each mistake is named', () => {
  for (const r of ['1', '5']) assert.strictEqual(A.outcomeBody({ probation_rating: r }).body.probation_rating, Number(r));
  for (const bad of ['0', '6', '2.5', 'x']) {
    assert.deepStrictEqual(A.outcomeBody({ probation_rating: bad }).errors, { probation_rating: 'oc_err_probation' }, bad);
  }
  assert.deepStrictEqual(A.outcomeBody({ onsite: 'maybe', probation_rating: '9', performance_12m: 'x' }).errors,
    { onsite: 'oc_err_onsite', probation_rating: 'oc_err_probation', performance_12m: 'oc_err_performance' });
});

test('a record reads back into the form, and the form into the same record', () => {
  const record = { application_id: 'a1', onsite: 'fail', probation_rating: 2, performance_12m: 87.25, recorded_at: '2026-12-05T10:00:00Z', recorded_by: 'hr' };
  const form = A.outcomeForm(record);
  assert.deepStrictEqual(form, { onsite: 'fail', probation_rating: '2', performance_12m: '87.25' });
  assert.deepStrictEqual(A.outcomeBody(form).body, { onsite: 'fail', probation_rating: 2, performance_12m: 87.25 });
  assert.deepStrictEqual(A.outcomeForm(null), { onsite: '', probation_rating: '', performance_12m: '' });
  assert.deepStrictEqual(A.outcomeForm({ onsite: null, probation_rating: null, performance_12m: null }),
    { onsite: '', probation_rating: '', performance_12m: '' });
});

test('who recorded it and when, in the page language; nothing yet before the first save', () => {
  const when = (v) => 'at(' + v + ')';
  hr.ui.lang = 'zh';
  assert.strictEqual(A.outcomeMeta(null, hr.t, when), '尚未记录。');
  assert.strictEqual(A.outcomeMeta({ recorded_at: null, recorded_by: null }, hr.t, when), '尚未记录。');
  assert.strictEqual(A.outcomeMeta({ recorded_at: '2026-12-05T10:00:00Z', recorded_by: 'hr' }, hr.t, when), '由 HR 记录于 at(2026-12-05T10:00:00Z)');
  hr.ui.lang = 'en';
  assert.strictEqual(A.outcomeMeta({ recorded_at: 'T', recorded_by: 'sf_sync' }, hr.t, when), 'Recorded by sf_sync at at(T)');
  assert.strictEqual(A.outcomeMeta(null, hr.t, when), 'Nothing recorded yet.');
  hr.ui.lang = 'zh';
});

test('the card expects an outcome once the application is decided', () => {
  assert.strictEqual(A.outcomeExpected({ state: 'decided', outcome: 'advance' }), true);
  assert.strictEqual(A.outcomeExpected({ state: 'decided', outcome: 'reject' }), true);
  assert.strictEqual(A.outcomeExpected({ state: 'interviewed' }), false);
  assert.strictEqual(A.outcomeExpected(null), false);
});

test('a cost form becomes the PUT: CNY by default, the filter\'s job or all jobs', () => {
  assert.deepStrictEqual(D.costBody({ source: 'campus', amount: '6000', currency: '' }, ''),
    { source: 'campus', body: { cost: 6000, currency: 'CNY' }, errors: null });
  assert.deepStrictEqual(D.costBody({ source: ' liepin ', amount: '6,000.50', currency: 'usd' }, 'wealth_manager'),
    { source: 'liepin', body: { cost: 6000.5, currency: 'USD', job_id: 'wealth_manager' }, errors: null });
  assert.strictEqual(D.costBody({ source: 'x', amount: '６０００', currency: 'CNY' }, '').body.cost, 6000);
  assert.strictEqual(D.costBody({ source: 'x', amount: '0', currency: 'CNY' }, '').body.cost, 0);
  assert.strictEqual(D.costBody({ source: 'x', amount: '12 000', currency: 'CNY' }, '').body.cost, 12000);
});

test('a cost mistake names its field: no source, no amount, a bad amount, a bad currency', () => {
  assert.deepStrictEqual(D.costBody({ source: '', amount: '', currency: 'CNY' }, '').errors,
    { source: 'cost_err_source', amount: 'cost_err_amount' });
  for (const bad of ['-5', 'abc', '6,00', '1e3', '6000元', '.5.', '+3']) {
    assert.deepStrictEqual(D.costBody({ source: 'campus', amount: bad, currency: 'CNY' }, '').errors, { amount: 'cost_err_amount_bad' }, bad);
  }
  for (const bad of ['RMB1', 'C', '人民币', 'US$']) {
    assert.deepStrictEqual(D.costBody({ source: 'campus', amount: '1', currency: bad }, '').errors, { currency: 'cost_err_currency' }, bad);
  }
  assert.deepStrictEqual(D.costBody({ source: 'x'.repeat(65), amount: '1' }, '').errors, { source: 'cost_err_source' });
  hr.ui.lang = 'zh';
  assert.strictEqual(hr.t('cost_err_amount_bad'), '金额须为不小于 0 的数字，例如 6000 或 6,000.50');
  hr.ui.lang = 'en';
  assert.strictEqual(hr.t('cost_err_currency'), 'The currency must be a 3-letter code, such as CNY');
  hr.ui.lang = 'zh';
});

test('money shows whole amounts without decimals, others with two; the cost sources leave "(none)" out', () => {
  assert.strictEqual(D.fmtMoney(1200, 'CNY'), '1200 CNY');
  assert.strictEqual(D.fmtMoney(1666.6666, 'CNY'), '1666.67 CNY');
  assert.strictEqual(D.fmtMoney(0, 'USD'), '0 USD');
  assert.strictEqual(D.fmtMoney(null, 'CNY'), '—');
  assert.strictEqual(D.fmtMoney(undefined), '—');
  assert.deepStrictEqual(D.costSources([{ source: 'campus' }, { source: '(none)' }, { source: 'liepin' }]), ['campus', 'liepin']);
  assert.deepStrictEqual(D.costSources(null), []);
});

test('every new string exists in both languages', () => {
  const keys = ['oc_title', 'oc_hint_undecided', 'oc_onsite', 'oc_onsite_pass', 'oc_onsite_fail', 'oc_not_yet', 'oc_probation',
    'oc_performance', 'oc_performance_ph', 'oc_save', 'oc_saving', 'oc_never', 'oc_recorded', 'oc_saved', 'oc_refused',
    'oc_err_performance', 'oc_err_probation', 'oc_err_onsite', 'dash_cost_title', 'dash_cost_source', 'dash_cost_amount',
    'dash_cost_currency', 'dash_cost_save', 'dash_cost_scope_all', 'dash_cost_scope_job', 'dash_cost_saved', 'dash_cost_none',
    'dash_cost_refused', 'cost_err_source', 'cost_err_amount', 'cost_err_amount_bad', 'cost_err_currency'];
  for (const k of keys) {
    hr.ui.lang = 'zh';
    const zh = hr.t(k);
    hr.ui.lang = 'en';
    const en = hr.t(k);
    assert.notStrictEqual(zh, k, 'zh: ' + k);
    assert.notStrictEqual(en, zh, 'en: ' + k + ' falls back to the Chinese');
  }
  hr.ui.lang = 'zh';
});
