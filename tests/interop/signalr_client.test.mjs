// The official @microsoft/signalr client (10.x, unchanged) against the real hub-gateway and
// round-scheduler, with a real redis-server. Run by ctest (label interop).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as signalR from '@microsoft/signalr';
import {
  startRedis, startGateway, startScheduler, freePort, login, uniqueName, eventually,
} from '../harness.mjs';

const ROUND_MS = 1000;
let redis;
let scheduler;
let gateway;
let base;

before(async () => {
  redis = await startRedis();
  scheduler = await startScheduler(redis.url, { CLICKRACE_ROUND_MS: String(ROUND_MS) });
  gateway = await startGateway(redis.url, { CLICKRACE_MAX_CLICKS_PER_S: '1000' });
  base = `http://127.0.0.1:${gateway.port}`;
  await eventually(async () => (await fetch(`${base}/readyz`)).status === 200);
});

after(async () => {
  await gateway?.stop();
  await scheduler?.stop();
  await redis?.stop();
});

function connect(url, token, options = {}) {
  return new signalR.HubConnectionBuilder()
    .withUrl(url, { accessTokenFactory: () => token, ...options })
    .withAutomaticReconnect([0, 250, 500, 1000, 1000, 1000, 2000, 2000])
    .configureLogging(signalR.LogLevel.None)
    .build();
}

test('invoke Click 100 times gives increasing totals; send Click counts too', async () => {
  const token = await login(base, uniqueName('inv'));
  const conn = connect(`${base}/hub`, token);
  await conn.start();
  try {
    assert.ok(conn.connectionId, 'negotiate gave a connection id');
    let last = 0;
    let round;
    for (let i = 0; i < 100; i++) {
      const r = await conn.invoke('Click');
      assert.equal(typeof r.round, 'number');
      if (r.round !== round) { round = r.round; last = 0; }
      assert.ok(r.clicks > last, `total ${r.clicks} after ${last}`);
      last = r.clicks;
    }
    // A non-blocking send gets no reply but is counted: the next invoke in the same round sees it.
    const before = await conn.invoke('Click');
    await conn.send('Click');
    const afterSend = await conn.invoke('Click');
    if (afterSend.round === before.round) assert.equal(afterSend.clicks, before.clicks + 2);
    const info = await conn.invoke('GetRound');
    for (const k of ['round', 'startsAt', 'endsAt', 'serverTime', 'myClicks', 'top']) assert.ok(k in info, k);
    assert.ok(Array.isArray(info.top));
  } finally {
    await conn.stop();
  }
});

test('method names are case-insensitive and unknown methods get the .NET error', async () => {
  const conn = connect(`${base}/hub`, await login(base, uniqueName('case')));
  await conn.start();
  try {
    const r = await conn.invoke('click');
    assert.ok(r.clicks >= 1);
    await assert.rejects(conn.invoke('NoSuchMethod'), /Unknown hub method 'NoSuchMethod'/);
    await assert.rejects(conn.invoke('Click', 42), /Failed to invoke 'Click'/);
  } finally {
    await conn.stop();
  }
});

test('every client receives RoundEnded with its clicks counted', async () => {
  const name = uniqueName('win');
  const conn = connect(`${base}/hub`, await login(base, name));
  const ended = [];
  const started = [];
  conn.on('RoundEnded', (r) => ended.push(r));
  conn.on('RoundStarted', (r) => started.push(r));
  await conn.start();
  try {
    const first = await conn.invoke('Click');
    for (let i = 0; i < 4; i++) await conn.invoke('Click');
    const result = await eventually(() => ended.find((r) => r.round >= first.round), 5000);
    for (const k of ['round', 'startedAt', 'endedAt', 'winners', 'winningClicks', 'totalClicks', 'players']) {
      assert.ok(k in result, k);
    }
    assert.ok(Array.isArray(result.winners));
    assert.equal(result.endedAt - result.startedAt, ROUND_MS);
    await eventually(() => started.length > 0, 5000);
  } finally {
    await conn.stop();
  }
});

test('skipNegotiation connects straight over WebSockets', async () => {
  const conn = connect(`${base}/hub`, await login(base, uniqueName('skip')), {
    skipNegotiation: true, transport: signalR.HttpTransportType.WebSockets,
  });
  await conn.start();
  try {
    assert.equal(conn.connectionId, null);
    const r = await conn.invoke('Click');
    assert.ok(r.clicks >= 1);
  } finally {
    await conn.stop();
  }
});

test('a bad or missing token is refused with 401', async () => {
  const conn = connect(`${base}/hub`, 'not-a-token');
  await assert.rejects(conn.start(), /401/);
  const res = await fetch(`${base}/hub/negotiate?negotiateVersion=1`, { method: 'POST' });
  assert.equal(res.status, 401);
});

test('automatic reconnect after the gateway restarts', async () => {
  const port = await freePort();
  let gw = await startGateway(redis.url, { CLICKRACE_GATEWAY_PORT: String(port) });
  const url = `http://127.0.0.1:${port}`;
  const conn = connect(`${url}/hub`, await login(url, uniqueName('rec')));
  let reconnecting = 0;
  let reconnected = 0;
  conn.onreconnecting(() => reconnecting++);
  conn.onreconnected(() => reconnected++);
  await conn.start();
  try {
    await conn.invoke('Click');
    assert.equal(await gw.stop('SIGTERM'), 0, 'gateway exits 0 on SIGTERM');
    await eventually(() => reconnecting > 0, 5000);
    gw = await startGateway(redis.url, { CLICKRACE_GATEWAY_PORT: String(port) });
    await eventually(() => reconnected > 0, 15000);
    assert.equal(conn.state, signalR.HubConnectionState.Connected);
    const r = await conn.invoke('Click');
    assert.ok(r.clicks >= 1);
  } finally {
    await conn.stop();
    await gw.stop();
  }
});
