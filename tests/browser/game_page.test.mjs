// The game page in headless Chromium (Debian's, driven by playwright-core) against the real
// topology: two players in two browser contexts click different amounts and both see the same
// result; the connection state shows "reconnecting" while the gateway restarts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startRedis, startGateway, startScheduler, freePort, uniqueName, launchChromium } from '../harness.mjs';

const ROUND_MS = 4000;
const ARTIFACTS = process.env.CLICKRACE_ARTIFACTS_DIR ||
  path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../build/test-artifacts');

let redis;
let scheduler;
let gateway;
let port;
let browser;

before(async () => {
  redis = await startRedis();
  scheduler = await startScheduler(redis.url, { CLICKRACE_ROUND_MS: String(ROUND_MS) });
  port = await freePort();
  gateway = await startGateway(redis.url, {
    CLICKRACE_GATEWAY_PORT: String(port), CLICKRACE_MAX_CLICKS_PER_S: '100',
  });
  browser = await launchChromium(chromium);
});

after(async () => {
  await browser?.close();
  await gateway?.stop();
  await scheduler?.stop();
  await redis?.stop();
});

async function signUp(page, name) {
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.fill('#name', name);
  await page.fill('#password', 'correct horse battery');
  await page.click('#register');
  await page.waitForSelector('#conn-state[data-state="connected"]', { timeout: 15000 });
  await page.waitForSelector('#round[data-round]:not([data-round=""])', { timeout: 15000 });
}

async function clickTimes(page, n) {
  for (let i = 0; i < n; i++) {
    await page.click('#click');
  }
  // Wait until every click was acknowledged; returns the round they counted in.
  await page.waitForFunction((want) => Number(document.querySelector('#my-clicks').textContent) >= want, n,
    { timeout: 5000 });
  return Number(await page.getAttribute('#my-clicks', 'data-round'));
}

test('two players click, both pages show the same round result with the right winner', async () => {
  const alice = uniqueName('alice');
  const bob = uniqueName('bob');
  const ctxA = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const ctxB = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const a = await ctxA.newPage();
  const b = await ctxB.newPage();
  try {
    await signUp(a, alice);
    await signUp(b, bob);
    // Start clicking early in a round, so both players' clicks land in the same one.
    await a.waitForFunction(() => Number(document.querySelector('#countdown').dataset.remainingMs) > 2500,
      null, { timeout: ROUND_MS * 2 });
    const [roundA, roundB] = await Promise.all([clickTimes(a, 7), clickTimes(b, 3)]);
    assert.equal(roundA, roundB, 'both clicked in the same round');

    for (const page of [a, b]) {
      await page.waitForSelector(`#result[data-round="${roundA}"]`, { timeout: ROUND_MS * 3 });
      const winners = await page.$$eval('#winners [data-testid="winner"]', (els) => els.map((e) => e.dataset.name));
      assert.deepEqual(winners, [alice]);
      assert.match(await page.textContent('#winning-clicks'), /\b7\b/);
    }
    assert.equal(await a.getAttribute('#result', 'data-won'), 'true');
    assert.equal(await b.getAttribute('#result', 'data-won'), 'false');
    // The recent-rounds list picks the round up too.
    await a.waitForSelector(`#recent [data-testid="recent-row"][data-round="${roundA}"]`, { timeout: 5000 });

    mkdirSync(ARTIFACTS, { recursive: true });
    await a.screenshot({ path: path.join(ARTIFACTS, 'game-page-desktop.png'), fullPage: true });
    await b.screenshot({ path: path.join(ARTIFACTS, 'game-page-phone.png'), fullPage: true });
  } finally {
    await ctxA.close();
    await ctxB.close();
  }
});

test('the connection state shows reconnecting while the gateway restarts, then clears', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  try {
    await signUp(page, uniqueName('carol'));
    assert.equal(await gateway.stop('SIGTERM'), 0);
    await page.waitForSelector('#conn-state[data-state="reconnecting"]', { timeout: 10000 });
    gateway = await startGateway(redis.url, {
      CLICKRACE_GATEWAY_PORT: String(port), CLICKRACE_MAX_CLICKS_PER_S: '100',
    });
    await page.waitForSelector('#conn-state[data-state="connected"]', { timeout: 20000 });
    const round = await clickTimes(page, 1);
    assert.ok(round > 0);
  } finally {
    await ctx.close();
  }
});
