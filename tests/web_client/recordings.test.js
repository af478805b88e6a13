'use strict';
// The HR report's recordings (hr/recordings.js): where an evidence quote's media time is in an answer's file.

const test = require('node:test');
const assert = require('node:assert');
const { load } = require('./helpers');

globalThis.document = { readyState: 'loading', addEventListener: () => {} };
const Candor = load('common.js', 'hr.js', 'hr/signin.js', 'hr/sessions.js', 'hr/live.js', 'hr/interview.js', 'hr/recordings.js');
const fileTimeAt = Candor.hr.recordings.fileTimeAt;

test('a quote plays from its media time less the answer start', () => {
  assert.strictEqual(fileTimeAt([[30, 0]], 34.5, 60), 4.5);
  assert.strictEqual(fileTimeAt([[30, 0]], 29, 60), 0); // before the answer: its start
  assert.strictEqual(fileTimeAt([[30, 0]], 200, 60), 60); // past it: its end
});

test('after a reconnect the quote is found in the segment it was said in', () => {
  const segments = [[10, 0], [80, 12.5]]; // 12.5 s recorded, then the candidate came back at media time 80
  assert.strictEqual(fileTimeAt(segments, 15, 30), 5);
  assert.strictEqual(fileTimeAt(segments, 82, 30), 14.5);
  assert.strictEqual(fileTimeAt([], 82, 30), 0);
  assert.strictEqual(fileTimeAt(segments, null, 30), 0);
});

test('the report page has a recordings view under Candor.hr', () => {
  for (const fn of ['attachPlayer', 'quoteButton', 'playAt', 'load']) assert.strictEqual(typeof Candor.hr.recordings[fn], 'function', fn);
});
