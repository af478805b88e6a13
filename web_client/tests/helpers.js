'use strict';
// Loads web_client's classic scripts into this test process the way a page
// does: each file runs as a script in one global, which is also `window`.
// node --test runs every *.test.js file in a process of its own.

const fs = require('fs');
const path = require('path');
const vm = require('vm');

const WEB = path.resolve(__dirname, '..');

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

module.exports = { WEB, load, response };
