// Shared by the interop and browser tests: starts a real topology (redis-server, round-schedulers,
// hub-gateways) on free loopback ports and stops every process by pid.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const BIN_DIR = process.env.CLICKRACE_BIN_DIR ||
  path.resolve(path.dirname(new URL(import.meta.url).pathname), '../build/bin');

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const children = new Set();
process.on('exit', () => { for (const c of children) try { c.kill('SIGKILL'); } catch {} });

// Spawns a process, collects its output, resolves once `readyText` (a RegExp) appears.
export function startProcess(cmd, args, { env = {}, readyText = /listening on (\d+)/, timeoutMs = 15000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let output = '';
    let done = false;
    const timer = setTimeout(() => {
      if (!done) { done = true; child.kill('SIGKILL'); reject(new Error(`${cmd} not ready: ${output}`)); }
    }, timeoutMs);
    const onData = (chunk) => {
      output += chunk;
      const m = readyText && output.match(readyText);
      if (m && !done) {
        done = true;
        clearTimeout(timer);
        resolve(handle(child, () => output, m[1] ? Number(m[1]) : undefined));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      children.delete(child);
      if (!done) { done = true; clearTimeout(timer); reject(new Error(`${cmd} exited ${code}: ${output}`)); }
    });
  });
}

function handle(child, output, port) {
  const exited = new Promise((r) => (child.exitCode !== null ? r(child.exitCode) : child.on('exit', (code, sig) => r(code ?? sig))));
  return {
    port, child, output, exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'clickrace-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--dir', dir];
  const proc = await startProcess('redis-server', args, { readyText: /Ready to accept connections/ });
  return {
    port, url: `redis://127.0.0.1:${port}/0`,
    async stop() { await proc.stop('SIGKILL'); rmSync(dir, { recursive: true, force: true }); },
  };
}

export async function startGateway(redisUrl, env = {}) {
  const port = env.CLICKRACE_GATEWAY_PORT || (await freePort());
  return startProcess(path.join(BIN_DIR, 'hub-gateway'), [], {
    env: { CLICKRACE_REDIS_URL: redisUrl, CLICKRACE_GATEWAY_PORT: String(port), CLICKRACE_LOG_LEVEL: 'warn', ...env },
  });
}

export async function startScheduler(redisUrl, env = {}) {
  return startProcess(path.join(BIN_DIR, 'round-scheduler'), [], {
    env: { CLICKRACE_REDIS_URL: redisUrl, CLICKRACE_SCHEDULER_PORT: '0', CLICKRACE_LOG_LEVEL: 'warn', ...env },
  });
}

// Waits until `fn` returns a truthy value (or resolves to one).
export async function eventually(fn, timeoutMs = 10000, stepMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try { const v = await fn(); if (v) return v; } catch (e) { if (Date.now() >= deadline) throw e; }
    if (Date.now() >= deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

// Registers (ignoring "taken") and logs in; returns the token.
export async function login(base, name, password = 'correct horse battery') {
  const body = JSON.stringify({ name, password });
  const headers = { 'Content-Type': 'application/json' };
  const reg = await fetch(`${base}/api/accounts`, { method: 'POST', headers, body });
  if (reg.status !== 201 && reg.status !== 409) throw new Error(`register ${name}: ${reg.status} ${await reg.text()}`);
  const res = await fetch(`${base}/api/sessions`, { method: 'POST', headers, body });
  if (res.status !== 200) throw new Error(`login ${name}: ${res.status} ${await res.text()}`);
  return (await res.json()).token;
}

export function uniqueName(prefix = 'p') {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`.slice(0, 24);
}

// Debian's Chromium, headless, for the browser tests (tests/browser; toolchain.md: a downloaded
// browser cannot work here). `chromium` is playwright-core's export.
export function launchChromium(chromium) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
