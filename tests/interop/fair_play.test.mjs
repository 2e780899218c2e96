// Fair play (DESIGN invariant 6), tried as a cheater would, with the official @microsoft/signalr
// client: one account with many connections over two gateways must not click faster than one
// player, and one account cannot hold more than CLICKRACE_MAX_CONNECTIONS_PER_PLAYER connections.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as signalR from '@microsoft/signalr';
import { startRedis, startGateway, startScheduler, login, uniqueName, eventually } from '../harness.mjs';

const RATE = 20;  // CLICKRACE_MAX_CLICKS_PER_S
const CAP = 10;   // CLICKRACE_MAX_CONNECTIONS_PER_PLAYER
let redis;
let scheduler;
const gateways = [];
const bases = [];

before(async () => {
  redis = await startRedis();
  scheduler = await startScheduler(redis.url, { CLICKRACE_ROUND_MS: '60000' });
  for (let i = 0; i < 2; i++) {
    const gw = await startGateway(redis.url, {
      CLICKRACE_MAX_CLICKS_PER_S: String(RATE),
      CLICKRACE_MAX_CONNECTIONS_PER_PLAYER: String(CAP),
      CLICKRACE_FAST_PASSWORD_HASH: '1',
    });
    gateways.push(gw);
    bases.push(`http://127.0.0.1:${gw.port}`);
  }
  for (const base of bases) await eventually(async () => (await fetch(`${base}/readyz`)).status === 200);
});

after(async () => {
  for (const gw of gateways) await gw.stop();
  await scheduler?.stop();
  await redis?.stop();
});

function connect(base, token, events = {}) {
  const conn = new signalR.HubConnectionBuilder()
    .withUrl(`${base}/hub`, { accessTokenFactory: () => token })
    .withAutomaticReconnect([0, 250, 500, 1000])
    .configureLogging(signalR.LogLevel.None)
    .build();
  if (events.onclose) conn.onclose(events.onclose);
  if (events.onreconnecting) conn.onreconnecting(events.onreconnecting);
  return conn;
}

function redisCli(...args) {
  return execFileSync('redis-cli', ['-p', String(redis.port), ...args]).toString().trim();
}

// Clicks on every connection at `perSecond` each (invoke: waits for nothing before the next
// send) for `ms`; returns what the clients were told and the time span it covers.
async function clickFor(conns, perSecond, ms) {
  const results = { ok: 0, limited: 0, other: [], rounds: new Set() };
  const pending = [];
  const started = Date.now();
  await new Promise((resolve) => {
    const timers = conns.map((conn) => setInterval(() => {
      pending.push(conn.invoke('Click').then((r) => { results.ok++; results.rounds.add(r.round); },
        (e) => {
          if (/rate limit exceeded/.test(e.message)) results.limited++;
          else results.other.push(e.message);
        }));
    }, 1000 / perSecond));
    setTimeout(() => { timers.forEach(clearInterval); resolve(); }, ms);
  });
  await Promise.all(pending);
  results.seconds = (Date.now() - started) / 1000;
  return results;
}

test('10 connections of one account over two gateways click at one player\'s rate', async () => {
  const name = uniqueName('bot');
  const token = await login(bases[0], name);
  const conns = [];
  for (let i = 0; i < 10; i++) conns.push(connect(bases[i % 2], token));
  await Promise.all(conns.map((c) => c.start()));
  const honest = connect(bases[1], await login(bases[1], uniqueName('human')));
  await honest.start();
  try {
    const [bot, human] = await Promise.all([clickFor(conns, 40, 3000), clickFor([honest], 10, 3000)]);
    assert.deepEqual(bot.other, [], 'only rate-limit errors');
    const bound = RATE * bot.seconds + RATE;
    console.log(`bot: ${bot.ok} acknowledged, ${bot.limited} refused in ${bot.seconds.toFixed(2)} s ` +
      `(bound ${bound.toFixed(0)}); human: ${human.ok} acknowledged, ${human.limited} refused`);
    assert.ok(bot.ok <= bound, `${bot.ok} clicks acknowledged > ${RATE}·t + ${RATE} = ${bound}`);
    assert.ok(bot.ok >= RATE * 2, `the account still clicks at its rate (${bot.ok})`);
    assert.ok(bot.limited > 0);
    // Not stored either: Redis holds exactly what was acknowledged.
    let stored = 0;
    for (const round of bot.rounds) {
      stored += Number(redisCli('ZSCORE', `clickrace:round:${round}:scores`, name) || 0);
    }
    assert.equal(stored, bot.ok, 'stored == acknowledged');
    // Other players are unaffected.
    assert.equal(human.limited, 0);
    assert.deepEqual(human.other, []);
    assert.ok(human.ok >= 25, `${human.ok}`);
  } finally {
    await Promise.all([...conns, honest].map((c) => c.stop()));
  }
});

test('a connection beyond the per-account cap closes the oldest, which does not reconnect', async () => {
  const name = uniqueName('tabs');
  const token = await login(bases[0], name);
  const closed = new Map();
  const reconnecting = [];
  const conns = [];
  for (let i = 0; i < CAP; i++) {
    const conn = connect(bases[i % 2], token, {
      onclose: (e) => closed.set(i, e),
      onreconnecting: () => reconnecting.push(i),
    });
    await conn.start();  // in order: connection 0 is the oldest
    conns.push(conn);
  }
  const newest = connect(bases[1], token);
  await newest.start();
  try {
    await eventually(() => closed.has(0), 10000);
    assert.match(closed.get(0)?.message ?? '', /newer connection elsewhere \(at most 10 at once\)/);
    assert.equal(conns[0].state, signalR.HubConnectionState.Disconnected);
    // Every other connection and the newcomer keep working; nobody else was closed.
    const r = await newest.invoke('Click');
    assert.ok(r.clicks >= 1);
    for (let i = 1; i < CAP; i++) await conns[i].invoke('GetRound');
    await new Promise((res) => setTimeout(res, 1000));
    assert.deepEqual([...closed.keys()], [0]);
    assert.deepEqual(reconnecting, [], 'the evicted client must not reconnect (and evict in turn)');
    assert.equal(Number(redisCli('ZCARD', `clickrace:player:${name}:conns`)), CAP);
  } finally {
    await Promise.all([...conns, newest].map((c) => c.stop()));
  }
  // Closed connections leave the registry.
  await eventually(() => redisCli('ZCARD', `clickrace:player:${name}:conns`) === '0', 5000);
});
