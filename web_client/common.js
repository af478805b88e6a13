/* Candor: what the candidate page and the HR page share, under one global
 * namespace, window.Candor. Each page loads this file first, then its own
 * scripts (candidate.html: common.js, whip.js, candidate.js; hr.html:
 * common.js, hr.js, hr/*.js).
 *
 *   Candor.i18n   t(key, params) from a {zh, en} table, [data-i18n] nodes, {zh, en} texts
 *   Candor.http   HttpError, AuthError, RFC 9457 problem details, fetch with a timeout, Retry-After
 *   Candor.time   times from the server, a monotonic now, reconnect back-off
 *   Candor.num    the two number readers: toNumber (lenient) and finiteOrNull (strict)
 *   Candor.fmt    countdown (mm:ss), wall clock (HH:MM:SS), media time, date, numbers, shares
 *   Candor.store  localStorage / sessionStorage that never throws
 *   Candor.dom    $, el, clear
 *
 * Classic scripts, plain ES2017: no modules, no optional chaining, no `??`,
 * no class fields, so that they run in desktop browsers, Safari / iOS
 * WKWebView and the WeCom (企业微信) webview. Everything here but Candor.dom
 * and Candor.store is pure; web_client/tests/*.test.js test it with
 * `node --test`.
 */
(function (window) {
  'use strict';

  var Candor = window.Candor = window.Candor || {};

  // ---- i18n ----

  // Fill {name} placeholders from params. A placeholder without a value stays
  // as written, or becomes `missing` where one is given.
  function fill(template, params, missing) {
    return template.replace(/\{(\w+)\}/g, function (m, name) {
      if (params[name] !== undefined && params[name] !== null) return String(params[name]);
      return missing === undefined ? m : missing;
    });
  }

  // t(key, params) over a table {zh: {...}, en: {...}}; lang() names the
  // language at each call. A key missing in that language falls back to the
  // Chinese text, then to the key itself.
  function translator(strings, lang, missing) {
    return function t(key, params) {
      var table = strings[lang()] || strings.zh;
      var s = table[key] !== undefined ? table[key] : (strings.zh[key] !== undefined ? strings.zh[key] : key);
      return params ? fill(s, params, missing) : s;
    };
  }

  // The language a page can show: the one asked for when the table has it, else Chinese.
  function pickLang(strings, lang) {
    return strings[lang] ? lang : 'zh';
  }

  // <html lang> and the locale of dates.
  function htmlLang(lang) { return lang === 'zh' ? 'zh-CN' : 'en'; }
  function dateLocale(lang) { return lang === 'zh' ? 'zh-CN' : 'en-GB'; }

  // Every [data-i18n] node gets its text in the page's language.
  function applyDom(t, lang) {
    var document = window.document;
    document.documentElement.lang = htmlLang(lang);
    var nodes = document.querySelectorAll('[data-i18n]');
    for (var i = 0; i < nodes.length; i++) nodes[i].textContent = t(nodes[i].getAttribute('data-i18n'));
  }

  // A text the server sends either as a string or as {zh, en}: the page's
  // language, else the other one, else ''.
  function locText(text, lang) {
    if (typeof text === 'string') return text;
    if (!text || typeof text !== 'object') return '';
    var other = lang === 'zh' ? 'en' : 'zh';
    return text[lang] || text[other] || '';
  }

  Candor.i18n = {
    fill: fill,
    translator: translator,
    pickLang: pickLang,
    htmlLang: htmlLang,
    dateLocale: dateLocale,
    applyDom: applyDom,
    locText: locText
  };

  // ---- HTTP ----

  // A refused request: status, the problem's detail (or a short body) and type.
  function HttpError(status, detail, type) {
    this.name = 'HttpError';
    this.status = status;
    this.detail = detail;
    this.message = detail;
    this.type = typeof type === 'string' ? type : '';
  }
  HttpError.prototype = Object.create(Error.prototype);

  // 401 / 403 from an HR endpoint: sign in (again).
  function AuthError(status) {
    this.name = 'AuthError';
    this.status = status;
    this.message = 'HTTP ' + status;
  }
  AuthError.prototype = Object.create(Error.prototype);

  // The body of a refusal: the problem+json object, else {detail: the text
  // (200 characters at most)}, else null.
  async function readProblem(res) {
    var text = '';
    try { text = await res.text(); } catch (e) { return null; }
    try { return JSON.parse(text); } catch (e) { return text ? { detail: text.slice(0, 200) } : null; }
  }

  // One line for a refusal whose body readProblem read.
  function problemDetail(body, res) {
    if (body && typeof body === 'object') {
      return body.detail || body.title || ('HTTP ' + res.status);
    }
    return 'HTTP ' + res.status + (res.statusText ? ' ' + res.statusText : '');
  }

  // One line for a refusal, read from the response: the problem's detail or
  // title, else the status and the start of the body.
  async function readDetail(res) {
    var text = '';
    try { text = await res.text(); } catch (e) { /* none */ }
    try {
      var body = JSON.parse(text);
      return body.detail || body.title || ('HTTP ' + res.status);
    } catch (e) {
      return 'HTTP ' + res.status + (text ? ': ' + text.slice(0, 160) : '');
    }
  }

  // fetch that rejects with Error('timeout') after timeoutMs (and aborts the
  // request where the browser can).
  function fetchWithTimeout(url, options, timeoutMs) {
    var ctrl = typeof window.AbortController === 'function' ? new window.AbortController() : null;
    if (ctrl) options.signal = ctrl.signal;
    return new Promise(function (resolve, reject) {
      var timer = setTimeout(function () {
        if (ctrl) ctrl.abort();
        reject(new Error('timeout'));
      }, timeoutMs);
      window.fetch(url, options).then(function (res) {
        clearTimeout(timer);
        resolve(res);
      }, function (err) {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  // Retry-After: delay-seconds or an HTTP date, in seconds from now (nowMs,
  // Date.now() by default); NaN when absent or unreadable.
  function parseRetryAfter(value, nowMs) {
    if (typeof value !== 'string' || !value.trim()) return NaN;
    value = value.trim();
    if (/^\d+(\.\d+)?$/.test(value)) return parseFloat(value);
    var at = Date.parse(value);
    var now = nowMs === undefined ? Date.now() : nowMs;
    return isNaN(at) ? NaN : Math.max(0, (at - now) / 1000);
  }

  Candor.http = {
    HttpError: HttpError,
    AuthError: AuthError,
    readProblem: readProblem,
    problemDetail: problemDetail,
    readDetail: readDetail,
    fetchWithTimeout: fetchWithTimeout,
    parseRetryAfter: parseRetryAfter
  };

  // ---- time ----

  // A Date from what the server sends: epoch seconds (below 1e12), epoch
  // milliseconds or an ISO string; null for nothing or anything unreadable.
  function parseTime(v) {
    if (v === null || v === undefined || v === '') return null;
    var d = typeof v === 'number' ? new Date(v < 1e12 ? v * 1000 : v) : new Date(v);
    return isNaN(d.getTime()) ? null : d;
  }

  // Milliseconds on a clock that never jumps (the wall clock where there is none).
  function nowMs() {
    return window.performance && window.performance.now ? window.performance.now() : Date.now();
  }

  // The wait before reconnect attempt n (1, 2, ...): 500 ms, doubled each
  // attempt, at most maxMs.
  function backoffMs(n, maxMs) {
    return Math.min(maxMs, 500 * Math.pow(2, n - 1));
  }

  // ms spread over 80..120 % (random: a number in [0, 1), Math.random() by
  // default) so that many clients do not come back at once.
  function jitter(ms, random) {
    var r = random === undefined ? Math.random() : random;
    return Math.round(ms * (0.8 + 0.4 * r));
  }

  Candor.time = {
    parseTime: parseTime,
    nowMs: nowMs,
    backoffMs: backoffMs,
    jitter: jitter
  };

  // ---- numbers: two readers with two meanings ----

  // Lenient, for the candidate's data-channel messages: a number or a numeric
  // string ('12', '3.5') as a number; fallback for booleans, null, '',
  // undefined and anything not finite.
  function toNumber(v, fallback) {
    var n = Number(v);
    return typeof v !== 'boolean' && v !== null && v !== '' && isFinite(n) ? n : fallback;
  }

  // Strict, for HR's event payloads: v itself when it is a finite number,
  // else null (numeric strings included).
  function finiteOrNull(v) {
    return typeof v === 'number' && isFinite(v) ? v : null;
  }

  Candor.num = {
    toNumber: toNumber,
    finiteOrNull: finiteOrNull
  };

  // ---- formatting ----

  function two(n) { return n < 10 ? '0' + n : String(n); }

  // Seconds left as mm:ss, rounded up (a countdown shows 00:01 until it is
  // over); '' for null or anything not finite.
  function countdown(sec) {
    if (sec === null || sec === undefined || !isFinite(sec)) return '';
    var s = Math.max(0, Math.ceil(sec));
    var m = Math.floor(s / 60);
    s -= m * 60;
    return two(m) + ':' + two(s);
  }

  // A moment (see parseTime) as the local time of day, HH:MM:SS; '' when unreadable.
  function wallClock(v) {
    var d = parseTime(v);
    if (!d) return '';
    return two(d.getHours()) + ':' + two(d.getMinutes()) + ':' + two(d.getSeconds());
  }

  // Media time (seconds from the start of the candidate's media) as mm:ss.s;
  // '' when not a finite number.
  function mediaTime(sec) {
    if (typeof sec !== 'number' || !isFinite(sec)) return '';
    var tenths = Math.round(sec * 10);  // round first: 59.97 s is 01:00.0, not 00:60.0
    var m = Math.floor(tenths / 600);
    var s = (tenths - m * 600) / 10;
    return two(m) + ':' + (s < 10 ? '0' : '') + s.toFixed(1);
  }

  // A moment (see parseTime) as a local date and time in lang's locale; '—' when unreadable.
  function dateTime(v, lang) {
    var d = parseTime(v);
    return d ? d.toLocaleString(dateLocale(lang)) : '—';
  }

  // A number with `digits` decimals and a unit; '—' when not a finite number.
  function fixed(v, digits, unit) {
    if (typeof v !== 'number' || !isFinite(v)) return '—';
    return v.toFixed(digits) + (unit || '');
  }

  // A share (0..1) as a whole percentage; a boolean as yes / no; '—' otherwise.
  function share(v, yes, no) {
    if (typeof v === 'boolean') return v ? yes : no;
    if (typeof v !== 'number' || !isFinite(v)) return '—';
    return Math.round(v * 100) + '%';
  }

  Candor.fmt = {
    countdown: countdown,
    wallClock: wallClock,
    mediaTime: mediaTime,
    dateTime: dateTime,
    fixed: fixed,
    share: share
  };

  // ---- storage that never throws (Safari private mode, disabled storage) ----
  // area: 'localStorage' or 'sessionStorage'.

  Candor.store = {
    get: function (area, key) {
      try { return window[area].getItem(key); } catch (e) { return null; }
    },
    set: function (area, key, value) {
      try { window[area].setItem(key, value); } catch (e) { /* not persisted */ }
    },
    remove: function (area, key) {
      try { window[area].removeItem(key); } catch (e) { /* nothing to remove */ }
    }
  };

  // ---- DOM ----

  Candor.dom = {
    $: function (id) { return window.document.getElementById(id); },
    // A new element with a class and a text (data only ever goes in as text).
    el: function (tag, cls, text) {
      var node = window.document.createElement(tag);
      if (cls) node.className = cls;
      if (text !== undefined && text !== null) node.textContent = text;
      return node;
    },
    clear: function (node) { while (node.firstChild) node.removeChild(node.firstChild); },
    // Copy an input's text: the clipboard API, else select it and execCommand (old webviews). True if copied.
    copyInput: async function (input) {
      try {
        if (window.navigator.clipboard && window.navigator.clipboard.writeText) {
          await window.navigator.clipboard.writeText(input.value);
          return true;
        }
      } catch (e) { /* fall back below */ }
      input.focus();
      input.select();
      try { return window.document.execCommand('copy'); } catch (e) { return false; }
    }
  };
})(window);
