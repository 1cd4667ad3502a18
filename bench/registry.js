#!/usr/bin/env node
/**
 * What the registry costs at rest and under a fleet's heartbeats:
 * `node bench/registry.js [--instances 1000] [--interval 30] [--seconds 60] [--redis redis://...]`.
 *
 * Starts the registry alone in a child process (bench/lib/registry-server.js:
 * the built module when dist/ exists, else the sources through tsx), registers
 * N instances, then sends each one's heartbeat every `interval` seconds, spread
 * evenly (N / interval PUTs per second: 33/s for 1,000 instances × 30 s), over
 * keep-alive connections, as a fleet of Eureka clients would. After a warm-up
 * it measures the child's CPU time (user + system, process.cpuUsage) over a
 * window of `seconds`, first idle (registered, no heartbeats), then under the
 * heartbeats, and prints both as a share of one core. The target (issue 15):
 * under 1 % of one core for 1,000 instances × 30 s. By default the same
 * run first measures the floor, bare fastify answering the same requests with
 * nothing stored (bench/lib/registry-baseline.js), then the registry, and
 * prints the difference: what the registry adds on top of receiving that many
 * HTTP requests at all on this machine. --baseline measures the floor only,
 * --registry-only the registry only.
 *
 * Build first (`npm run build`): without dist/ the children run the sources
 * through tsx, whose loader thread counts in the process' CPU time and
 * dominates figures this small.
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

const { values: args } = parseArgs({
  options: {
    instances: { type: 'string', default: '1000' },
    interval: { type: 'string', default: '30' },
    seconds: { type: 'string', default: '60' },
    warmup: { type: 'string', default: '5' },
    redis: { type: 'string' },
    baseline: { type: 'boolean', default: false },
    'registry-only': { type: 'boolean', default: false },
  },
});
const N = Number(args.instances);
const intervalMs = Number(args.interval) * 1000;
const windowMs = Number(args.seconds) * 1000;
const warmupMs = Number(args.warmup) * 1000;

const root = fileURLToPath(new URL('..', import.meta.url));
const built = `${root}dist/src/registry/index.js`;
const viaTsx = !existsSync(built);

const app = (i) => `APP${i % 20}`; // 20 applications of N / 20 instances each
const registration = (i) => ({
  instance: { instanceId: `i-${i}`, app: app(i), hostName: `host-${i}`, ipAddr: `10.0.${i >> 8}.${i & 255}`, status: 'UP', port: { $: 8080, '@enabled': 'true' }, vipAddress: app(i).toLowerCase(), dataCenterInfo: { '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo', name: 'MyOwn' }, metadata: { zone: 'a', version: '1.2.3' } },
});

/** run starts one child (the registry, or bare fastify with `baseline`), registers N instances, and measures it idle and under the heartbeats. */
async function run(baseline) {
  const child = fork(fileURLToPath(new URL(baseline ? './lib/registry-baseline.js' : './lib/registry-server.js', import.meta.url)), {
    execArgv: [...(viaTsx ? ['--import', 'tsx'] : []), ...(process.env.REGISTRY_EXEC_ARGV ?? '').split(' ').filter(Boolean)],
    env: {
      ...process.env,
      REGISTRY_MODULE: pathToFileURL(viaTsx ? `${root}src/registry/index.ts` : built).href,
      REGISTRY_OPTIONS: JSON.stringify({ listen: { host: '127.0.0.1', port: 0 }, lease: { renewal: `${args.interval}s`, expiry: `${3 * Number(args.interval)}s`, evictEvery: '60s' }, maxInstancesPerApp: N }),
      ...(args.redis ? { REDIS_URL: args.redis } : {}),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = () => new Promise((resolve) => child.once('message', resolve));
  const { port } = await next();
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 8, pipelining: 1, keepAliveTimeout: 60_000 });
  const send = async (method, path, body) => {
    const res = await pool.request({ method, path, headers: body ? { 'content-type': 'application/json', accept: 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
    await res.body.dump();
    return res.statusCode;
  };
  for (let i = 0; i < N; i += 50) {
    const codes = await Promise.all(Array.from({ length: Math.min(50, N - i) }, (_, j) => send('POST', `/eureka/apps/${app(i + j)}`, registration(i + j))));
    if (codes.some((c) => c !== 204)) throw new Error(`registration failed: ${codes.find((c) => c !== 204)}`);
  }
  const measure = async (label, ms) => {
    child.send('start');
    await new Promise((r) => setTimeout(r, ms));
    child.send('stop');
    const m = await next();
    const cpuMs = (m.cpu.user + m.cpu.system) / 1000;
    return { label, cpuMs, share: (100 * cpuMs) / m.wallMs, wallMs: m.wallMs, state: m.state, rssMiB: m.rssMiB };
  };

  await new Promise((r) => setTimeout(r, warmupMs));
  const idle = await measure(`idle (${N} registered, no heartbeats)`, Math.min(windowMs, 20_000));

  // Heartbeats: instance i is due at (i / N) × interval into every interval.
  let sent = 0;
  let failed = 0;
  let cursor = 0;
  const t0 = performance.now();
  const ticker = setInterval(() => {
    const due = Math.floor(((performance.now() - t0) / intervalMs) * N);
    for (; cursor < due; cursor++) {
      const i = cursor % N;
      send('PUT', `/eureka/apps/${app(i)}/i-${i}`)
        .then((c) => (c === 200 ? sent++ : failed++))
        .catch(() => failed++);
    }
  }, 10);
  await new Promise((r) => setTimeout(r, warmupMs));
  const sentBefore = sent;
  const busy = await measure(`${N} instances × heartbeat every ${args.interval} s`, windowMs);
  const rate = ((sent - sentBefore) * 1000) / busy.wallMs;
  clearInterval(ticker);
  child.send('exit');
  await pool.close();
  return { idle, busy, rate, failed };
}

const line = (r) => `  ${r.label.padEnd(48)} CPU ${r.cpuMs.toFixed(0).padStart(6)} ms over ${(r.wallMs / 1000).toFixed(1)} s = ${r.share.toFixed(3)} % of one core   RSS ${r.rssMiB} MiB`;
const runs = args.baseline ? [true] : args['registry-only'] ? [false] : [true, false];
const results = {};
console.log(`registry bench (${viaTsx ? 'sources via tsx: build first, the tsx loader thread inflates these figures' : 'dist'}, node ${process.version})`);
for (const baseline of runs) {
  const r = await run(baseline);
  results[baseline ? 'floor' : 'registry'] = r;
  console.log(`${baseline ? 'floor: bare fastify, same requests, nothing stored' : `registry (store: ${r.busy.state.store})`}`);
  for (const m of [r.idle, r.busy]) console.log(line(m));
  console.log(`  heartbeats: ${r.rate.toFixed(1)}/s measured (target ${(N / (intervalMs / 1000)).toFixed(1)}/s), ${r.failed} failed${baseline ? '' : `; registry holds ${r.busy.state.instances}; self-preservation ${r.busy.state.selfPreservation.active ? 'ON' : 'off'}`}`);
}
const reg = results.registry;
if (reg) {
  console.log(`  target: the registry under 1 % of one core → ${reg.busy.share < 1 ? 'PASS' : 'FAIL'} (${reg.busy.share.toFixed(3)} %)`);
  if (results.floor) console.log(`  the registry over the floor: ${(reg.busy.share - results.floor.busy.share).toFixed(3)} % of one core under heartbeats, ${(reg.idle.share - results.floor.idle.share).toFixed(3)} % idle`);
}
