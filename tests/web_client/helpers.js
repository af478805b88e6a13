'use strict';
// Loads web_client's classic scripts into this test process the way a page
// does: each file runs as a script in one global, which is also `window`.
// node --test runs every *.test.js file in a process of its own.

const fs = require('fs');
const path = require('path');
const vm = require('vm');

const WEB = path.resolve(__dirname, '..', '..', 'web_client');

function load(...files) {
  globalThis.window = globalThis;
  for (const file of files) {
    const full = path.join(WEB, file);
    vm.runInThisContext(fs.readFileSync(full, 'utf8'), { filename: full });
  }
  return globalThis.Candor;
}

// A fetch Response stand-in: status, headers and a body read once as text.
function response(status, body, headers) {
  const h = headers || {};
  return {
    status: status,
    ok: status >= 200 && status < 300,
    statusText: '',
    headers: { get: (name) => (name in h ? h[name] : null) },
    text: () => (body instanceof Error ? Promise.reject(body) : Promise.resolve(body === undefined ? '' : body)),
  };
}

// The scripts the pages ship, relative to web_client/ ('hr/live.js'): every
// .js there (the tests live in tests/web_client/, outside the static mount).
function shipped(dir, prefix) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const rel = (prefix || '') + entry.name;
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') out.push(...shipped(path.join(dir, entry.name), rel + '/'));
    } else if (entry.name.endsWith('.js')) {
      out.push(rel);
    }
  }
  return out.sort();
}

module.exports = { WEB, load, response, shipped };
