'use strict';
// Candor.i18n, .http, .time, .num, .fmt, .store, .dom (web_client/common.js).

process.env.TZ = 'UTC'; // wall-clock formatting below reads local time

const test = require('node:test');
const assert = require('node:assert');
const { load, response } = require('./helpers');

const Candor = load('common.js');
const { i18n, http, time, num, fmt, store, dom } = Candor;

const STRINGS = {
  zh: { hello: '你好 {name}', only_zh: '仅中文', count: '{n} 个' },
  en: { hello: 'Hello {name}', count: '{n} items' },
};

test('one namespace on window, each part once', () => {
  assert.strictEqual(window.Candor, Candor);
  for (const part of ['i18n', 'http', 'time', 'num', 'fmt', 'store', 'dom']) assert.ok(Candor[part], part);
  assert.strictEqual(load('common.js'), Candor, 'loading again keeps the namespace');
});

test('i18n.translator: the language, then Chinese, then the key', () => {
  let lang = 'en';
  const t = i18n.translator(STRINGS, () => lang);
  assert.strictEqual(t('hello', { name: 'Li' }), 'Hello Li');
  assert.strictEqual(t('only_zh'), '仅中文');
  assert.strictEqual(t('no_such_key'), 'no_such_key');
  lang = 'zh';
  assert.strictEqual(t('hello', { name: 'Li' }), '你好 Li');
  lang = 'fr'; // not in the table: Chinese
  assert.strictEqual(t('count', { n: 3 }), '3 个');
});

test('i18n.translator: a placeholder without a value stays, or shows `missing`', () => {
  const keep = i18n.translator(STRINGS, () => 'en'); // the candidate page
  const mark = i18n.translator(STRINGS, () => 'en', '?'); // the HR page
  assert.strictEqual(keep('hello', {}), 'Hello {name}');
  assert.strictEqual(keep('hello', { name: null }), 'Hello {name}');
  assert.strictEqual(mark('hello', {}), 'Hello ?');
  assert.strictEqual(mark('hello', { name: undefined }), 'Hello ?');
  assert.strictEqual(mark('count', { n: 0 }), '0 items');
  assert.strictEqual(keep('hello'), 'Hello {name}', 'no params: the template as is');
  assert.strictEqual(i18n.fill('{a}-{b}-{a}', { a: 1, b: false }), '1-false-1');
});

test('i18n: languages and locales', () => {
  assert.strictEqual(i18n.pickLang(STRINGS, 'en'), 'en');
  assert.strictEqual(i18n.pickLang(STRINGS, 'de'), 'zh');
  assert.strictEqual(i18n.pickLang(STRINGS, null), 'zh');
  assert.strictEqual(i18n.htmlLang('zh'), 'zh-CN');
  assert.strictEqual(i18n.htmlLang('en'), 'en');
  assert.strictEqual(i18n.dateLocale('zh'), 'zh-CN');
  assert.strictEqual(i18n.dateLocale('en'), 'en-GB');
});

test('i18n.locText: a string, or {zh, en} in the page language, else the other one', () => {
  assert.strictEqual(i18n.locText('plain', 'en'), 'plain');
  assert.strictEqual(i18n.locText({ zh: '中', en: 'en' }, 'en'), 'en');
  assert.strictEqual(i18n.locText({ zh: '中', en: 'en' }, 'zh'), '中');
  assert.strictEqual(i18n.locText({ zh: '中' }, 'en'), '中');
  assert.strictEqual(i18n.locText({ en: 'en' }, 'zh'), 'en');
  assert.strictEqual(i18n.locText({ zh: '', en: '' }, 'zh'), '');
  for (const nothing of [null, undefined, 3, true]) assert.strictEqual(i18n.locText(nothing, 'zh'), '');
});

