// The per-account connection cap as a player meets it: with CLICKRACE_MAX_CONNECTIONS_PER_PLAYER=1
// a second tab of the same account closes the first one, which says why and offers "Play here"
// (and does not reconnect by itself, which would close the other tab in turn).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startRedis, startGateway, startScheduler, freePort, uniqueName, launchChromium } from '../harness.mjs';

const ARTIFACTS = process.env.CLICKRACE_ARTIFACTS_DIR ||
  path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../build/test-artifacts');
let redis;
let scheduler;
let gateway;
let port;
let browser;

before(async () => {
  redis = await startRedis();
  scheduler = await startScheduler(redis.url, { CLICKRACE_ROUND_MS: '5000' });
  port = await freePort();
  gateway = await startGateway(redis.url, {
    CLICKRACE_GATEWAY_PORT: String(port), CLICKRACE_MAX_CONNECTIONS_PER_PLAYER: '1',
    CLICKRACE_FAST_PASSWORD_HASH: '1',
  });
  browser = await launchChromium(chromium);
});

after(async () => {
  await browser?.close();
  await gateway?.stop();
  await scheduler?.stop();
  await redis?.stop();
});

test('a second tab beyond the cap closes the first, which says why and can take over again', async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const first = await ctx.newPage();
  const second = await ctx.newPage();
  try {
    await first.goto(`http://127.0.0.1:${port}/`);
    await first.fill('#name', uniqueName('tabs'));
    await first.fill('#password', 'correct horse battery');
    await first.click('#register');
    await first.waitForSelector('#conn-state[data-state="connected"]', { timeout: 15000 });

    await second.goto(`http://127.0.0.1:${port}/`);  // the same session, from storage
    await second.waitForSelector('#conn-state[data-state="connected"]', { timeout: 15000 });
    await first.waitForSelector('#offline-box:not([hidden])', { timeout: 10000 });
    const reason = await first.textContent('#offline-reason');
    assert.match(reason, /another tab or device \(at most 1 at once\)/);
    assert.equal(await first.textContent('#reconnect'), 'Play here');
    await first.screenshot({ path: path.join(ARTIFACTS, 'tab-closed-by-newer.png') });
    // It stays closed (no automatic reconnect that would close the second tab).
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await second.getAttribute('#conn-state', 'data-state'), 'connected');

    await first.click('#reconnect');  // "Play here": this tab takes over
    await first.waitForSelector('#conn-state[data-state="connected"]', { timeout: 15000 });
    await second.waitForSelector('#offline-box:not([hidden])', { timeout: 10000 });
    assert.match(await second.textContent('#offline-reason'), /another tab or device/);
  } finally {
    await ctx.close();
  }
});
