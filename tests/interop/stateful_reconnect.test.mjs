// Stateful reconnect with the official client (.withStatefulReconnect(), JSON and MessagePack)
// against the real gateway, through a TCP proxy the test cuts: three blips mid-round with
// invocations in flight on both sides of each cut. Every invocation completes exactly once (each
// click counted once: per round the acknowledged totals are exactly 1..n), no RoundEnded is lost
// or doubled, and the client never shows "reconnecting". The same through nginx with two
// gateways; and the documented fallback (a new connection) once the window has passed or the
// replay buffer overflowed. Run by ctest (label interop).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as signalR from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
import {
  startRedis, startGateway, startScheduler, freePort, login, uniqueName, eventually,
} from '../harness.mjs';
import WebSocket from 'ws';
import { startProxy, startNginx, metric } from './net_faults.mjs';

const ROUND_MS = 1000;
let redis;
let scheduler;

before(async () => {
  redis = await startRedis();
  scheduler = await startScheduler(redis.url, { CLICKRACE_ROUND_MS: String(ROUND_MS) });
});

after(async () => {
  await scheduler?.stop();
  await redis?.stop();
});

async function gatewayUp(env = {}) {
  const gw = await startGateway(redis.url, { CLICKRACE_MAX_CLICKS_PER_S: '1000', ...env });
  await eventually(async () => (await fetch(`http://127.0.0.1:${gw.port}/readyz`)).status === 200);
  return gw;
}

function connect(url, token, messagepack) {
  let b = new signalR.HubConnectionBuilder()
    .withUrl(url, { accessTokenFactory: () => token })
    .withStatefulReconnect()
    .withAutomaticReconnect([0, 100, 250, 500, 1000, 1000, 2000, 2000, 2000])
    .configureLogging(signalR.LogLevel.None);
  if (messagepack) b = b.withHubProtocol(new MessagePackHubProtocol());
  return b.build();
}

// Clicks `n` times without waiting (all in flight together).
const burst = (conn, n) => Array.from({ length: n }, () => conn.invoke('Click'));

// Per round, the acknowledged totals of one player's clicks must be exactly 1..n: a click executed
// twice would leave a gap, a lost completion would never resolve.
function assertCountedOnce(results) {
  const byRound = new Map();
  for (const r of results) {
    if (!byRound.has(r.round)) byRound.set(r.round, []);
    byRound.get(r.round).push(r.clicks);
  }
  for (const [round, totals] of byRound) {
    totals.sort((a, b) => a - b);
    assert.deepEqual(totals, totals.map((_, i) => i + 1), `round ${round}: totals ${totals}`);
  }
}

function assertConsecutive(rounds) {
  for (let i = 1; i < rounds.length; i++) {
    assert.equal(rounds[i], rounds[i - 1] + 1, `RoundEnded sequence ${rounds.join(',')}`);
  }
}

async function threeBlips(hubUrl, token, proxy, messagepack) {
  const conn = connect(hubUrl, token, messagepack);
  const ended = [];
  let reconnecting = 0;
  conn.on('RoundEnded', (r) => ended.push(r.round));
  conn.onreconnecting(() => reconnecting++);
  await conn.start();
  const firstId = conn.connectionId;
  const pending = [];
  try {
    pending.push(...burst(conn, 10));
    await Promise.all(pending.slice(-10));
    for (let blip = 0; blip < 3; blip++) {
      pending.push(...burst(conn, 10)); // in flight when the connection drops
      const cut = proxy.blip(ROUND_MS + 300); // long enough for a round to end meanwhile
      await new Promise((r) => setTimeout(r, 50));
      pending.push(...burst(conn, 10)); // sent while it is down: buffered by the client
      await cut;
      pending.push(...burst(conn, 5));
      await Promise.all(pending);
    }
    const results = await Promise.all(pending);
    assert.equal(results.length, 10 + 3 * 25);
    assertCountedOnce(results);
    // Every round that ended after we connected was announced exactly once, in order.
    const lastRound = results.reduce((m, r) => Math.max(m, r.round), 0);
    await eventually(() => ended.includes(lastRound), 5000);
    assertConsecutive(ended);
    assert.equal(reconnecting, 0, 'the blips never showed as reconnecting');
    assert.equal(conn.connectionId, firstId, 'the same connection throughout');
    assert.equal(conn.state, signalR.HubConnectionState.Connected);
  } finally {
    await conn.stop();
  }
}

for (const messagepack of [false, true]) {
  const protocol = messagepack ? 'MessagePack' : 'JSON';
  test(`${protocol}: three blips mid-round, every invocation once, no RoundEnded lost or doubled`, async () => {
    const gw = await gatewayUp();
    const proxy = await startProxy(gw.port);
    try {
      const base = `http://127.0.0.1:${gw.port}`;
      const token = await login(base, uniqueName(messagepack ? 'srm' : 'srj'));
      const resumedBefore = await metric(gw.port, 'clickrace_gateway_reconnects_resumed_total');
      await threeBlips(`http://127.0.0.1:${proxy.port}/hub`, token, proxy, messagepack);
      assert.equal(await metric(gw.port, 'clickrace_gateway_reconnects_resumed_total') - resumedBefore, 3);
    } finally {
      proxy.close();
      await gw.stop();
    }
  });
}