test('http.HttpError and http.AuthError are Errors with a name to test', () => {
  const e = new http.HttpError(409, 'taken', 'https://candor.invalid/problems/taken');
  assert.ok(e instanceof Error);
  assert.strictEqual(e.name, 'HttpError');
  assert.strictEqual(e.status, 409);
  assert.strictEqual(e.detail, 'taken');
  assert.strictEqual(e.message, 'taken');
  assert.strictEqual(e.type, 'https://candor.invalid/problems/taken');
  assert.strictEqual(new http.HttpError(500, 'x').type, '');
  assert.strictEqual(new http.HttpError(500, 'x', null).type, '');
  const a = new http.AuthError(401);
  assert.ok(a instanceof Error);
  assert.strictEqual(a.name, 'AuthError');
  assert.strictEqual(a.status, 401);
  assert.strictEqual(a.message, 'HTTP 401');
});

test('http.readProblem: problem+json, else the text, else null', async () => {
  assert.deepStrictEqual(await http.readProblem(response(404, '{"title": "Not found", "detail": "no session"}')),
    { title: 'Not found', detail: 'no session' });
  assert.deepStrictEqual(await http.readProblem(response(502, 'Bad gateway')), { detail: 'Bad gateway' });
  assert.strictEqual((await http.readProblem(response(502, 'x'.repeat(500)))).detail.length, 200);
  assert.strictEqual(await http.readProblem(response(500, '')), null);
  assert.strictEqual(await http.readProblem(response(500, new Error('reset'))), null);
});

test('http.problemDetail: detail, title, or the status', () => {
  const res = { status: 503, statusText: 'Service Unavailable' };
  assert.strictEqual(http.problemDetail({ detail: 'full', title: 'Busy' }, res), 'full');
  assert.strictEqual(http.problemDetail({ title: 'Busy' }, res), 'Busy');
  assert.strictEqual(http.problemDetail({}, res), 'HTTP 503');
  assert.strictEqual(http.problemDetail(null, res), 'HTTP 503 Service Unavailable');
  assert.strictEqual(http.problemDetail(null, { status: 500, statusText: '' }), 'HTTP 500');
});

test('http.readDetail: one line from the response', async () => {
  assert.strictEqual(await http.readDetail(response(422, '{"detail": "bad field"}')), 'bad field');
  assert.strictEqual(await http.readDetail(response(422, '{"title": "Invalid"}')), 'Invalid');
  assert.strictEqual(await http.readDetail(response(500, '{}')), 'HTTP 500');
  assert.strictEqual(await http.readDetail(response(502, 'upstream down')), 'HTTP 502: upstream down');
  assert.strictEqual(await http.readDetail(response(502, 'y'.repeat(300))), 'HTTP 502: ' + 'y'.repeat(160));
  assert.strictEqual(await http.readDetail(response(500, '')), 'HTTP 500');
  assert.strictEqual(await http.readDetail(response(500, new Error('reset'))), 'HTTP 500');
});

test('http.fetchWithTimeout: the response, the error, or a timeout that aborts', async (t) => {
  const calls = [];
  const realFetch = globalThis.fetch;
  t.after(() => { globalThis.fetch = realFetch; });

  globalThis.fetch = (url, options) => { calls.push({ url, options }); return Promise.resolve('the response'); };
  const options = { method: 'POST' };
  assert.strictEqual(await http.fetchWithTimeout('/x', options, 1000), 'the response');
  assert.strictEqual(calls[0].url, '/x');
  assert.ok(options.signal, 'an AbortSignal goes with the request');

  globalThis.fetch = () => Promise.reject(new TypeError('Failed to fetch'));
  await assert.rejects(http.fetchWithTimeout('/x', {}, 1000), /Failed to fetch/);

  let signal = null;
  globalThis.fetch = (url, opts) => { signal = opts.signal; return new Promise(() => {}); };
  await assert.rejects(http.fetchWithTimeout('/slow', {}, 20), /^Error: timeout$/);
  assert.strictEqual(signal.aborted, true);
});

test('http.parseRetryAfter: seconds or an HTTP date, NaN otherwise', () => {
  const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
  assert.strictEqual(http.parseRetryAfter('30'), 30);
  assert.strictEqual(http.parseRetryAfter(' 1.5 '), 1.5);
  assert.strictEqual(http.parseRetryAfter('0'), 0);
  assert.strictEqual(http.parseRetryAfter('Wed, 21 Oct 2015 07:28:45 GMT', now), 45);
  assert.strictEqual(http.parseRetryAfter('Wed, 21 Oct 2015 07:00:00 GMT', now), 0, 'a date gone by: now');
  for (const bad of [null, undefined, '', '   ', 'soon', 30]) {
    assert.ok(Number.isNaN(http.parseRetryAfter(bad)), String(bad));
  }
});

