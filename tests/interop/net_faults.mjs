// Network faults for the interop tests: a TCP proxy the test can cut (every connection reset at
// once, new ones held until the blip ends, as a phone losing its network for a moment) or make
// swallow the server's bytes; and nginx in front of several gateways, rendered from the one
// routing template (services/load-balancer) as scripts/play and the C++ LoadBalancer helper do.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, startProcess } from '../harness.mjs';

const SOURCE_DIR = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

export async function startProxy(targetPort) {
  const pairs = new Set();
  let held = null; // while a blip lasts: sockets accepted meanwhile wait here
  let swallow = false;
  const connectUpstream = (client) => {
    if (client.destroyed) return;
    const upstream = net.connect(targetPort, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => { if (!swallow && !client.destroyed) client.write(d); });
    const end = () => { pairs.delete(pair); client.destroy(); if (!pair.halfOpen) upstream.destroy(); };
    client.on('close', end);
    upstream.on('close', () => { if (!swallow) end(); else pairs.delete(pair); });
    client.on('error', end);
    upstream.on('error', end);
  };
  const server = net.createServer((client) => {
    client.pause();
    const go = () => { client.resume(); connectUpstream(client); };
    if (held) held.push(go); else go();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: server.address().port,
    get connections() { return pairs.size; },
    // Resets every connection (RST both ways) and holds new ones until release(). With
    // halfOpen only the client's side is reset: the server still holds an open socket that has
    // gone silent (a NAT or Wi-Fi change the server cannot see).
    cut({ halfOpen = false } = {}) {
      held = held || [];
      for (const pair of [...pairs]) {
        pair.halfOpen = halfOpen;
        pair.client.resetAndDestroy();
        if (!halfOpen) pair.upstream.resetAndDestroy();
      }
      pairs.clear();
    },
    release() {
      const waiting = held || [];
      held = null;
      for (const go of waiting) go();
    },
    // A blip: cut, hold new connections for `ms`, let them through.
    async blip(ms) {
      this.cut();
      await new Promise((r) => setTimeout(r, ms));
      this.release();
    },
    // While on, the server's bytes are dropped (the client hears nothing, nothing is closed).
    swallowServerBytes(on) { swallow = on; },
    close() { for (const { client, upstream } of pairs) { client.destroy(); upstream.destroy(); } server.close(); },
  };
}

export async function startNginx(gatewayPorts) {
  const dir = mkdtempSync(path.join(tmpdir(), 'clickrace-lb-'));
  const port = await freePort();
  execFileSync(path.join(SOURCE_DIR, 'services/load-balancer/render'), [dir], {
    env: {
      ...process.env,
      CLICKRACE_LB_LISTEN: `127.0.0.1:${port}`,
      CLICKRACE_LB_GATEWAYS: gatewayPorts.map((p) => `127.0.0.1:${p}`).join(' '),
    },
  });
  const proc = spawn('nginx', ['-p', dir, '-e', `${dir}/logs/nginx-error.log`, '-c', `${dir}/nginx.conf`],
    { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    try { await fetch(`http://127.0.0.1:${port}/healthz`); break; } catch { await new Promise((r) => setTimeout(r, 50)); }
  }
  return {
    port,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.on('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// A counter of the gateway's /metrics (Prometheus text), 0 if absent.
export async function metric(port, name) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

export { startProcess };