test('through nginx with two gateways: the reconnect reaches the gateway holding the buffer', async () => {
  const gws = [await gatewayUp(), await gatewayUp()];
  const lb = await startNginx(gws.map((g) => g.port));
  const proxy = await startProxy(lb.port);
  try {
    const token = await login(`http://127.0.0.1:${lb.port}`, uniqueName('srn'));
    for (const messagepack of [false, true]) {
      await threeBlips(`http://127.0.0.1:${proxy.port}/hub`, token, proxy, messagepack);
    }
    const resumed = await Promise.all(gws.map((g) => metric(g.port, 'clickrace_gateway_reconnects_resumed_total')));
    assert.equal(resumed[0] + resumed[1], 6, `resumed per gateway: ${resumed}`);
  } finally {
    proxy.close();
    await lb.stop();
    for (const g of gws) await g.stop();
  }
});

test('a reconnect while the gateway still holds the old socket (half-open) takes the connection over', async () => {
  const gw = await gatewayUp();
  const proxy = await startProxy(gw.port);
  const base = `http://127.0.0.1:${gw.port}`;
  const conn = connect(`http://127.0.0.1:${proxy.port}/hub`, await login(base, uniqueName('srh')), true);
  let reconnecting = 0;
  conn.onreconnecting(() => reconnecting++);
  await conn.start();
  try {
    const id = conn.connectionId;
    const results = await Promise.all(burst(conn, 5));
    const inFlight = burst(conn, 5);
    proxy.cut({ halfOpen: true }); // the gateway's socket stays open and silent
    proxy.release();
    results.push(...await Promise.all([...inFlight, ...burst(conn, 5)]));
    assertCountedOnce(results);
    assert.equal(reconnecting, 0);
    assert.equal(conn.connectionId, id);
    assert.equal(await metric(gw.port, 'clickrace_gateway_reconnects_resumed_total'), 1);
    // The old socket was dropped by the gateway: one connection open.
    assert.equal(await metric(gw.port, 'clickrace_gateway_connections'), 1);
  } finally {
    await conn.stop();
    proxy.close();
    await gw.stop();
  }
});

// The fallback: the gateway no longer holds the connection, the reconnect gets 404, and the
// official client starts a new connection (automatic reconnect: reconnecting, then reconnected).
async function expectFallback(conn, proxy, cause) {
  let reconnecting = 0;
  let reconnected = 0;
  conn.onreconnecting(() => reconnecting++);
  conn.onreconnected(() => reconnected++);
  const firstId = conn.connectionId;
  await cause();
  await eventually(() => reconnected > 0, 15000);
  assert.ok(reconnecting > 0);
  assert.notEqual(conn.connectionId, firstId, 'a new connection');
  const r = await conn.invoke('Click');
  assert.ok(r.clicks >= 1);
}

test('a reconnect after the window passed falls back to a new connection', async () => {
  const gw = await gatewayUp({ CLICKRACE_RECONNECT_WINDOW_MS: '200' });
  const proxy = await startProxy(gw.port);
  const conn = connect(`http://127.0.0.1:${proxy.port}/hub`, await login(`http://127.0.0.1:${gw.port}`, uniqueName('srw')), false);
  await conn.start();
  try {
    await conn.invoke('Click');
    await expectFallback(conn, proxy, () => proxy.blip(1500));
    assert.ok(await metric(gw.port, 'clickrace_gateway_reconnects_expired_total') >= 1);
    assert.ok(await metric(gw.port, 'clickrace_gateway_reconnects_refused_total') >= 1);
  } finally {
    await conn.stop();
    proxy.close();
    await gw.stop();
  }
});

test('a reconnect that reaches a restarted gateway (token still fresh) falls back to a new connection', async () => {
  const port = await freePort();
  let gw = await gatewayUp({ CLICKRACE_GATEWAY_PORT: String(port) });
  const proxy = await startProxy(port);
  const conn = connect(`http://127.0.0.1:${proxy.port}/hub`, await login(`http://127.0.0.1:${port}`, uniqueName('srg')), false);
  await conn.start();
  try {
    await conn.invoke('Click');
    await expectFallback(conn, proxy, async () => {
      proxy.cut();
      await gw.stop('SIGKILL'); // gone with its buffers, no Close sent
      gw = await gatewayUp({ CLICKRACE_GATEWAY_PORT: String(port) });
      proxy.release(); // the reconnect's Sequence reaches a gateway that never held it
    });
    assert.ok(await metric(port, 'clickrace_gateway_reconnects_refused_total') >= 1);
  } finally {
    await conn.stop();
    proxy.close();
    await gw.stop();
  }
});

