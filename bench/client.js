#!/usr/bin/env node
/**
 * Client library overhead: `npm run build && node bench/client.js [options]`.
 *
 * What a call through switchyard-gateway/client costs over a plain undici
 * Pool to the same single instance: CPU time of this process per request,
 * over the same request count and concurrency, both in this one process,
 * alternating rounds (pool, client, pool, client, ...) so drift of the
 * machine spreads over both. The instance is bench/lib/upstream-server.js in
 * a child process (its CPU is not counted). The client runs with its
 * defaults (round-robin, outlier detection, retry budget) over a static
 * target list of that one instance, so the figure is the per-call cost of
 * balancing, health accounting and retry bookkeeping, not of discovery.
 *
 * Plain ESM JavaScript against the built dist/, like bench/run.js.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { median, mean } from './lib/stats.js';

const { values: opts } = parseArgs({
  options: {
    requests: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '6' },
    concurrency: { type: 'string', default: '16' },
    body: { type: 'string', default: '100' },
  },
});
const REQUESTS = Number(opts.requests);
const ROUNDS = Number(opts.rounds);
const CONCURRENCY = Number(opts.concurrency);
const ROOT = join(import.meta.dirname, '..');

const { createClient } = await import(join(ROOT, 'dist/src/client/index.js'));

/** startInstance forks the benchmark upstream and resolves with its url. */
function startInstance() {
  const child = fork(join(import.meta.dirname, 'lib/upstream-server.js'), [opts.body], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  return new Promise((resolve) => child.once('message', (m) => resolve({ child, url: `http://127.0.0.1:${m.port}` })));
}

/** run sends `n` requests through `call` with CONCURRENCY loops and returns CPU µs per request and wall ms. */
async function run(call, n) {
  let next = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const loop = async () => {
    while (next++ < n) await call();
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  const cpu = process.cpuUsage(cpu0);
  return { cpuUsPerReq: (cpu.user + cpu.system) / n, wallMs: performance.now() - t0 };
}

const { child, url } = await startInstance();
const pool = new Pool(url, { connections: CONCURRENCY, keepAliveTimeout: 4000 });
const client = createClient({ discovery: { targets: { BENCH: [{ url }] } }, keepAlive: { connections: CONCURRENCY } });

const viaPool = async () => {
  const res = await pool.request({ path: '/bench', method: 'GET' });
  if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
  await res.body.dump();
};
const viaClient = async () => {
  const res = await client.request('bench', { path: '/bench' });
  if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
  await res.body.dump();
};

// Warm both paths (JIT, connections) before anything is measured.
await run(viaPool, Math.min(5000, REQUESTS));
await run(viaClient, Math.min(5000, REQUESTS));

const rows = [];
for (let r = 0; r < ROUNDS; r++) {
  const a = await run(viaPool, REQUESTS);
  const b = await run(viaClient, REQUESTS);
  rows.push({ pool: a, client: b, ratio: b.cpuUsPerReq / a.cpuUsPerReq });
  console.log(`round ${r + 1}: pool ${a.cpuUsPerReq.toFixed(1)} µs/req (${Math.round((REQUESTS / a.wallMs) * 1000)} req/s), client ${b.cpuUsPerReq.toFixed(1)} µs/req (${Math.round((REQUESTS / b.wallMs) * 1000)} req/s), ratio ${(b.cpuUsPerReq / a.cpuUsPerReq).toFixed(3)}`);
}

const ratios = rows.map((x) => x.ratio);
console.log('');
console.log(`${REQUESTS} requests × ${ROUNDS} rounds, concurrency ${CONCURRENCY}, ${opts.body}-byte body, node ${process.version}`);
console.log(`CPU µs/req: pool ${mean(rows.map((x) => x.pool.cpuUsPerReq)).toFixed(1)}, client ${mean(rows.map((x) => x.client.cpuUsPerReq)).toFixed(1)} (means)`);
console.log(`client / pool CPU per request: median ${median(ratios).toFixed(3)} (rounds: ${ratios.map((x) => x.toFixed(3)).join(', ')}); target ≤ 1.10`);

await client.close();
await pool.close();
child.kill('SIGTERM');
