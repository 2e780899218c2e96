// The game page (stateful reconnect on) in headless Chromium behind a TCP proxy the test cuts:
// a blip is ridden out without ever showing "reconnecting", and the RoundEnded announced during
// it still reaches the page; when the gateway can no longer resume the connection, the page falls
// back to a new one and catches up on the result it missed from /api/rounds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { startRedis, startGateway, startScheduler, uniqueName, eventually, launchChromium } from '../harness.mjs';
import { startProxy } from '../interop/net_faults.mjs';

const ROUND_MS = 1500;
let redis;
let scheduler;
let browser;

before(async () => {
  redis = await startRedis();
  scheduler = await startScheduler(redis.url, { CLICKRACE_ROUND_MS: String(ROUND_MS) });
  browser = await launchChromium(chromium);
});

after(async () => {
  await browser?.close();
  await scheduler?.stop();
  await redis?.stop();
});

async function rig(env = {}) {
  const gw = await startGateway(redis.url, { CLICKRACE_MAX_CLICKS_PER_S: '100', ...env });
  await eventually(async () => (await fetch(`http://127.0.0.1:${gw.port}/readyz`)).status === 200);
  const proxy = await startProxy(gw.port);
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`http://127.0.0.1:${proxy.port}/`);
  await page.fill('#name', uniqueName('blip'));
  await page.fill('#password', 'correct horse battery');
  await page.click('#register');
  await page.waitForSelector('#conn-state[data-state="connected"]', { timeout: 15000 });
  // Every state the header ever shows from now on.
  await page.evaluate(() => {
    window.__states = [];
    const el = document.querySelector('#conn-state');
    new MutationObserver(() => window.__states.push(el.dataset.state))
      .observe(el, { attributes: true, attributeFilter: ['data-state'] });
  });
  const shownResult = async () => Number(await page.getAttribute('#result', 'data-round') || -1);
  return {
    gw, proxy, page, shownResult,
    async close() { await ctx.close(); proxy.close(); await gw.stop(); },
  };
}

test('a blip is ridden out: never "reconnecting", and the result announced meanwhile arrives', async () => {
  const r = await rig();
  try {
    await r.page.click('#click');
    await r.page.waitForFunction(() => Number(document.querySelector('#my-clicks').textContent) >= 1);
    const before = await r.shownResult();
    await r.proxy.blip(ROUND_MS + 500); // a round ends while the page is cut off
    await eventually(async () => (await r.shownResult()) > before, 10000);
    await r.page.click('#click');
    await r.page.waitForFunction(() => Number(document.querySelector('#my-clicks').textContent) >= 1);
    const states = await r.page.evaluate(() => window.__states);
    assert.ok(!states.includes('reconnecting') && !states.includes('offline'), `states: ${states}`);
    assert.equal(await r.page.getAttribute('#conn-state', 'data-state'), 'connected');
  } finally {
    await r.close();
  }
});

test('past the reconnect window the page reconnects anew and catches up on the missed result', async () => {
  const r = await rig({ CLICKRACE_RECONNECT_WINDOW_MS: '200' });
  try {
    const before = await r.shownResult();
    await r.proxy.blip(2 * ROUND_MS + 500);
    await r.page.waitForSelector('#conn-state[data-state="connected"]', { timeout: 20000 });
    const states = await r.page.evaluate(() => window.__states);
    assert.ok(states.includes('reconnecting'), `a new connection was made: ${states}`);
    // The newest closed round, as /api/rounds has it, is the result shown.
    const base = `http://127.0.0.1:${r.gw.port}`;
    await eventually(async () => {
      const newest = (await (await fetch(`${base}/api/rounds?limit=1`)).json())[0];
      return newest && (await r.shownResult()) >= newest.round && newest.round > before;
    }, 10000);
  } finally {
    await r.close();
  }
});