test('time.parseTime: epoch seconds, epoch ms or ISO; null for the rest', () => {
  const iso = '2023-11-14T22:13:20.000Z';
  assert.strictEqual(time.parseTime(1700000000).toISOString(), iso);
  assert.strictEqual(time.parseTime(1700000000000).toISOString(), iso);
  assert.strictEqual(time.parseTime(iso).toISOString(), iso);
  assert.strictEqual(time.parseTime(0).toISOString(), '1970-01-01T00:00:00.000Z');
  for (const bad of [null, undefined, '', 'not a date', NaN]) assert.strictEqual(time.parseTime(bad), null, String(bad));
});

test('time.nowMs never runs backwards', () => {
  const a = time.nowMs();
  const b = time.nowMs();
  assert.strictEqual(typeof a, 'number');
  assert.ok(b >= a);
});

test('time.backoffMs doubles from 500 ms up to the cap; jitter spreads it 80..120 %', () => {
  assert.deepStrictEqual([1, 2, 3, 4, 5, 6, 7].map((n) => time.backoffMs(n, 10000)),
    [500, 1000, 2000, 4000, 8000, 10000, 10000]);
  assert.strictEqual(time.backoffMs(1, 300), 300);
  assert.strictEqual(time.jitter(1000, 0), 800);
  assert.strictEqual(time.jitter(1000, 0.5), 1000);
  assert.strictEqual(time.jitter(1000, 0.999999), 1200);
  for (let i = 0; i < 50; i++) {
    const d = time.jitter(1000);
    assert.ok(d >= 800 && d <= 1200, String(d));
  }
});

test('num.toNumber (lenient) and num.finiteOrNull (strict) differ on numeric strings', () => {
  // the candidate page's reader: data-channel fields, with a fallback
  assert.strictEqual(num.toNumber(5, 0), 5);
  assert.strictEqual(num.toNumber('5', 0), 5);
  assert.strictEqual(num.toNumber('2.5', null), 2.5);
  assert.strictEqual(num.toNumber(0, 7), 0);
  for (const bad of [true, false, null, undefined, '', 'x', NaN, Infinity, -Infinity, {}]) {
    assert.strictEqual(num.toNumber(bad, 'fallback'), 'fallback', String(bad));
  }
  // HR's reader: event payload fields, null unless a finite number
  assert.strictEqual(num.finiteOrNull(5), 5);
  assert.strictEqual(num.finiteOrNull(0), 0);
  assert.strictEqual(num.finiteOrNull(-1.5), -1.5);
  for (const bad of ['5', true, null, undefined, '', NaN, Infinity, {}]) {
    assert.strictEqual(num.finiteOrNull(bad), null, String(bad));
  }
});

test('fmt.countdown: seconds left as mm:ss, rounded up', () => {
  const cases = [[0, '00:00'], [0.2, '00:01'], [9, '00:09'], [59.1, '01:00'], [61, '01:01'], [600, '10:00'],
    [6000, '100:00'], [-5, '00:00']];
  for (const [sec, want] of cases) assert.strictEqual(fmt.countdown(sec), want, String(sec));
  for (const bad of [null, undefined, NaN, Infinity]) assert.strictEqual(fmt.countdown(bad), '', String(bad));
});

test('fmt.wallClock: a moment as the local HH:MM:SS', () => {
  assert.strictEqual(fmt.wallClock(1700000000), '22:13:20');
  assert.strictEqual(fmt.wallClock(1700000000123), '22:13:20');
  assert.strictEqual(fmt.wallClock('2024-01-02T03:04:05Z'), '03:04:05');
  for (const bad of [null, '', 'nope']) assert.strictEqual(fmt.wallClock(bad), '', String(bad));
});

