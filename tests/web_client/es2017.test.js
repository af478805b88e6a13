'use strict';
// The shipped scripts stay ES2017 classic scripts: old WeCom (企业微信) and
// iOS webviews reject newer syntax, and the pages load no modules. A small
// scanner (strings, comments, templates and regular expressions skipped)
// flags the syntax newer than ES2017 that a hand-written script may slip in,
// and module syntax; its own cases are tested first.

const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const path = require('path');
const { WEB, shipped } = require('./helpers');

// Tokens after which a `/` starts a regular expression rather than a division.
const BEFORE_REGEX = new Set(['return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw',
  'case', 'do', 'else', 'yield', 'await']);

function newerSyntax(src) {
  const found = [];
  const stack = []; // open brackets; 'tpl' for a template's ${
  let i = 0;
  let line = 1;
  let prev = null; // the previous token: {kind: 'name' | 'punct' | 'value', text}
  let prev2 = null;
  const flag = (what) => found.push(line + ': ' + what);
  const token = (kind, text) => { prev2 = prev; prev = { kind, text }; };
  const count = (text) => { line += (text.match(/\n/g) || []).length; };

  function template() { // i just after ` or after the } closing a ${
    while (i < src.length) {
      const c = src[i];
      if (c === '\\') { i += 2; continue; }
      if (c === '\n') line++;
      if (c === '`') { i++; token('value', '`'); return; }
      if (c === '$' && src[i + 1] === '{') { i += 2; stack.push('tpl'); prev = null; return; }
      i++;
    }
  }

  while (i < src.length) {
    const c = src[i];
    const rest = src.slice(i, i + 4);
    if (c === '\n') { line++; i++; continue; }
    if (/\s/.test(c)) { i++; continue; }
    if (rest.startsWith('//')) { const end = src.indexOf('\n', i); i = end < 0 ? src.length : end; continue; }
    if (rest.startsWith('/*')) {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? src.length : end + 2;
      count(src.slice(i, stop));
      i = stop;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += src[j] === '\\' ? 2 : 1;
      i = j + 1;
      token('value', 'string');
      continue;
    }
    if (c === '`') { i++; template(); continue; }
    if (/[A-Za-z_$\\]/.test(c)) {
      const name = /^[\w$\\]+/.exec(src.slice(i))[0];
      i += name.length;
      const member = prev && prev.text === '.';
      if (!member) {
        if (name === 'class') flag('class (constructor functions instead: class fields are ES2022)');
        if (name === 'import' || name === 'export') flag(name + ' (modules: the pages load classic scripts)');
        if (name === 'catch' && /^\s*\{/.test(src.slice(i))) flag('catch without a binding (ES2019)');
        if (name === 'await' && prev && prev.text === 'for') flag('for await (ES2018)');
      }
      token(member ? 'value' : (BEFORE_REGEX.has(name) ? 'punct' : 'name'), name);
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1]))) {
      const num = /^(0[xXoObB][0-9a-fA-F_]+|[0-9_]*\.?[0-9_]*([eE][+-]?[0-9_]+)?)n?/.exec(src.slice(i))[0];
      i += num.length;
      if (num.indexOf('_') >= 0) flag('numeric separator ' + num + ' (ES2021)');
      if (/n$/.test(num)) flag('BigInt ' + num + ' (ES2020)');
      token('value', num);
      continue;
    }
    if (c === '/' && (prev === null || prev.kind === 'punct') && !(prev && /^[)\]}]$/.test(prev.text))) {
      let j = i + 1;
      let inClass = false;
      while (j < src.length && (inClass || src[j] !== '/')) {
        if (src[j] === '\\') j++;
        else if (src[j] === '[') inClass = true;
        else if (src[j] === ']') inClass = false;
        j++;
      }
      const body = src.slice(i + 1, j);
      const flags = /^[a-z]*/.exec(src.slice(j + 1))[0];
      i = j + 1 + flags.length;
      if (/\(\?<[=!]/.test(body)) flag('regular expression lookbehind (ES2018)');
      else if (/\(\?</.test(body)) flag('regular expression named group (ES2018)');
      if (/[sdv]/.test(flags)) flag('regular expression flag ' + flags + ' (ES2018+)');
      token('value', 'regex');
      continue;
    }
    if (c === '#') { flag('private name # (ES2022)'); i++; continue; }
    const op = /^(\.\.\.|\?\?=|\?\?|\?\.(?![0-9])|\|\|=|&&=|=>|[^\s])/.exec(src.slice(i))[0];
    i += op.length;
    if (op === '?.') flag('optional chaining ?. (ES2020)');
    else if (op === '??' || op === '??=') flag('nullish ' + op + ' (ES2020)');
    else if (op === '||=' || op === '&&=') flag('logical assignment ' + op + ' (ES2021)');
    else if (op === '...' && stack[stack.length - 1] === '{') flag('object rest / spread ... (ES2018)');
    else if (op === '*' && prev && prev.text === 'function' && prev2 && prev2.text === 'async') flag('async generator (ES2018)');
    if (op === '(' || op === '[' || op === '{') stack.push(op);
    else if (op === ')' || op === ']') stack.pop();
    else if (op === '}') {
      if (stack.pop() === 'tpl') { template(); continue; }
    }
    token('punct', op);
  }
  return found;
}

