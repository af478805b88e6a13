'use strict';
// The auditor's view's pure helpers (hr/audit.js): its route, the audit
// trail's and the bias audit's URLs from the filters (only what is set, the
// cursor, the format), an entry's target and details, the verify verdict;
// and that the nav needs audit.read or bias.read.

const test = require('node:test');
const assert = require('node:assert');
const { load } = require('./helpers');

globalThis.document = { readyState: 'loading', addEventListener: () => {} };

const Candor = load('common.js', 'hr.js', 'hr/signin.js', 'hr/audit.js');
const hr = Candor.hr;
const A = hr.audit;

test('routeOf: /hr/audit is the audit view', () => {
  assert.deepStrictEqual(hr.routeOf('/hr/audit'), { view: 'audit', id: null });
  assert.deepStrictEqual(hr.routeOf('/hr/audit/'), { view: 'audit', id: null });
  assert.deepStrictEqual(hr.routeOf('/hr/auditx'), { view: 'jobs', id: null });
});

test('the audit trail URL has only the set filters, then the cursor or the format', () => {
  assert.strictEqual(A.auditUrl({}, null, null), '/v1/audit');
  assert.strictEqual(A.auditUrl({ action: 'hr.sign_in', actor: ' u_1 ', to: '2026-12-06' }, null, null),
    '/v1/audit?action=hr.sign_in&actor=u_1&to=2026-12-06');
  assert.strictEqual(A.auditUrl({ action: 'hr.sign_in' }, '42', null), '/v1/audit?action=hr.sign_in&cursor=42');
  assert.strictEqual(A.auditUrl({ target_type: 'job', target_id: 'wealth manager', from: '2026-12-01' }, null, 'csv'),
    '/v1/audit?target_type=job&target_id=wealth%20manager&from=2026-12-01&format=csv');
});

test('the bias audit URL: job, dates and the format', () => {
  assert.strictEqual(A.biasUrl({ job_id: '', from: '', to: '' }, 'html'), '/v1/audits/bias?format=html');
  assert.strictEqual(A.biasUrl({ job_id: 'teller', from: '2026-11-01', to: '2026-12-01' }, 'csv'),
    '/v1/audits/bias?job_id=teller&from=2026-11-01&to=2026-12-01&format=csv');
  assert.strictEqual(A.biasUrl({ job_id: 'a&b' }, null), '/v1/audits/bias?job_id=a%26b');
});

test('an entry\'s target and details in one cell each', () => {
  assert.strictEqual(A.targetOf({ target_type: 'application', target_id: 'app_1' }), 'application app_1');
  assert.strictEqual(A.targetOf({ target_type: 'audit_log', target_id: null }), 'audit_log');
  assert.strictEqual(A.targetOf({ target_type: null }), '—');
  assert.strictEqual(A.detailsOf({ job: 'teller', bulk: true, kinds: ['email', 'phone'], entries: 3 }),
    'bulk=true entries=3 job=teller kinds=email,phone');
  assert.strictEqual(A.detailsOf({}), '');
});

test('the verify verdict: intact with the count, or the first bad entry', () => {
  hr.ui.lang = 'en';
  const ok = A.verdictOf({ ok: true, entries: 12, first_bad: null });
  assert.strictEqual(ok.ok, true);
  assert.strictEqual(hr.t(ok.key, ok.params), 'Chain intact: 12 entries');
  const bad = A.verdictOf({ ok: false, entries: 4, first_bad: { id: 5, reason: 'its hash does not match its content (the entry was edited)' } });
  assert.strictEqual(bad.ok, false);
  assert.strictEqual(hr.t(bad.key, bad.params),
    'Entry 5 does not verify: its hash does not match its content (the entry was edited) (4 entries before it check out)');
  hr.ui.lang = 'zh';
  assert.strictEqual(hr.t(ok.key, ok.params), '哈希链完整：共 12 条记录');
});

test('the nav and view need audit.read or bias.read', () => {
  hr.me = { permissions: ['self', 'bias.read'] };
  assert.strictEqual(hr.signin.can(['audit.read', 'bias.read']), true);
  assert.strictEqual(hr.signin.can('audit.read'), false);
  hr.me = { permissions: ['self', 'applications.read'] };
  assert.strictEqual(hr.signin.can(['audit.read', 'bias.read']), false);
  hr.me = null;
});

test('every string the view uses exists in both languages', () => {
  const zh = Object.keys(hr.STRINGS.zh).filter((k) => /^(audit_|bias_|nav_audit)/.test(k));
  const en = Object.keys(hr.STRINGS.en).filter((k) => /^(audit_|bias_|nav_audit)/.test(k));
  assert.ok(zh.length > 20);
  assert.deepStrictEqual(zh.sort(), en.sort());
});
