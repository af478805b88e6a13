'use strict';
// Candor.whip (web_client/whip.js) on stand-ins for RTCPeerConnection and fetch.

const test = require('node:test');
const assert = require('node:assert');
const { load, response } = require('./helpers');

const Candor = load('common.js', 'whip.js');
const whip = Candor.whip;

// A peer connection stand-in: event listeners, ICE gathering, an offer.
function fakePeer(gathering) {
  const listeners = {};
  return {
    iceGatheringState: gathering || 'new',
    localDescription: null,
    listeners,
    addEventListener(type, fn) { (listeners[type] = listeners[type] || []).push(fn); },
    removeEventListener(type, fn) { listeners[type] = (listeners[type] || []).filter((f) => f !== fn); },
    fire(type, ev) { (listeners[type] || []).slice().forEach((fn) => fn(ev || {})); },
    createOffer() { return Promise.resolve({ type: 'offer', sdp: 'v=0 offer' }); },
    setLocalDescription(d) { this.localDescription = { type: d.type, sdp: d.sdp + ' with candidates' }; return Promise.resolve(); },
  };
}

function stubFetch(t, impl) {
  const real = globalThis.fetch;
  const calls = [];
  globalThis.fetch = (url, options) => { calls.push({ url, options }); return impl(url, options); };
  t.after(() => { globalThis.fetch = real; });
  return calls;
}

test('whip.linkState: connectionState, else the ICE state mapped onto it', () => {
  assert.strictEqual(whip.linkState({ connectionState: 'connected', iceConnectionState: 'checking' }), 'connected');
  assert.strictEqual(whip.linkState({ connectionState: 'failed' }), 'failed');
  assert.strictEqual(whip.linkState({ iceConnectionState: 'completed' }), 'connected');
  assert.strictEqual(whip.linkState({ iceConnectionState: 'connected' }), 'connected');
  assert.strictEqual(whip.linkState({ connectionState: '', iceConnectionState: 'checking' }), 'connecting');
  assert.strictEqual(whip.linkState({ iceConnectionState: 'disconnected' }), 'disconnected');
  assert.strictEqual(whip.linkState({}), undefined);
});

test('whip.isFatalStatus: a 4xx that trying again will not fix', () => {
  for (const s of [400, 401, 403, 404, 410, 413, 415, 422]) assert.strictEqual(whip.isFatalStatus(s), true, String(s));
  for (const s of [200, 201, 307, 408, 409, 425, 429, 500, 502, 503]) assert.strictEqual(whip.isFatalStatus(s), false, String(s));
});

test('whip.accepted: 201 Created (or 200)', () => {
  assert.strictEqual(whip.accepted({ status: 201 }), true);
  assert.strictEqual(whip.accepted({ status: 200 }), true);
  for (const s of [202, 204, 400, 503]) assert.strictEqual(whip.accepted({ status: s }), false, String(s));
});

test('whip.resourceUrl: Location resolved against the endpoint, or null', () => {
  const url = 'https://candor.example/whip/s1';
  assert.strictEqual(whip.resourceUrl(response(201, '', { Location: '/whip/s1/c9' }), url), 'https://candor.example/whip/s1/c9');
  assert.strictEqual(whip.resourceUrl(response(201, '', { Location: 'c9' }), url), 'https://candor.example/whip/c9');
  assert.strictEqual(whip.resourceUrl(response(201, '', { Location: 'https://other.example/r' }), url), 'https://other.example/r');
  assert.strictEqual(whip.resourceUrl(response(201, ''), url), null);
  // after a 307 to another node, the Location is that node's
  const moved = response(201, '', { Location: '/whip/s1/c9' });
  moved.url = 'https://node2.candor.example/whip/s1?ticket=t';
  assert.strictEqual(whip.resourceUrl(moved, url), 'https://node2.candor.example/whip/s1/c9');
});

test('whip.refusal: an HttpError with the problem and Retry-After', async () => {
  const busy = await whip.refusal(response(503,
    '{"type": "https://candor.invalid/problems/server-busy", "title": "Server busy", "detail": "all slots taken"}',
    { 'Retry-After': '7' }));
  assert.ok(busy instanceof Error);
  assert.strictEqual(busy.name, 'HttpError');
  assert.strictEqual(busy.status, 503);
  assert.strictEqual(busy.detail, 'all slots taken');
  assert.strictEqual(busy.type, 'https://candor.invalid/problems/server-busy');
  assert.strictEqual(busy.retryAfter, 7);
  const gone = await whip.refusal(response(404, 'no such session'));
  assert.strictEqual(gone.detail, 'no such session');
  assert.strictEqual(gone.type, '');
  assert.ok(Number.isNaN(gone.retryAfter));
});

test('whip.waitIceGathering: at once when complete', async () => {
  const pc = fakePeer('complete');
  await whip.waitIceGathering(pc, 10000);
  assert.deepStrictEqual(pc.listeners, {});
});

