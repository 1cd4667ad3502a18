#!/usr/bin/env node
/**
 * Does a discovered pool cost anything per request? (issue 15)
 * `node bench/discovery.js [--upstreams 3] [--rounds 3] [--duration 5] [--connections 50]`.
 *
 * One gateway process serves two routes over the same upstream servers:
 * `/static/*` → a pool with `targets:`, `/disc/*` → a pool with
 * `discover: { registry: BENCH }`, filled by registering the same servers with
 * the gateway's own registry over its REST API (and heartbeating them). The
 * load generator (autocannon, as in bench/run.js) alternates between the two
 * in rounds (static, discovered, then discovered, static, ...: ABBA, so a
 * drift of the machine's load over the run falls on both alike), and the
 * gateway's CPU time is read from /proc for each round. Prints requests per
 * second and CPU per request for each, and the discovered/static ratios, of
 * the means and round by round: the target is the medians within 5 %. The
 * gateway is pinned to CPU 0 when taskset exists (bench/lib/procs.js
 * cpuPlan); it runs the built CLI (dist/) when there is one, else the sources
 * through tsx (slower for both: compare the ratio, not the absolute figures).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { mean, median } from './lib/stats.js';
import { cpuMsOf, cpuPlan, freePort, launch, launchNode, nextMessage, stop, waitHttp } from './lib/procs.js';
import { ROOT, servingFlags } from './lib/gateway.js';

const { values: args } = parseArgs({
  options: {
    upstreams: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    connections: { type: 'string', default: '50' },
  },
});
const UPSTREAMS = Number(args.upstreams);
const ROUNDS = Number(args.rounds);
const DURATION = Number(args.duration);
const CONNECTIONS = Number(args.connections);

const plan = cpuPlan();
const children = [];
const track = (c) => (children.push(c), c);
let dir;

async function main() {
  const ports = [];
  for (let i = 0; i < UPSTREAMS; i++) {
    const up = track(launchNode(join(ROOT, 'bench/lib/upstream-server.js'), ['100'], { cpus: plan.rest, name: `upstream-${i}` }));
    ports.push((await nextMessage(up, 'ready')).port);
  }
  const [port, adminPort, registryPort] = [await freePort(), await freePort(), await freePort()];
  dir = mkdtempSync(join(os.tmpdir(), 'switchyard-bench-discovery-'));
  mkdirSync(join(dir, 'routes'));
  const gateway = {
    listen: { host: '127.0.0.1', port },
    admin: { host: '127.0.0.1', port: adminPort },
    routes: './routes',
    log: { level: 'warn', accessLog: false, pretty: false },
    reload: { watch: false },
    shutdownTimeout: '5s',
    discovery: { registry: { listen: { host: '127.0.0.1', port: registryPort } } }, // Eureka's lease defaults (30 s / 90 s)
  };
  // The two pools are identical but for where their targets come from.
  const pool = { balancer: 'round-robin' };
  const routes = {
    routes: [
      { id: 'static', match: { path: '/static/*' }, upstream: 'static' },
      { id: 'disc', match: { path: '/disc/*' }, upstream: 'disc' },
    ],
    upstreams: {
      static: { ...pool, targets: ports.map((p) => ({ url: `http://127.0.0.1:${p}` })) },
      disc: { ...pool, discover: { registry: 'BENCH' } },
    },
  };
  writeFileSync(join(dir, 'gateway.yaml'), JSON.stringify(gateway, null, 2));
  writeFileSync(join(dir, 'routes', 'bench.json'), JSON.stringify(routes, null, 2));

  const built = join(ROOT, 'dist/src/cli/index.js');
  const viaTsx = !existsSync(built);
  const cli = viaTsx ? ['--import', 'tsx', join(ROOT, 'src/cli/index.ts')] : [...(await servingFlags(built)), built];
  const gw = track(launch(process.execPath, [...cli, 'start', '--config', join(dir, 'gateway.yaml'), '--workers', '1'], { cpus: plan.proxy, env: { NODE_ENV: 'production' }, name: 'gateway' }));
  await waitHttp(`http://127.0.0.1:${port}/static/x`, { child: gw, timeoutMs: 60_000 });

  // Register the same servers with the gateway's registry, and keep their leases.
  const eureka = `http://127.0.0.1:${registryPort}/eureka/apps/BENCH`;
  const register = (p) =>
    fetch(eureka, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instance: { instanceId: `bench-${p}`, app: 'BENCH', hostName: 'localhost', ipAddr: '127.0.0.1', status: 'UP', port: { $: p, '@enabled': true }, dataCenterInfo: { '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo', name: 'MyOwn' } } }),
    }).then((r) => {
      if (r.status !== 204) throw new Error(`registration of ${p}: ${r.status}`);
    });
  for (const p of ports) await register(p);
  const beats = setInterval(() => ports.forEach((p) => fetch(`${eureka}/bench-${p}`, { method: 'PUT' }).catch(() => undefined)), 20_000);
  await waitHttp(`http://127.0.0.1:${port}/disc/x`, { child: gw, timeoutMs: 10_000 });
  const up = await (await fetch(`http://127.0.0.1:${adminPort}/upstreams`)).json();
  const disc = up.upstreams.find((u) => u.name === 'disc');
  if (disc.targets.length !== UPSTREAMS) throw new Error(`the discovered pool has ${disc.targets.length} targets, expected ${UPSTREAMS}`);

  const loadgen = track(launchNode(join(ROOT, 'bench/lib/loadgen.js'), [], { cpus: plan.rest, name: 'loadgen' }));
  await nextMessage(loadgen, 'ready');
  let id = 0;
  async function round(kind, duration) {
    const reply = nextMessage(loadgen, 'result', (duration + 60) * 1000);
    const cpu0 = cpuMsOf(gw.pid);
    loadgen.send({ type: 'run', id: ++id, url: `http://127.0.0.1:${port}/${kind}/items/42`, connections: CONNECTIONS, duration });
    const r = await reply;
    const cpuMs = cpuMsOf(gw.pid) - cpu0;
    if (r.errors || r.timeouts || r.non2xx) throw new Error(`${kind}: ${r.errors} errors, ${r.timeouts} timeouts, ${r.non2xx} non-2xx`);
    return { rps: r.rps, cpuUsPerReq: (cpuMs * 1000) / r.requests, p99: r.latency.p99 };
  }

  await round('static', Number(args.warmup));
  await round('disc', Number(args.warmup));
  const results = { static: [], disc: [] };
  for (let i = 0; i < ROUNDS; i++) {
    const order = i % 2 === 0 ? ['static', 'disc'] : ['disc', 'static'];
    for (const kind of order) results[kind].push(await round(kind, DURATION));
  }
  clearInterval(beats);

  const sum = (kind) => ({ rps: mean(results[kind].map((r) => r.rps)), cpu: mean(results[kind].map((r) => r.cpuUsPerReq)), p99: mean(results[kind].map((r) => r.p99)) });
  const s = sum('static');
  const d = sum('disc');
  console.log(`discovery bench (${viaTsx ? 'sources via tsx' : 'dist'}, node ${process.version}; ${UPSTREAMS} upstreams, ${CONNECTIONS} connections, ${ROUNDS} × ${DURATION} s per pool, alternating; ${plan.note})`);
  for (const [label, x] of [['static pool (targets:)', s], ['discovered pool (registry)', d]]) {
    console.log(`  ${label.padEnd(28)} ${x.rps.toFixed(0).padStart(7)} req/s   CPU ${x.cpu.toFixed(1).padStart(6)} µs/req   p99 ${x.p99.toFixed(2)} ms`);
  }
  const throughput = d.rps / s.rps;
  const cpu = d.cpu / s.cpu;
  console.log(`  discovered / static: throughput ${throughput.toFixed(3)}, CPU per request ${cpu.toFixed(3)}`);
  // Round by round (each round ran both pools back to back): the median is what one disturbed round cannot move.
  const perRound = results.static.map((st, i) => ({ rps: results.disc[i].rps / st.rps, cpu: results.disc[i].cpuUsPerReq / st.cpuUsPerReq }));
  console.log(`  per round: throughput ${perRound.map((r) => r.rps.toFixed(2)).join(' ')} (median ${median(perRound.map((r) => r.rps)).toFixed(3)}), CPU per request ${perRound.map((r) => r.cpu.toFixed(2)).join(' ')} (median ${median(perRound.map((r) => r.cpu)).toFixed(3)})`);
  const [mr, mc] = [median(perRound.map((r) => r.rps)), median(perRound.map((r) => r.cpu))];
  console.log(`  target: both medians within 5 % → ${Math.abs(mr - 1) <= 0.05 && Math.abs(mc - 1) <= 0.05 ? 'PASS' : 'FAIL (on a busy machine, run again before concluding)'}`);
}

try {
  await main();
} finally {
  await Promise.all(children.map((c) => stop(c)));
  if (dir) rmSync(dir, { recursive: true, force: true });
}
