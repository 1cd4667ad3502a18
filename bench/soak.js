#!/usr/bin/env node
/**
 * The soak test: `npm run soak [-- options]`. Sustained load on the gateway
 * (60s by default) while its resident memory is printed every 5s, to show
 * that memory stays flat under load (no per-request leak). Same processes
 * and CPU layout as bench/run.js: three upstreams and the load generator on
 * one side, the gateway pinned on its own CPU.
 */
import { existsSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import jwt from 'jsonwebtoken';
import { parseBodySize } from './lib/body.js';
import { CLI, JWT_SECRET, chainRefs, resolveChain, startGateway } from './lib/gateway.js';
import { ForeignLoad, cpuPlan, launchNode, mib, nextMessage, stop, treeCpuMs, treeRss } from './lib/procs.js';
import { fmtInt, fmtMs, table } from './lib/table.js';

/** UsageError is a bad command-line flag. */
class UsageError extends Error {}

const USAGE = `Usage: npm run soak -- [options]

  --duration S       seconds of load (default 60)
  --interval S       seconds between RSS readings (default 5)
  --connections N    concurrent keep-alive connections (default 50)
  --body 100|1k|64k  upstream response body size (default 100 bytes)
  --chain            soak the gateway-chain configuration (request-id, jwt, rate-limit, health checks)
  -h, --help
`;

const lib = (f) => new URL(`./lib/${f}`, import.meta.url).pathname;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function options() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '60' },
      interval: { type: 'string', default: '5' },
      connections: { type: 'string', default: '50' },
      body: { type: 'string', default: '100' },
      chain: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const int = (name, v, min) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min} (got "${v}")`);
    return n;
  };
  return {
    duration: int('duration', values.duration, 5),
    interval: int('interval', values.interval, 1),
    connections: int('connections', values.connections, 1),
    bodySize: (() => {
      try {
        return parseBodySize(values.body);
      } catch (err) {
        throw new UsageError(err.message);
      }
    })(),
    chain: values.chain,
  };
}

const children = new Set();
const track = (c) => (children.add(c), c.once('exit', () => children.delete(c)), c);
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});
process.on('SIGINT', () => process.exit(130));

async function main() {
  const o = options();
  if (!existsSync(CLI)) throw new Error(`${CLI} not found: build first (npm run soak does)`);
  const plan = cpuPlan();
  console.log(`Switchyard soak: ${o.duration}s of load, ${o.connections} connections, RSS every ${o.interval}s, ${o.chain ? 'gateway-chain' : 'gateway'} configuration`);
  console.log(`CPU layout: ${plan.note}`);

  const loadgen = track(launchNode(lib('loadgen.js'), [], { cpus: plan.rest, name: 'loadgen' }));
  await nextMessage(loadgen, 'ready');
  const targets = [];
  for (let i = 0; i < 3; i++) {
    const child = track(launchNode(lib('upstream-server.js'), [String(o.bodySize)], { cpus: plan.rest, name: `upstream-${i}` }));
    targets.push(`http://127.0.0.1:${(await nextMessage(child, 'ready')).port}`);
  }
  const token = jwt.sign({ sub: 'soak-user' }, JWT_SECRET, { algorithm: 'HS256', expiresIn: '1d' });
  const headers = { authorization: `Bearer ${token}` };
  let chain = [];
  if (o.chain) {
    const resolved = await resolveChain(chainRefs());
    chain = resolved.kept;
    for (const n of resolved.notes) console.log(`note: ${n}`);
    console.log(`chain: ${chain.map((c) => c.name).join(' -> ') || '(none)'}; health checks every 1s`);
  }
  const gw = await startGateway({ targets, chain, healthCheck: o.chain, cpus: plan.proxy, headers });
  track(gw.child);
  await sleep(1000);
  const idle = treeRss(gw.pid);
  console.log(`gateway pid ${gw.pid}: RSS ${mib(idle)} idle\n`);

  const samples = [];
  const foreign = new ForeignLoad(() => [...children].map((c) => c.pid), plan.count);
  foreign.start();
  const started = Date.now();
  let lastCpu = treeCpuMs(gw.pid);
  let lastAt = started;
  const timer = setInterval(() => {
    const now = Date.now();
    const cpu = treeCpuMs(gw.pid);
    const s = { t: Math.round((now - started) / 1000), rss: treeRss(gw.pid), cpuPct: (100 * (cpu - lastCpu)) / (now - lastAt) };
    lastCpu = cpu;
    lastAt = now;
    samples.push(s);
    console.log(`t=${String(s.t).padStart(4)}s  RSS ${mib(s.rss).padStart(10)}  (${s.rss >= idle ? '+' : ''}${((s.rss - idle) / 1048576).toFixed(1)} MiB vs idle)  gateway CPU ${s.cpuPct.toFixed(0)}%`);
  }, o.interval * 1000);
  const result = nextMessage(loadgen, 'result', (o.duration + 60) * 1000);
  loadgen.send({ type: 'run', id: 1, url: gw.url, connections: o.connections, duration: o.duration, headers });
  const r = await result;
  clearInterval(timer);
  const disturbance = foreign.stop();
  // Idle timers (keep-alive, pools) close their sockets; what remains after a pause is retained memory.
  await sleep(o.interval * 1000);
  const after = treeRss(gw.pid);

  console.log('');
  console.log(
    table(
      ['requests', 'req/s', 'p50 ms', 'p99 ms', 'p99.9 ms', 'errors', 'non-2xx'],
      [[fmtInt(r.requests), fmtInt(r.rps), fmtMs(r.latency.p50), fmtMs(r.latency.p99), fmtMs(r.latency.p999), fmtInt(r.errors + r.timeouts), fmtInt(r.non2xx)]],
    ),
  );
  console.log(`other processes used ${disturbance.foreignPct.toFixed(1)}% of the machine's CPU during the load${disturbance.foreignPct > 5 ? ' (req/s and latencies are disturbed; RSS readings are not)' : ''}`);
  // Judge growth after warm-up: the first third of the run fills pools, JIT code and V8's heap.
  const warm = samples.filter((s) => s.t >= o.duration / 3);
  const base = warm[0]?.rss ?? idle;
  const last = warm.at(-1)?.rss ?? after;
  const peak = Math.max(...samples.map((s) => s.rss), idle);
  const growth = last - base;
  const perMillion = r.requests > 0 ? (growth / r.requests) * 1e6 : 0;
  console.log(`\nRSS: ${mib(idle)} idle, ${mib(base)} after warm-up (t=${warm[0]?.t ?? 0}s), ${mib(last)} at the end of load, peak ${mib(peak)}, ${mib(after)} ${o.interval}s after the load stopped`);
  const flat = growth < 16 * 1048576 && growth < base * 0.1;
  console.log(
    flat
      ? `verdict: flat (${(growth / 1048576).toFixed(1)} MiB change after warm-up over ${fmtInt(r.requests)} requests)`
      : `verdict: GROWING: +${(growth / 1048576).toFixed(1)} MiB after warm-up over ${fmtInt(r.requests)} requests (${(perMillion / 1048576).toFixed(1)} MiB per million requests); rerun longer (--duration 300) to tell a leak from heap sizing`,
  );
  await stop(gw.child);
  rmSync(gw.dir, { recursive: true, force: true });
  await Promise.all([...children].map((c) => stop(c, 3000)));
}

main().catch((err) => {
  // Bad flags get the message and the usage, not a stack trace.
  if (err instanceof UsageError || err?.code?.startsWith?.('ERR_PARSE_ARGS')) {
    console.error(`soak: ${err.message}\n\n${USAGE}`);
    process.exit(2);
  }
  console.error(`soak: ${err.stack ?? err}`);
  process.exit(1);
});
