// The official @microsoft/signalr client with @microsoft/signalr-protocol-msgpack (10.x, both
// unchanged) against the real hub-gateway and round-scheduler, beside a JSON client in the same
// rounds: the same methods, the same errors, the same event values. Run by ctest (label interop).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as signalR from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';
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

function connect(url, token, { messagepack = true, ...options } = {}) {
  let b = new signalR.HubConnectionBuilder()
    .withUrl(url, { accessTokenFactory: () => token, ...options })
    .withAutomaticReconnect([0, 250, 500, 1000, 1000, 1000, 2000, 2000])
    .configureLogging(signalR.LogLevel.None);
  if (messagepack) b = b.withHubProtocol(new MessagePackHubProtocol());
  return b.build();
}

// Event values as the client hands them to handlers (msgpack may give a number where JSON gives
// one too; keys and values must be the same).
function normalize(v) { return JSON.parse(JSON.stringify(v)); }

test('MessagePack: invoke Click and GetRound, send Click', async () => {
  const conn = connect(`${base}/hub`, await login(base, uniqueName('mpi')));
  await conn.start();
  try {
    assert.equal(conn.connectionId.length, 22);
    let last = 0;
    let round;
    for (let i = 0; i < 50; i++) {
      const r = await conn.invoke('Click');
      assert.deepEqual(Object.keys(r).sort(), ['clicks', 'round']);
      assert.equal(typeof r.round, 'number');
      if (r.round !== round) { round = r.round; last = 0; }
      assert.ok(r.clicks > last, `total ${r.clicks} after ${last}`);
      last = r.clicks;
    }
    const before = await conn.invoke('Click');
    await conn.send('Click');
    const afterSend = await conn.invoke('Click');
    if (afterSend.round === before.round) assert.equal(afterSend.clicks, before.clicks + 2);
    const info = await conn.invoke('GetRound');
    for (const k of ['round', 'startsAt', 'endsAt', 'serverTime', 'myClicks', 'top']) assert.ok(k in info, k);
    assert.ok(Array.isArray(info.top));
    assert.equal(typeof info.serverTime, 'number');
    assert.ok(info.serverTime > 1.7e12, '64-bit millisecond times survive');
  } finally {
    await conn.stop();
  }
});

test('MessagePack: unknown method, bad arguments and rate-limit errors', async () => {
  const conn = connect(`${base}/hub`, await login(base, uniqueName('mpe')));
  await conn.start();
  try {
    assert.ok((await conn.invoke('cLiCk')).clicks >= 1);
    await assert.rejects(conn.invoke('NoSuchMethod'), /Unknown hub method 'NoSuchMethod'/);
    await assert.rejects(conn.invoke('Click', 42), /Failed to invoke 'Click'/);
  } finally {
    await conn.stop();
  }
  // A gateway with the default 20 clicks/s: a burst of 60 gets the rate-limit error.
  const port = await freePort();
  const gw = await startGateway(redis.url, { CLICKRACE_GATEWAY_PORT: String(port) });
  const url = `http://127.0.0.1:${port}`;
  await eventually(async () => (await fetch(`${url}/readyz`)).status === 200);
  const limited = connect(`${url}/hub`, await login(url, uniqueName('mpr')));
  await limited.start();
  try {
    const results = await Promise.allSettled(Array.from({ length: 60 }, () => limited.invoke('Click')));
    const refused = results.filter((r) => r.status === 'rejected');
    assert.ok(refused.length > 0, 'some clicks refused');
    for (const r of refused) assert.match(String(r.reason), /rate limit exceeded/);
    assert.ok(results.some((r) => r.status === 'fulfilled'));
  } finally {
    await limited.stop();
    await gw.stop();
  }
});

test('MessagePack and JSON clients get the same event values in the same round', async () => {
  const mpName = uniqueName('mpv');
  const jsName = uniqueName('jsv');
  const mp = connect(`${base}/hub`, await login(base, mpName));
  const js = connect(`${base}/hub`, await login(base, jsName), { messagepack: false });
  const seen = { mp: { RoundStarted: [], RoundEnded: [], Leaderboard: [] },
    js: { RoundStarted: [], RoundEnded: [], Leaderboard: [] } };
  for (const [conn, key] of [[mp, 'mp'], [js, 'js']]) {
    for (const ev of ['RoundStarted', 'RoundEnded', 'Leaderboard']) conn.on(ev, (a) => seen[key][ev].push(a));
  }
  await Promise.all([mp.start(), js.start()]);
  try {
    const first = await mp.invoke('Click');
    await js.invoke('Click');
    await mp.invoke('Click');
    // Both see the RoundEnded of the round they clicked in, and a later RoundStarted.
    const byRound = (list, round) => list.find((r) => r.round === round);
    await eventually(() => byRound(seen.mp.RoundEnded, first.round) && byRound(seen.js.RoundEnded, first.round), 8000);
    const mpEnd = byRound(seen.mp.RoundEnded, first.round);
    const jsEnd = byRound(seen.js.RoundEnded, first.round);
    assert.deepEqual(normalize(mpEnd), normalize(jsEnd));
    for (const k of ['round', 'startedAt', 'endedAt', 'winners', 'winningClicks', 'totalClicks', 'players']) {
      assert.ok(k in mpEnd, k);
    }
    await eventually(() => seen.mp.RoundStarted.length && seen.js.RoundStarted.length, 5000);
    const started = seen.mp.RoundStarted[0];
    const jsStarted = seen.js.RoundStarted.find((r) => r.round === started.round);
    if (jsStarted) assert.deepEqual(normalize(started), normalize(jsStarted));
    await eventually(() => seen.mp.Leaderboard.length && seen.js.Leaderboard.length, 5000);
    const lb = seen.mp.Leaderboard.find((m) => seen.js.Leaderboard.some((j) => j.round === m.round && j.remainingMs === m.remainingMs));
    if (lb) {
      const jl = seen.js.Leaderboard.find((j) => j.round === lb.round && j.remainingMs === lb.remainingMs);
      assert.deepEqual(normalize(lb), normalize(jl));
    }
    for (const k of ['round', 'remainingMs', 'totalClicks', 'top']) assert.ok(k in seen.mp.Leaderboard[0], k);
  } finally {
    await Promise.all([mp.stop(), js.stop()]);
  }
});

test('MessagePack: automatic reconnect after the gateway restarts', async () => {
  const port = await freePort();
  let gw = await startGateway(redis.url, { CLICKRACE_GATEWAY_PORT: String(port) });
  const url = `http://127.0.0.1:${port}`;
  const conn = connect(`${url}/hub`, await login(url, uniqueName('mpx')));
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
    assert.ok((await conn.invoke('Click')).clicks >= 1);
  } finally {
    await conn.stop();
    await gw.stop();
  }
});
