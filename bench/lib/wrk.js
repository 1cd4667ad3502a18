/**
 * wrk as an optional second load generator (--loader wrk): one thread,
 * fixed connections and duration, with a Lua `done` hook that prints the
 * summary and latency percentiles (µs) as one JSON line.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { which } from './procs.js';

const SCRIPT = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK_JSON {"requests":%d,"us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%f,"p90":%f,"p99":%f,"p999":%f,"max":%f,"mean":%f}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean))
end
`;

let scriptFile;

/** findWrk returns wrk's path, or undefined. */
export function findWrk() {
  return which('wrk');
}

/** runWrk runs one measurement and returns the same shape as the autocannon load generator. */
export function runWrk({ wrk, url, connections, duration, headers, cpus }) {
  scriptFile ??= (() => {
    const dir = mkdtempSync(join(os.tmpdir(), 'switchyard-bench-wrk-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const f = join(dir, 'report.lua');
    writeFileSync(f, SCRIPT);
    return f;
  })();
  const args = ['-t1', `-c${connections}`, `-d${duration}s`, '--timeout', '10s', '-s', scriptFile];
  for (const [k, v] of Object.entries(headers ?? {})) args.push('-H', `${k}: ${v}`);
  args.push(url);
  const [cmd, argv] = cpus !== undefined ? ['taskset', ['-c', cpus, wrk, ...args]] : [wrk, args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.once('exit', (code) => {
      const line = /WRK_JSON (\{.*\})/.exec(out)?.[1];
      if (code !== 0 || !line) return reject(new Error(`wrk failed (${code}):\n${out}`));
      const j = JSON.parse(line);
      const seconds = j.us / 1e6;
      const ms = (us) => us / 1000;
      resolve({
        requests: j.requests,
        seconds,
        rps: j.requests / seconds,
        ok: j.requests - j.status,
        non2xx: j.status,
        errors: j.connect + j.read + j.write,
        timeouts: j.timeout,
        bytesPerSec: NaN,
        latency: { mean: ms(j.mean), p50: ms(j.p50), p90: ms(j.p90), p99: ms(j.p99), p999: ms(j.p999), max: ms(j.max) },
        statusCodes: {},
      });
    });
    child.once('error', reject);
  });
}
