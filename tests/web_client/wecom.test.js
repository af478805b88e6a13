'use strict';
// WeCom (企业微信) on the pages: the candidate page knows WeCom's webview and
// hands the link (with its unused one-time code) to the system browser when
// the webview lacks the camera or WebRTC; the HR application page says how
// many of WeCom's monthly external-contact messages a candidate has had.

const test = require('node:test');
const assert = require('node:assert');
const { load } = require('./helpers');

globalThis.document = { readyState: 'loading', addEventListener: () => {} };

const Candor = load('common.js', 'whip.js', 'candidate.js', 'candidate/consent.js', 'candidate/devices.js',
  'candidate/live.js', 'candidate/interview.js', 'hr.js', 'hr/signin.js', 'hr/sessions.js', 'hr/live.js',
  'hr/interview.js', 'hr/pipeline.js', 'hr/jobs.js', 'hr/board.js', 'hr/application.js');
const webview = Candor.candidate.webview;

const WECOM_ANDROID = 'Mozilla/5.0 (Linux; Android 12; V2049A; wv) AppleWebKit/537.36 (KHTML, like Gecko) '
  + 'Version/4.0 Chrome/86.0.4240.99 XWEB/4317 MMWEBSDK/20220903 Mobile Safari/537.36 wxwork/4.1.0 MicroMessenger/7.0.1 '
  + 'NetType/WIFI Language/zh Lang/zh ColorScheme/Light';
const WECOM_IOS = 'Mozilla/5.0 (iPhone; CPU iPhone OS 16_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) '
  + 'Mobile/15E148 wxwork/4.0.16 MicroMessenger/7.0.1 Language/zh';
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';

test('WeCom is told by wxwork in the user agent', () => {
  assert.strictEqual(webview.isWeCom(WECOM_ANDROID), true);
  assert.strictEqual(webview.isWeCom(WECOM_IOS), true);
  assert.strictEqual(webview.isWeCom(CHROME), false);
  assert.strictEqual(webview.isWeCom(undefined), false);
  assert.strictEqual(webview.isInApp(WECOM_IOS), true);
  assert.strictEqual(webview.isInApp(CHROME), false);
});

test('what a webview lacks: getUserMedia, RTCPeerConnection', () => {
  function Peer() {}
  const full = { navigator: { mediaDevices: { getUserMedia: () => {} } }, RTCPeerConnection: Peer };
  assert.deepStrictEqual(webview.missing(full), []);
  assert.deepStrictEqual(webview.missing({ navigator: {}, RTCPeerConnection: Peer }), ['getUserMedia']);
  assert.deepStrictEqual(webview.missing({ navigator: { mediaDevices: {} } }), ['getUserMedia', 'RTCPeerConnection']);
  assert.deepStrictEqual(webview.missing({ navigator: { mediaDevices: { getUserMedia: () => {} } } }), ['RTCPeerConnection']);
});

test('the link for the system browser keeps the unused one-time code', () => {
  const loc = { origin: 'https://interview.bank.cn', pathname: '/candidate', search: '?lang=zh' };
  assert.strictEqual(webview.link(loc, 'abc/123+x'), 'https://interview.bank.cn/candidate?lang=zh#code=abc%2F123%2Bx');
  assert.strictEqual(webview.link({ origin: 'https://i.cn', pathname: '/candidate', search: '' }, null), 'https://i.cn/candidate');
});

test('the webview step has its words in both languages', () => {
  const cand = Candor.candidate;
  for (const key of ['webview_title', 'webview_text_wecom', 'webview_text', 'webview_how', 'webview_link',
    'webview_copy', 'webview_copied', 'webview_copy_failed']) {
    assert.ok(cand.hasString(key), key);
    cand.app.lang = 'en';
    const en = cand.t(key);
    cand.app.lang = 'zh';
    assert.notStrictEqual(en, cand.t(key), key);
  }
});

test('HR application page: WeCom external messages this month, only where the channel is configured', () => {
  const hr = Candor.hr;
  const contacts = { channels: { wecom_external: true }, wecom_external: { sent: 2, limit: 4, month: '2026-12' } };
  assert.strictEqual(hr.application.weComQuotaText(contacts), '企业微信：本月已发 2/4 条');
  hr.ui.lang = 'en';
  try {
    assert.strictEqual(hr.application.weComQuotaText(contacts), 'WeCom: 2/4 sent this month');
  } finally {
    hr.ui.lang = 'zh';
  }
  assert.strictEqual(hr.application.weComQuotaText({ channels: { wecom_external: false }, wecom_external: { sent: 0, limit: 4 } }), '');
  assert.strictEqual(hr.application.weComQuotaText(null), '');
});
