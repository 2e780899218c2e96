// The realism check of scripts/bench: the official @microsoft/signalr client (unchanged), N clients
// each invoking Click() R times a second on its own timer (a player's page: one invocation per
// frame, never waiting for the previous answer), for D seconds. Latency is measured from the timer
// tick to the completion. Writes a result in clickrace-loadgen's openloop JSON shape, so
// `clickrace-loadgen report` tables it beside the C++ generator's runs.
//
// node tests/bench/js-clients.mjs --url http://127.0.0.1:PORT [--clients 50] [--rate 10]
//   [--duration 10] [--warmup 1] [--gateway-pids P] [--redis-pid P] [--server-kind clickrace]
//   [--label js-clients] [--json OUT] [--prefix jsc]
import { readFileSync, writeFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import * as signalR from '@microsoft/signalr';

const args = { clients: 50, rate: 10, duration: 10, warmup: 1, 'server-kind': 'clickrace', label: 'js-clients', prefix: 'jsc' };
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const url = args.url;
if (!url) { console.error('--url is required'); process.exit(64); }
const clients = Number(args.clients);
const rate = Number(args.rate);
const durationS = Number(args.duration);
const warmupS = Number(args.warmup);
const gatewayPids = (args['gateway-pids'] ?? '').split(',').filter(Boolean).map(Number);
const redisPid = args['redis-pid'] ? Number(args['redis-pid']) : 0;
const ticks = Number(execSync('getconf CLK_TCK').toString().trim()) || 100;

const cpuUs = (pid) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1e6) / ticks; // utime, stime (fields 14, 15)
  } catch { return NaN; }
};
const metrics = async () => {
  if (args['server-kind'] !== 'clickrace') return {};
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const m = {};
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      const sp = line.lastIndexOf(' ');
      m[line.slice(0, sp)] = Number(line.slice(sp + 1));
    }
    return m;
  } catch { return {}; }
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function login(name) {
  const body = JSON.stringify({ name, password: 'bench-password-1' });
  const headers = { 'content-type': 'application/json' };
  const reg = await fetch(`${url}/api/accounts`, { method: 'POST', headers, body });
  if (reg.status !== 201 && reg.status !== 409) throw new Error(`register ${name}: HTTP ${reg.status}`);
  const res = await fetch(`${url}/api/sessions`, { method: 'POST', headers, body });
  if (res.status !== 200) throw new Error(`login ${name}: HTTP ${res.status}`);
  return (await res.json()).token;
}

const conns = [];
for (let i = 0; i < clients; i++) {
  const token = await login(`${args.prefix}-${i}`);
  const c = new signalR.HubConnectionBuilder()
    .withUrl(`${url}/hub`, { accessTokenFactory: () => token })
    .configureLogging(signalR.LogLevel.None)
    .build();
  await c.start();
  conns.push(c);
}

let measuring = false;
let sent = 0;
let acked = 0;
let errors = 0;
let offered = 0;
const latencies = [];
const timers = conns.map((c, i) => {
  // Players are not synchronized: each page's timer starts at its own phase.
  const start = () => setInterval(() => {
    const t0 = performance.now();
    const inWindow = measuring;
    if (inWindow) { offered++; sent++; }
    c.invoke('Click').then(() => {
      if (inWindow) { acked++; latencies.push(performance.now() - t0); }
    }, () => { if (inWindow) errors++; });
  }, 1000 / rate);
  return setTimeout(() => { timers[i] = start(); }, Math.random() * (1000 / rate));
});

await sleep(warmupS * 1000);
const pids = [...gatewayPids, ...(redisPid ? [redisPid] : [])];
const cpu0 = pids.map(cpuUs);
const self0 = process.cpuUsage();
const m0 = await metrics();
const w0 = performance.now();
measuring = true;
await sleep(durationS * 1000);
measuring = false;
const windowS = (performance.now() - w0) / 1000;
const cpu1 = pids.map(cpuUs);
const self1 = process.cpuUsage(self0);
const m1 = await metrics();
timers.forEach((t) => { clearTimeout(t); clearInterval(t); });
await sleep(1000); // answers of the window's last clicks
await Promise.all(conns.map((c) => c.stop()));

latencies.sort((a, b) => a - b);
const q = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] * 1000 : 0);
const results = {
  server_kind: args['server-kind'],
  arrivals: 'official-js',
  window_s: windowS,
  connections_open: conns.length,
  offered_per_s_target: clients * rate,
  offered_per_s: offered / windowS,
  sent_per_s: sent / windowS,
  acked,
  acked_per_s: acked / windowS,
  click_errors: errors,
  latency_us: { p50: q(0.5), p99: q(0.99), p999: q(0.999), max: latencies.length ? latencies.at(-1) * 1000 : 0 },
  loadgen_cpu_us_per_click: acked ? (self1.user + self1.system) / acked : null,
};
if (acked && pids.length) {
  let total = 0;
  results.server_cpu = {};
  pids.forEach((p, i) => {
    const d = cpu1[i] - cpu0[i];
    total += d;
    results.server_cpu[i < gatewayPids.length ? `gateway${i + 1}` : 'redis'] = { cpu_s: d / 1e6, us_per_click: d / acked };
  });
  results.server_cpu_us_per_click = total / acked;
}
const batches = (m1.clickrace_gateway_click_batches_total ?? 0) - (m0.clickrace_gateway_click_batches_total ?? 0);
if (batches > 0) {
  results.clicks_per_batch = (m1.clickrace_gateway_clicks_accepted_total - m0.clickrace_gateway_clicks_accepted_total) / batches;
}
const out = {
  scenario: 'openloop',
  label: args.label,
  params: { connections: clients, click_rate: clients * rate, arrivals: 'official-js', gateways: 1, client: '@microsoft/signalr' },
  results,
};
if (args.json) writeFileSync(args.json, JSON.stringify(out, null, 2) + '\n');
console.log(`RESULT ${args.label} offered_per_s=${results.offered_per_s.toFixed(0)} acked_per_s=${results.acked_per_s.toFixed(0)} ` +
  `p50_us=${q(0.5).toFixed(0)} p99_us=${q(0.99).toFixed(0)} server_us_per_click=${(results.server_cpu_us_per_click ?? -1).toFixed(2)} errors=${errors}`);
process.exit(0);
