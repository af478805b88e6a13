'use strict';
// The automation panel's pure helpers (hr/automation.js): a rule as a line
// HR read, and a message's delivery as one line.

const test = require('node:test');
const assert = require('node:assert');
const { load } = require('./helpers');

globalThis.document = { readyState: 'loading', addEventListener: () => {} };

const Candor = load('common.js', 'hr.js', 'hr/automation.js');
const hr = Candor.hr;
const A = hr.automation;

test('a rule reads as event, delay, condition and actions, in the page language', () => {
  const rule = { id: 'remind', on: 'invited', after: '48h', if: 'not opened', do: ['remind(channel=email)'] };
  hr.ui.lang = 'zh';
  assert.strictEqual(A.describeRule(rule, hr.t), '已邀约 · 48h 后 · 如果 not opened · remind(channel=email)');
  hr.ui.lang = 'en';
  assert.strictEqual(A.describeRule(rule, hr.t), 'invited · after 48h · if not opened · remind(channel=email)');
  const mapping = { id: 'tell', on: 'interview.ended', do: [{ notify_hr: { group: 'branch_hr' } }] };
  assert.strictEqual(A.describeRule(mapping, hr.t), 'interview ended · {"notify_hr":{"group":"branch_hr"}}');
  hr.ui.lang = 'zh';
});

test('a delivery says its channel, state, attempts and the last answer (a status or an error)', () => {
  hr.ui.lang = 'zh';
  const refused = { sink: 'email', state: 'failed', total_attempts: 1, attempts_list: [{ status: 550 }] };
  assert.strictEqual(A.deliverySummary(refused, hr.t), '邮件：被拒收，尝试 1 次，最后一次 550');
  const down = { sink: 'wecom', state: 'pending', total_attempts: 2, attempts_list: [{ status: null, error: 'ConnectError' }] };
  assert.strictEqual(A.deliverySummary(down, hr.t), '企业微信应用消息：发送中，尝试 2 次，最后一次 ConnectError');
  assert.strictEqual(A.deliverySummary({ sink: 'email', state: 'pending', total_attempts: 0, attempts_list: [] }, hr.t),
    '邮件：发送中，尝试 0 次，最后一次 —');
});

test('a timeline entry written by a rule names its channel and rule; an unknown channel is shown as it is', () => {
  hr.ui.lang = 'zh';
  assert.strictEqual(A.noteLine({ details: { channel: 'wecom-robot-branch_hr', rule: 'tell_branch' } }, hr.t),
    '企业微信群（branch_hr） · 规则 tell_branch');
  assert.strictEqual(A.noteLine({ details: { rule: 'sms_invite', outcome: 'failed' } }, hr.t), '规则 sms_invite · 未完成');
  assert.strictEqual(A.noteLine({ details: { channel: 'pager' } }, hr.t), 'pager');
  assert.strictEqual(A.noteLine({ details: {} }, hr.t), '');
  hr.ui.lang = 'en';
  assert.strictEqual(A.noteLine({ details: { channel: 'wecom-external', rule: 'invite_strong' } }, hr.t),
    'WeCom (external contact) · rule invite_strong');
  hr.ui.lang = 'zh';
});

test('every event and action state has a label in both languages', () => {
  const keys = ['aev_received', 'aev_screened', 'aev_invited', 'aev_opened', 'aev_interview_started', 'aev_interview_ended',
    'aev_decided', 'aev_withdrawn', 'astate_scheduled', 'astate_done', 'astate_skipped', 'astate_failed', 'astate_cancelled',
    'dstate_pending', 'dstate_delivered', 'dstate_failed', 'dstate_dead'];
  for (const k of keys) {
    hr.ui.lang = 'zh'; const zh = hr.t(k);
    hr.ui.lang = 'en'; const en = hr.t(k);
    assert.notStrictEqual(zh, k); assert.notStrictEqual(en, k); assert.notStrictEqual(zh, en);
  }
  hr.ui.lang = 'zh';
});

test('a decided outcome reads as the decision, a screened one as the recommendation', () => {
  hr.ui.lang = 'zh';
  assert.strictEqual(hr.statusLabel('decided', 'advance'), '已决定 · 进入下一轮');
  assert.strictEqual(hr.statusLabel('screened', 'advance'), '已筛选 · 建议邀约');
  assert.strictEqual(hr.statusLabel('invited', null), '已邀约');
  hr.ui.lang = 'en';
  assert.strictEqual(hr.statusLabel('decided', 'reject'), 'decided · Reject');
  hr.ui.lang = 'zh';
});
