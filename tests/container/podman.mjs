// Helpers for the container tests: run podman / podman-compose as child processes, read the
// services' own endpoints from inside their containers, and time the phases.
import { spawn } from 'node:child_process';

// Runs a command; resolves {code, out, err}. Never rejects for a non-zero exit: callers decide.
export function run(cmd, args, { env = {}, input, timeoutMs = 600_000, cwd } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, ...env }, cwd, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), signal, out, err });
    });
    if (input !== undefined) child.stdin.end(input);
  });
}

// Runs a command that must succeed; otherwise throws with its output (the test's failure message).
export async function must(cmd, args, opts = {}) {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    const tail = (s) => s.split('\n').slice(-40).join('\n');
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}\n--- stdout\n${tail(r.out)}\n--- stderr\n${tail(r.err)}`);
  }
  return r;
}

// GET over plain HTTP/1.0 from inside a container (the clickrace image has bash but no curl; the
// gateways publish no port, only nginx does). Resolves {status, body}.
export async function getInside(container, port, path) {
  const script = `exec 3<>/dev/tcp/127.0.0.1/${port} && printf 'GET ${path} HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && cat <&3`;
  const r = await run('podman', ['exec', container, 'bash', '-c', script], { timeoutMs: 20_000 });
  if (r.code !== 0) return { status: 0, body: r.err };
  const m = r.out.match(/^HTTP\/1\.[01] (\d+)/);
  const body = r.out.split('\r\n\r\n').slice(1).join('\r\n\r\n');
  return { status: m ? Number(m[1]) : 0, body };
}

// One sample of a Prometheus metric without labels (0 when absent).
export function metric(text, name) {
  const m = text.match(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'm'));
  return m ? Number(m[1]) : 0;
}

// Phase timings, printed as they finish and summed at the end.
export class Timer {
  constructor(label) { this.label = label; this.start = Date.now(); this.last = this.start; this.lines = []; }
  phase(name) {
    const now = Date.now();
    const line = `${this.label}: ${name.padEnd(44)} ${((now - this.last) / 1000).toFixed(1).padStart(7)} s`;
    this.lines.push(line);
    console.log(line);
    this.last = now;
  }
  total() {
    const line = `${this.label}: ${'total'.padEnd(44)} ${((Date.now() - this.start) / 1000).toFixed(1).padStart(7)} s`;
    this.lines.push(line);
    console.log(line);
    return this.lines.join('\n');
  }
}