test('a reconnect after the replay buffer overflowed falls back to a new connection', async () => {
  const gw = await gatewayUp({ CLICKRACE_RECONNECT_BUFFER_BYTES: '1024' });
  const proxy = await startProxy(gw.port);
  const conn = connect(`http://127.0.0.1:${proxy.port}/hub`, await login(`http://127.0.0.1:${gw.port}`, uniqueName('sro')), true);
  await conn.start();
  try {
    await conn.invoke('Click');
    await expectFallback(conn, proxy, async () => {
      // The client hears nothing, so it acknowledges nothing: 60 completions pass 1024 bytes.
      proxy.swallowServerBytes(true);
      const lost = burst(conn, 60).map((p) => p.catch((e) => e));
      await eventually(async () => (await metric(gw.port, 'clickrace_gateway_reconnects_overflowed_total')) >= 1, 5000);
      proxy.swallowServerBytes(false);
      await proxy.blip(100);
      // Invocations of the given-up connection fail (the client was told nothing about them).
      for (const e of await Promise.all(lost)) assert.ok(e instanceof Error || typeof e === 'object');
    });
  } finally {
    await conn.stop();
    proxy.close();
    await gw.stop();
  }
});

// Raw WebSockets: what negotiate offers, and who may resume a connection. The connection token
// alone is not enough: the resuming upgrade needs the same player's login too.
function upgrade(port, query, login) {
  return new Promise((resolve) => {
    const headers = login ? { Authorization: `Bearer ${login}` } : {};
    const ws = new WebSocket(`ws://127.0.0.1:${port}/hub?${query}`, { headers });
    // Collected from the start: what the server sends on open may arrive with the 101.
    ws.messages = [];
    ws.waiters = [];
    ws.on('message', (data) => {
      const w = ws.waiters.shift();
      if (w) w(data.toString()); else ws.messages.push(data.toString());
    });
    ws.on('open', () => resolve({ status: 101, ws }));
    ws.on('unexpected-response', (req, res) => { resolve({ status: res.statusCode }); req.destroy(); });
    ws.on('error', () => resolve({ status: 0 }));
  });
}

function nextMessage(ws) {
  if (ws.messages.length) return Promise.resolve(ws.messages.shift());
  return new Promise((resolve) => ws.waiters.push(resolve));
}

test('negotiate offers stateful reconnect only when asked; only the same player resumes', async () => {
  const gw = await gatewayUp();
  const off = await gatewayUp({ CLICKRACE_STATEFUL_RECONNECT: 'false' });
  try {
    const base = `http://127.0.0.1:${gw.port}`;
    const alice = await login(base, uniqueName('sra'));
    const bob = await login(base, uniqueName('srb'));
    const negotiate = async (port, query) => (await fetch(`http://127.0.0.1:${port}/hub/negotiate?negotiateVersion=1${query}`,
      { method: 'POST', headers: { Authorization: `Bearer ${alice}` } })).json();
    assert.equal('useStatefulReconnect' in await negotiate(gw.port, ''), false);
    assert.equal('useStatefulReconnect' in await negotiate(off.port, '&useStatefulReconnect=true'), false);
    const n = await negotiate(gw.port, '&useStatefulReconnect=true');
    assert.equal(n.useStatefulReconnect, true);

    const RS = '\x1e';
    const first = await upgrade(gw.port, `id=${n.connectionToken}`, alice);
    assert.equal(first.status, 101);
    first.ws.send(`{"protocol":"json","version":2}${RS}`);
    assert.equal(await nextMessage(first.ws), `{}${RS}`);
    first.ws.send(`{"type":1,"invocationId":"1","target":"Click","arguments":[]}${RS}`);
    let done;
    do done = await nextMessage(first.ws); while (/"type":[68]/.test(done)); // skip Ping, Ack
    assert.match(done, /"invocationId":"1","result":\{"round":\d+,"clicks":1\}/);
    first.ws.terminate(); // no Close: the connection waits for its client
    await eventually(async () => (await metric(gw.port, 'clickrace_gateway_connections')) === 0);

    assert.equal((await upgrade(gw.port, `id=${n.connectionToken}`, bob)).status, 401, "another player's login");
    assert.equal((await upgrade(gw.port, `id=${n.connectionToken}`, null)).status, 401, 'no login');
    const again = await upgrade(gw.port, `id=${n.connectionToken}`, alice);
    assert.equal(again.status, 101);
    // No handshake on a resume: our Sequence first, then the unacknowledged completion again.
    again.ws.send(`{"type":9,"sequenceId":2}${RS}`);
    const text = await nextMessage(again.ws);
    assert.ok(text.startsWith(`{"type":9,"sequenceId":1}${RS}`), text);
    assert.match(text, /"invocationId":"1","result":\{"round":\d+,"clicks":1\}/);
    again.ws.close();
  } finally {
    await off.stop();
    await gw.stop();
  }
});