test('fmt.mediaTime: media seconds as mm:ss.s', () => {
  const cases = [[0, '00:00.0'], [2.04, '00:02.0'], [12.25, '00:12.3'], [75.2, '01:15.2'], [600, '10:00.0'], [9.96, '00:10.0'], [59.97, '01:00.0']];
  for (const [sec, want] of cases) assert.strictEqual(fmt.mediaTime(sec), want, String(sec));
  for (const bad of [null, undefined, '3', NaN, Infinity]) assert.strictEqual(fmt.mediaTime(bad), '', String(bad));
});

test('fmt.dateTime: a local date and time in the page language, or —', () => {
  const zh = fmt.dateTime('2030-01-02T03:04:05Z', 'zh');
  const en = fmt.dateTime('2030-01-02T03:04:05Z', 'en');
  assert.ok(zh.indexOf('2030') >= 0 && zh.indexOf('03:04:05') >= 0, zh);
  assert.ok(en.indexOf('2030') >= 0 && en.indexOf('03:04:05') >= 0, en);
  assert.strictEqual(fmt.dateTime(null, 'zh'), '—');
  assert.strictEqual(fmt.dateTime('nope', 'en'), '—');
});

test('fmt.fixed and fmt.share', () => {
  assert.strictEqual(fmt.fixed(1.234, 1, '°'), '1.2°');
  assert.strictEqual(fmt.fixed(2, 2), '2.00');
  assert.strictEqual(fmt.fixed(-0.55, 1), '-0.6');
  for (const bad of ['3', null, undefined, NaN, Infinity]) assert.strictEqual(fmt.fixed(bad, 1), '—', String(bad));
  assert.strictEqual(fmt.share(true, 'yes', 'no'), 'yes');
  assert.strictEqual(fmt.share(false, 'yes', 'no'), 'no');
  assert.strictEqual(fmt.share(0.456, 'yes', 'no'), '46%');
  assert.strictEqual(fmt.share(1, 'yes', 'no'), '100%');
  assert.strictEqual(fmt.share(0, 'yes', 'no'), '0%');
  for (const bad of ['0.5', null, undefined, NaN]) assert.strictEqual(fmt.share(bad, 'yes', 'no'), '—', String(bad));
});

test('store: storage that never throws', (t) => {
  const data = {};
  window.sessionStorage = {
    getItem: (k) => (k in data ? data[k] : null),
    setItem: (k, v) => { data[k] = String(v); },
    removeItem: (k) => { delete data[k]; },
  };
  Object.defineProperty(window, 'localStorage', { configurable: true, get() { throw new Error('SecurityError'); } });
  t.after(() => { delete window.sessionStorage; delete window.localStorage; });

  store.set('sessionStorage', 'k', 1);
  assert.strictEqual(store.get('sessionStorage', 'k'), '1');
  store.remove('sessionStorage', 'k');
  assert.strictEqual(store.get('sessionStorage', 'k'), null);
  // storage that throws (Safari private mode, storage turned off): nothing kept, nothing thrown
  assert.strictEqual(store.get('localStorage', 'k'), null);
  store.set('localStorage', 'k', 'v');
  store.remove('localStorage', 'k');
  assert.strictEqual(store.get('noSuchStorage', 'k'), null);
});

test('dom.$, dom.el and dom.clear', (t) => {
  function node(tag) {
    return {
      tag, className: '', textContent: '', children: [],
      get firstChild() { return this.children[0] || null; },
      appendChild(c) { this.children.push(c); return c; },
      removeChild(c) { this.children.splice(this.children.indexOf(c), 1); return c; },
    };
  }
  const byId = { banner: node('div') };
  window.document = { createElement: node, getElementById: (id) => byId[id] || null };
  t.after(() => { delete window.document; });

  assert.strictEqual(dom.$('banner'), byId.banner);
  assert.strictEqual(dom.$('none'), null);
  const a = dom.el('span', 'pill', 'live');
  assert.deepStrictEqual([a.tag, a.className, a.textContent], ['span', 'pill', 'live']);
  const b = dom.el('li', '', 0);
  assert.deepStrictEqual([b.className, b.textContent], ['', 0]);
  const c = dom.el('p', null, null);
  assert.deepStrictEqual([c.className, c.textContent], ['', '']);
  a.appendChild(b);
  a.appendChild(c);
  dom.clear(a);
  assert.strictEqual(a.children.length, 0);
});
