// The official .NET SignalR client (tests/dotnet, packages pinned in its csproj and lock file)
// against the real gateway: JSON and MessagePack, typed On<T> handlers, a hosted client service
// started once under a semaphore by 50 racing callers, and stateful reconnect over three blips
// of a TCP proxy this driver cuts. Skipped when no .NET SDK is installed. Run by ctest (interop).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { startRedis, startGateway, startScheduler, login, uniqueName, eventually } from '../harness.mjs';
import { startProxy } from './net_faults.mjs';

const ROUND_MS = 1000;
const SOURCE = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const OUT = process.env.CLICKRACE_DOTNET_OUT ||
  path.resolve(process.env.CLICKRACE_BIN_DIR || path.join(SOURCE, '../build/bin'), '../dotnet-client');
const hasDotnet = spawnSync('dotnet', ['--version']).status === 0;

let redis;
let scheduler;
let gateway;
let proxy;

before(async () => {
  if (!hasDotnet) return;
  const build = spawnSync('dotnet', ['build', path.join(SOURCE, 'dotnet/ClickraceDotnetClient.csproj'),
    '-c', 'Release', '-o', OUT, '--nologo', '-v', 'q'], { encoding: 'utf8', timeout: 280000 });
  assert.equal(build.status, 0, `dotnet build: ${build.stdout}${build.stderr}`);
  redis = await startRedis();
  scheduler = await startScheduler(redis.url, { CLICKRACE_ROUND_MS: String(ROUND_MS) });
  gateway = await startGateway(redis.url, { CLICKRACE_MAX_CLICKS_PER_S: '1000' });
  await eventually(async () => (await fetch(`http://127.0.0.1:${gateway.port}/readyz`)).status === 200);
  proxy = await startProxy(gateway.port);
});

after(async () => {
  proxy?.close();
  await gateway?.stop();
  await scheduler?.stop();
  await redis?.stop();
});

test('the official .NET client: both protocols, typed handlers, hosted service, stateful reconnect',
  { skip: !hasDotnet && 'no .NET SDK' }, async () => {
    const base = `http://127.0.0.1:${gateway.port}`;
    const tokens = [];
    for (let i = 0; i < 5; i++) tokens.push(await login(base, uniqueName(`net${i}`)));
    const child = spawn('dotnet', [path.join(OUT, 'ClickraceDotnetClient.dll'), base,
      `http://127.0.0.1:${proxy.port}/hub`, tokens.join(','), String(ROUND_MS)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = [];
    const exited = new Promise((r) => child.on('exit', r));
    for await (const line of readline.createInterface({ input: child.stdout })) {
      lines.push(line);
      if (line.startsWith('BLIPS ')) {
        // Three cuts mid-round, each held long enough for a round to end meanwhile.
        for (let i = 0; i < 3; i++) {
          await new Promise((r) => setTimeout(r, 300));
          await proxy.blip(ROUND_MS + 200);
        }
        await new Promise((r) => setTimeout(r, 300));
        child.stdin.write('DONE\n');
      }
    }
    const code = await exited;
    const out = lines.join('\n');
    assert.match(out, /^5 passed, 0 failed$/m, out);
    assert.equal(code, 0, out);
  });
