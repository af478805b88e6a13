'use strict';
// candidate.html and hr.html load their classic scripts from /static (the
// server's mount of web_client/) in dependency order, and every shipped
// script is loaded by a page.

const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const path = require('path');
const { WEB, shipped } = require('./helpers');

function scripts(page) {
  const html = fs.readFileSync(path.join(WEB, page), 'utf8');
  const tags = html.match(/<script\b[^>]*>/g) || [];
  return tags.map((tag) => {
    assert.ok(!/type\s*=\s*["']?module/i.test(tag), page + ': ' + tag + ' (classic scripts only)');
    assert.ok(!/\b(async|defer)\b/i.test(tag), page + ': ' + tag + ' (the order is the load order)');
    const src = /\bsrc="([^"]+)"/.exec(tag);
    assert.ok(src, page + ': an inline script: ' + tag);
    assert.ok(src[1].startsWith('/static/'), page + ': ' + src[1]);
    return src[1].slice('/static/'.length);
  });
}

test('candidate.html: common.js, whip.js, candidate.js, then one file per step', () => {
  assert.deepStrictEqual(scripts('candidate.html'), ['common.js', 'whip.js', 'candidate.js',
    'candidate/consent.js', 'candidate/devices.js', 'candidate/live.js', 'candidate/interview.js', 'candidate/selfid.js',
    'candidate/mydata.js']);
});

test('hr.html: common.js, hr.js, then one file per view', () => {
  assert.deepStrictEqual(scripts('hr.html'),
    ['common.js', 'hr.js', 'hr/signin.js', 'hr/users.js', 'hr/sessions.js', 'hr/live.js', 'hr/interview.js', 'hr/recordings.js', 'hr/recommend.js',
      'hr/pipeline.js', 'hr/jobs.js', 'hr/board.js', 'hr/application.js', 'hr/automation.js', 'vendor/echarts.min.js', 'hr/dashboard.js',
      'hr/audit.js']);
});

test('every script a page names exists, and every shipped script is named by a page', () => {
  const named = new Set(scripts('candidate.html').concat(scripts('hr.html')));
  for (const file of named) assert.ok(fs.existsSync(path.join(WEB, file)), file);
  for (const file of shipped(WEB)) assert.ok(named.has(file), file + ' is loaded by no page');
});
