'use strict';
// The HR page's scripts load in hr.html's order into one namespace, wait for
// the document before they boot, and their pure helpers work (hr.js and
// hr/*.js).

const test = require('node:test');
const assert = require('node:assert');
const { load } = require('./helpers');

// What the scripts touch while they load: nothing but the document's state.
const listeners = [];
globalThis.document = { readyState: 'loading', addEventListener: (type, fn) => listeners.push({ type, fn }) };

const Candor = load('common.js', 'hr.js', 'hr/signin.js', 'hr/sessions.js', 'hr/live.js', 'hr/interview.js',
  'hr/pipeline.js', 'hr/jobs.js', 'hr/board.js', 'hr/application.js');
const hr = Candor.hr;

test('each view under Candor.hr; boot waits for DOMContentLoaded', () => {
  for (const view of ['signin', 'sessions', 'live', 'interview', 'pipeline', 'jobs', 'board', 'application']) {
    assert.strictEqual(typeof hr[view], 'object', view);
  }
  for (const view of ['signin', 'sessions', 'live', 'jobs', 'board', 'application']) assert.strictEqual(typeof hr[view].init, 'function', view);
  assert.deepStrictEqual(listeners.map((l) => l.type), ['DOMContentLoaded']);
  assert.strictEqual(window.candorHr.view, null, 'not booted yet');
  assert.deepStrictEqual(window.candorHr.questions, []);
});

test('hr.t: Chinese by default, English on request, ? for a missing value', () => {
  assert.strictEqual(hr.t('signin'), '登录');
  hr.ui.lang = 'en';
  try {
    assert.strictEqual(hr.t('signin'), 'Sign in');
    assert.strictEqual(hr.t('err_http', {}), hr.t('err_http', { detail: '?' }));
    assert.ok(hr.t('err_http', {}).indexOf('?') >= 0);
  } finally {
    hr.ui.lang = 'zh';
  }
});

test('hr.labelOf: the string for a value the server names, else the value', () => {
  assert.strictEqual(hr.labelOf('reason_', 'time_limit'), '时间到');
  assert.strictEqual(hr.labelOf('reason_', 'gremlins'), 'gremlins');
  assert.strictEqual(hr.labelOf('expr_', 'happy'), hr.t('expr_happy'));
});

test('hr.locText, hr.fmtShare and hr.fmtDateTime follow the page language', () => {
  assert.strictEqual(hr.locText({ zh: '工程师', en: 'Engineer' }), '工程师');
  assert.strictEqual(hr.fmtShare(true), '是');
  assert.strictEqual(hr.fmtShare(0.25), '25%');
  hr.ui.lang = 'en';
  try {
    assert.strictEqual(hr.locText({ zh: '工程师', en: 'Engineer' }), 'Engineer');
    assert.strictEqual(hr.fmtShare(false), hr.t('no'));
    assert.ok(hr.fmtDateTime('2030-01-02T03:04:05Z').indexOf('2030') >= 0);
    assert.strictEqual(hr.fmtDateTime(null), '—');
  } finally {
    hr.ui.lang = 'zh';
  }
});

test('hr.sessions.splitList: commas (either width), 、, semicolons and new lines', () => {
  assert.deepStrictEqual(hr.sessions.splitList('python, Go，SQL、k8s;docker；linux\nbash'),
    ['python', 'Go', 'SQL', 'k8s', 'docker', 'linux', 'bash']);
  assert.deepStrictEqual(hr.sessions.splitList(' a ,, ,b '), ['a', 'b']);
  assert.deepStrictEqual(hr.sessions.splitList(''), []);
  assert.deepStrictEqual(hr.sessions.splitList(null), []);
});

test('hr.interview.scoreScale: a stated max, else guessed from the values', () => {
  const { scoreScale } = hr.interview;
  assert.deepStrictEqual(scoreScale({ max: 5, overall: 80 }), { max: 5 });
  assert.deepStrictEqual(scoreScale({ scale: 10 }), { max: 10 });
  assert.deepStrictEqual(scoreScale({ overall: 0.72, content: 0.9 }), { max: 1, percent: true });
  assert.deepStrictEqual(scoreScale({ overall: 3.6, delivery: { score: 4 } }), { max: 5 });
  assert.deepStrictEqual(scoreScale({ overall: 3, competencies: [{ score: 7.5 }, null] }), { max: 10 });
  assert.deepStrictEqual(scoreScale({ overall: 87 }), { max: 100 });
  assert.deepStrictEqual(scoreScale({}), { max: 100 });
});

test('hr.interview.fmtScore and scoreFrac', () => {
  const { fmtScore, scoreFrac } = hr.interview;
  assert.strictEqual(fmtScore(0.724, { max: 1, percent: true }), '72');
  assert.strictEqual(fmtScore(3.64, { max: 5 }), '3.6/5');
  assert.strictEqual(fmtScore(4, { max: 5 }), '4.0/5');
  assert.strictEqual(fmtScore(7.25, { max: 10 }), '7.3/10');
  assert.strictEqual(fmtScore(86.6, { max: 100 }), '87');
  assert.strictEqual(fmtScore(null, { max: 5 }), '—');
  assert.strictEqual(fmtScore('3', { max: 5 }), '—');
  assert.strictEqual(scoreFrac(2.5, { max: 5 }), 0.5);
  assert.strictEqual(scoreFrac(7, { max: 5 }), 1);
  assert.strictEqual(scoreFrac(-1, { max: 5 }), 0);
  assert.strictEqual(scoreFrac(undefined, { max: 5 }), 0);
});