test('whip.waitIceGathering: on the last candidate, or on the state, and lets go of its listeners', async () => {
  const pc = fakePeer('gathering');
  const done = whip.waitIceGathering(pc, 10000);
  pc.fire('icecandidate', { candidate: { candidate: 'a=candidate:1' } });
  pc.fire('icecandidate', { candidate: null });
  await done;
  assert.deepStrictEqual(pc.listeners, { icegatheringstatechange: [], icecandidate: [] });

  const pc2 = fakePeer('gathering');
  const done2 = whip.waitIceGathering(pc2, 10000);
  pc2.iceGatheringState = 'complete';
  pc2.fire('icegatheringstatechange');
  await done2;
});

test('whip.waitIceGathering: gives up after the timeout', async () => {
  const pc = fakePeer('gathering');
  const started = Date.now();
  await whip.waitIceGathering(pc, 30);
  assert.ok(Date.now() - started >= 25);
  assert.deepStrictEqual(pc.listeners, { icegatheringstatechange: [], icecandidate: [] });
});

test('whip.createOffer: the local SDP once gathering is over', async () => {
  const pc = fakePeer('gathering');
  const sdp = whip.createOffer(pc, 10000);
  await new Promise((r) => setTimeout(r, 5));
  pc.fire('icecandidate', { candidate: null });
  assert.strictEqual(await sdp, 'v=0 offer with candidates');
});

test('whip.postOffer: POST application/sdp with the bearer token, no cookies, no cache', async (t) => {
  const calls = stubFetch(t, () => Promise.resolve(response(201, 'v=0 answer')));
  const res = await whip.postOffer('/whip/s1', 'tok', 'v=0 offer', 1000);
  assert.strictEqual(res.status, 201);
  assert.strictEqual(calls.length, 1);
  const { url, options } = calls[0];
  assert.strictEqual(url, '/whip/s1');
  assert.strictEqual(options.method, 'POST');
  assert.deepStrictEqual(options.headers, { Authorization: 'Bearer tok', 'Content-Type': 'application/sdp' });
  assert.strictEqual(options.body, 'v=0 offer');
  assert.strictEqual(options.credentials, 'omit');
  assert.strictEqual(options.cache, 'no-store');
});

test('whip.hangUp: DELETE with the bearer token; hangUpOnExit: keepalive, never throws', async (t) => {
  const calls = stubFetch(t, () => Promise.resolve(response(200, '')));
  await whip.hangUp('/whip/s1/c9', 'tok', 1000);
  assert.strictEqual(calls[0].url, '/whip/s1/c9');
  assert.strictEqual(calls[0].options.method, 'DELETE');
  assert.deepStrictEqual(calls[0].options.headers, { Authorization: 'Bearer tok' });
  assert.strictEqual(calls[0].options.credentials, 'omit');

  whip.hangUpOnExit('/whip/s1/c9', 'tok');
  assert.strictEqual(calls[1].options.method, 'DELETE');
  assert.strictEqual(calls[1].options.keepalive, true);

  globalThis.fetch = () => Promise.reject(new TypeError('Failed to fetch'));
  whip.hangUpOnExit('/whip/s1/c9', 'tok');
  globalThis.fetch = () => { throw new TypeError('keepalive body too large'); };
  whip.hangUpOnExit('/whip/s1/c9', 'tok');
  await new Promise((r) => setTimeout(r, 5)); // an unhandled rejection would fail the test
});

test('whip.limitVideo: caps the video sender only, where it can', () => {
  const set = [];
  function sender(kind, encodings) {
    return {
      track: kind ? { kind } : null,
      getParameters: () => ({ encodings }),
      setParameters: (p) => { set.push({ kind, p }); return Promise.resolve(); },
    };
  }
  const video = sender('video', [{}]);
  const pc = { getSenders: () => [sender('audio', [{}]), video, sender(null, [{}]), sender('video', [])] };
  whip.limitVideo(pc, { maxFramerate: 5, maxBitrate: 300000 });
  assert.strictEqual(set.length, 1);
  assert.strictEqual(set[0].kind, 'video');
  assert.strictEqual(set[0].p.encodings[0].maxBitrate, 300000);
  assert.strictEqual(set[0].p.encodings[0].maxFramerate, 5);
  // no bitrate given: the browser keeps its own
  whip.limitVideo({ getSenders: () => [sender('video', [{}])] }, { maxFramerate: 5, maxBitrate: null });
  assert.strictEqual(set[1].p.encodings[0].maxFramerate, 5);
  assert.ok(!('maxBitrate' in set[1].p.encodings[0]));
  whip.limitVideo({ getSenders: () => { throw new Error('not supported'); } }, { maxFramerate: 5 });
  whip.limitVideo({ getSenders: () => [{ track: { kind: 'video' } }] }, { maxFramerate: 5 }); // no getParameters
});
