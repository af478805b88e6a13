'use strict';
// The candidate page's scripts load in candidate.html's order into one
// namespace and wait for the document before they boot (candidate.js and
// candidate/*.js).

const test = require('node:test');
const assert = require('node:assert');
const { load } = require('./helpers');

const listeners = [];
globalThis.document = { readyState: 'loading', addEventListener: (type, fn) => listeners.push({ type, fn }) };

const Candor = load('common.js', 'whip.js', 'candidate.js', 'candidate/consent.js', 'candidate/devices.js',
  'candidate/live.js', 'candidate/interview.js');
const cand = Candor.candidate;

test('each step under Candor.candidate; boot waits for DOMContentLoaded', () => {
  for (const step of ['consent', 'devices', 'live', 'interview']) assert.strictEqual(typeof cand[step], 'object', step);
  assert.strictEqual(typeof cand.live.publish, 'function');
  assert.strictEqual(typeof cand.consent.consentAndStart, 'function');
  assert.deepStrictEqual(listeners.map((l) => l.type), ['DOMContentLoaded']);
  assert.strictEqual(window.candor.state, 'idle', 'not booted yet');
  assert.strictEqual(window.candor.question, null);
  assert.strictEqual(typeof window.candor.consentAndStart, 'function');
});

test('cand.t keeps a placeholder without a value; cand.hasString', () => {
  assert.strictEqual(cand.t('retry_in', { n: 2 }), '第 2 次重连，{s} 秒后重试。');
  cand.app.lang = 'en';
  try {
    assert.strictEqual(cand.t('retry_in', { n: 2, s: '1.0' }), 'Reconnect attempt 2, next try in 1.0 s.');
  } finally {
    cand.app.lang = 'zh';
  }
  assert.strictEqual(cand.hasString('q_reason_time_limit'), true);
  assert.strictEqual(cand.hasString('q_reason_gremlins'), false);
});

test('consent.policyOf: the policy from the code exchange, when it has a consent part', () => {
  const policy = { name: 'pipl', emotion: false, consent: { separate: true, scopes: [{ id: 'voice', required: true }] } };
  assert.strictEqual(cand.consent.policyOf({ policy }), policy);
  assert.strictEqual(cand.consent.policyOf({ policy: { name: 'eu' } }), null);
  assert.strictEqual(cand.consent.policyOf({ policy: 'pipl' }), null);
  assert.strictEqual(cand.consent.policyOf({}), null);
  assert.strictEqual(cand.consent.policyOf(null), null);
});