test('the scanner flags newer syntax and module syntax', () => {
  const bad = {
    'a?.b': 'optional chaining',
    'f?.()': 'optional chaining',
    'a ?? b': 'nullish ??',
    'a ??= b': 'nullish ??=',
    'a ||= b': 'logical assignment',
    'a &&= b': 'logical assignment',
    'var o = {a: 1, ...b};': 'object rest',
    'var {a, ...rest} = o;': 'object rest',
    'class A { x = 1 }': 'class',
    'class A { #x; }': 'private name',
    'import x from "y";': 'import',
    'export var a = 1;': 'export',
    'try {} catch {}': 'catch without a binding',
    'async function f() { for await (var x of y) {} }': 'for await',
    'async function* g() {}': 'async generator',
    'var n = 1_000;': 'numeric separator',
    'var n = 10n;': 'BigInt',
    'var r = /(?<y>\\d+)/;': 'named group',
    'var r = /(?<=a)b/;': 'lookbehind',
    'var r = /a.b/s;': 'flag s',
    'var s = `${{a, ...b}}`;': 'object rest',
  };
  for (const [src, what] of Object.entries(bad)) {
    const found = newerSyntax(src);
    assert.ok(found.some((f) => f.indexOf(what) >= 0), src + ' -> ' + JSON.stringify(found));
  }
});

test('the scanner lets ES2017 through', () => {
  const good = [
    'var a = b ? .5 : c;',
    'var a = b ?.5 : c;',
    'f(...args); var xs = [...a, 1]; function g(...rest) {}',
    'async function f() { await g(); }',
    'var s = "a?.b ?? c // class"; var t = \'import export\';',
    '/* a?.b ?? { ...c } class */ var x = 1;',
    '// a?.b ?? c class\nvar y = 2;',
    'var r = /\\{(\\w+)\\}/g; var q = x / 2 / y; var d = (a - b) / 1000;',
    'var r = /[?.]/.test(s) ? 1 : 2; if (/^\\/hr\\/x\\/([^\\/]+)\\/?$/.exec(p)) {}',
    'el.className = "x"; node.classList.add("a"); o.import = 1; o.class = 2;',
    'var t = `a ${b ? c : d} e`;',
    'var p = 2 ** 3; try { f(); } catch (e) { g(); }',
    'return /a/.test(x);',
  ];
  for (const src of good) assert.deepStrictEqual(newerSyntax(src), [], src);
});

test('every shipped script is ES2017 without modules', () => {
  const files = shipped(WEB);
  assert.ok(files.length >= 12, files.join(', '));
  for (const file of files) {
    const found = newerSyntax(fs.readFileSync(path.join(WEB, file), 'utf8'));
    assert.deepStrictEqual(found, [], file + ': ' + found.join('; '));
  }
});
