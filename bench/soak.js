#!/usr/bin/env node
/**
 * The soak test: `npm run soak [-- options]`.
 *
 * Default (mixed): a bounded run (2 minutes by default) of every kind of
 * traffic (GETs, POSTs with bodies, client aborts mid-response, upstream 500s,
 * a dead upstream, slow responses, WebSocket sessions) with a config reload
 * every few seconds, sampling the gateway's RSS, heap (after a forced GC),
 * open fds and sockets. Ends with a verdict: exit 1 when any of them keeps
 * growing after warm-up, when sockets stay open after the traffic stops, or
 * when a request ends in an unexpected outcome.
 *
 * --load: the original mode, sustained autocannon GET load (60s by default)
 * with RSS printed every 5s. Same processes and CPU layout as bench/run.js:
 * three upstreams and the load generator on one side, the gateway pinned on
 * its own CPU.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import jwt from 'jsonwebtoken';
import { parseBodySize } from './lib/body.js';
import { CLI, JWT_SECRET, chainRefs, resolveChain, startGateway } from './lib/gateway.js';
import { Inspector, KINDS, MixedTraffic, fdCounts, judge, mixedRoutes, reload, sampleGateway, writeRoutes } from './lib/mixed.js';
import { ForeignLoad, cpuPlan, launchNode, mib, nextMessage, stop, treeCpuMs, treeRss } from './lib/procs.js';
import { fmtInt, fmtMs, table } from './lib/table.js';

/** UsageError is a bad command-line flag. */
class UsageError extends Error {}

const USAGE = `Usage: npm run soak -- [options]

  --duration D       run time: seconds, or 90s / 2m / 1h (default 2m; 60s with --load)
  --interval S       seconds between samples (default 5)
  --connections N    concurrent clients (default 64; 50 with --load)
  --reload-every S   seconds between config reloads in the mixed run (default 3; 0 = none)
  --chain            soak the gateway-chain configuration (request-id, jwt, rate-limit, health checks)
  --load             the plain mode: autocannon GETs only, RSS only
  --body 100|1k|64k  upstream response body size with --load (default 100 bytes)
  -h, --help
`;

const lib = (f) => new URL(`./lib/${f}`, import.meta.url).pathname;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function options() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string' },
      interval: { type: 'string', default: '5' },
      connections: { type: 'string' },
      'reload-every': { type: 'string', default: '3' },
      load: { type: 'boolean', default: false },
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
  const seconds = (v) => {
    const m = /^(\d+)(s|m|h)?$/.exec(v);
    if (!m || Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] ?? 's'] < 5) throw new UsageError(`--duration must be seconds >= 5, or like 90s, 2m, 1h (got "${v}")`);
    return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] ?? 's'];
  };
  return {
    load: values.load,
    duration: seconds(values.duration ?? (values.load ? '60' : '2m')),
    interval: int('interval', values.interval, 1),
    connections: int('connections', values.connections ?? (values.load ? '50' : '64'), 1),
    reloadEvery: int('reload-every', values['reload-every'], 0),
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
  if (!o.load) return mixed(o);
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

/**
 * mixed is the default soak: mixed traffic and reloads for o.duration seconds,
 * the gateway's resources sampled every o.interval seconds, then a verdict.
 * Returns the exit code.
 */
async function mixed(o) {
  const plan = cpuPlan();
  const reloads = o.reloadEvery > 0 ? `a reload every ${o.reloadEvery}s` : 'no reloads';
  console.log(`Switchyard soak (mixed): ${o.duration}s, ${o.connections} concurrent clients, ${reloads}, samples every ${o.interval}s, ${o.chain ? 'gateway-chain' : 'gateway'} configuration`);
  console.log(`traffic mix: ${KINDS.map((k) => `${k.kind} ${k.weight}%`).join(', ')}`);
  console.log(`CPU layout: ${plan.note}`);

  const upstream = track(launchNode(lib('mixed-upstream.js'), [], { cpus: plan.rest, name: 'mixed-upstream' }));
  const { ports } = await nextMessage(upstream, 'ready');
  // Port 1 (tcpmux) is never served: connects are refused (502). A port from freePort() is not
  // safe here: over minutes another process (a test run, another soak) can start listening on it.
  const deadPort = 1;
  const token = jwt.sign({ sub: 'soak-user' }, JWT_SECRET, { algorithm: 'HS256', expiresIn: '1d' });
  const headers = { authorization: `Bearer ${token}` };
  let chain = [];
  if (o.chain) {
    const resolved = await resolveChain(chainRefs());
    chain = resolved.kept;
    for (const n of resolved.notes) console.log(`note: ${n}`);
    console.log(`chain: ${chain.map((c) => c.name).join(' -> ') || '(none)'}`);
  }
  // The inspector lets the sampler force a full GC before reading the heap.
  const gw = await startGateway({ targets: [`http://127.0.0.1:${ports[0]}`], chain, cpus: plan.proxy, headers, nodeArgs: ['--inspect=127.0.0.1:0'] });
  track(gw.child);
  const adminPort = gw.adminPort ?? JSON.parse(readFileSync(gw.config, 'utf8')).admin.port;
  let version = 0;
  writeRoutes(gw.dir, mixedRoutes({ ports, deadPort, version }));
  const first = await reload(adminPort);
  if (first !== 200) throw new Error(`the first reload (adding routes/mixed.json) answered ${first}`);
  const inspector = await Inspector.connect(gw.child);
  await sleep(1000);
  const idle = await sampleGateway(gw.pid, inspector);
  console.log(`gateway pid ${gw.pid}: idle RSS ${mib(idle.rss)}, heap ${mib(idle.heap)}, ${idle.fds} fds, ${idle.sockets} sockets\n`);

  const traffic = new MixedTraffic({ port: gw.port ?? new URL(gw.url).port, concurrency: o.connections, headers });
  const reloadStats = { ok: 0, failed: [] };
  let reloading = Promise.resolve();
  const reloadTimer =
    o.reloadEvery > 0
      ? setInterval(() => {
          reloading = reloading.then(async () => {
            version = 1 - version;
            writeRoutes(gw.dir, mixedRoutes({ ports, deadPort, version }));
            try {
              const status = await reload(adminPort);
              if (status === 200) reloadStats.ok++;
              else reloadStats.failed.push(`status ${status}`);
            } catch (err) {
              reloadStats.failed.push(err.message);
            }
          });
        }, o.reloadEvery * 1000)
      : undefined;

  const samples = [];
  const row = (s) => [`${s.t}s`, mib(s.rss), mib(s.heap), String(s.fds), String(s.sockets), fmtInt(s.rps)];
  const cols = ['t', 'RSS', 'heap (after GC)', 'fds', 'sockets', 'req/s'];
  console.log(cols.join('  '));
  const started = Date.now();
  traffic.start();
  let lastDone = 0;
  let lastAt = started;
  while (Date.now() - started < o.duration * 1000) {
    await sleep(Math.min(o.interval * 1000, started + o.duration * 1000 - Date.now()));
    const now = Date.now();
    const s = { t: Math.round((now - started) / 1000), ...(await sampleGateway(gw.pid, inspector)), rps: ((traffic.done - lastDone) * 1000) / (now - lastAt) };
    lastDone = traffic.done;
    lastAt = now;
    samples.push(s);
    console.log(row(s).join('  '));
  }
  clearInterval(reloadTimer);
  await traffic.stop();
  await reloading;
  // Keep-alive pools (upstream idle timeout 3-4s) close their sockets; what stays open after that is leaked.
  await sleep(6000);
  const after = await sampleGateway(gw.pid, inspector);
  inspector.close();
  const seconds = (Date.now() - started) / 1000;

  console.log('\nResource samples (gateway process):');
  console.log(table(cols, [['idle', mib(idle.rss), mib(idle.heap), String(idle.fds), String(idle.sockets), '-'], ...samples.map(row), ['6s after', mib(after.rss), mib(after.heap), String(after.fds), String(after.sockets), '-']]));

  console.log('\nRequests by outcome:');
  const outcomeRows = [];
  for (const k of KINDS) {
    const c = traffic.counts.get(k.kind);
    const total = [...c.values()].reduce((a, b) => a + b, 0);
    const others = [...c].filter(([out]) => out !== k.expect).map(([out, n]) => `${out}: ${n}`);
    outcomeRows.push([k.kind, k.expect, fmtInt(total), fmtInt(c.get(k.expect) ?? 0), others.join('; ') || '-']);
  }
  const total = traffic.done;
  outcomeRows.push(['total', '', fmtInt(total), fmtInt(total - [...traffic.unexpected.values()].reduce((a, b) => a + b, 0)), `${fmtInt(total / seconds)} req/s`]);
  console.log(table(['kind', 'expected', 'total', 'as expected', 'other outcomes'], outcomeRows));
  console.log(`reloads: ${reloadStats.ok} ok, ${reloadStats.failed.length} failed${reloadStats.failed.length ? ` (${[...new Set(reloadStats.failed)].slice(0, 5).join('; ')})` : ''}`);

  const verdicts = judge(samples, o.duration);
  const problems = [];
  console.log('\nGrowth after warm-up (first third excluded):');
  for (const v of verdicts) {
    console.log(`  ${v.key.padEnd(8)} ${v.growing ? 'GROWING' : 'flat   '}  ${v.note}`);
    if (v.growing) problems.push(`${v.key} keeps growing`);
  }
  const socketTolerance = 16;
  if (after.sockets > idle.sockets + socketTolerance) problems.push(`${after.sockets - idle.sockets} more sockets open 6s after the traffic stopped than when idle (tolerance ${socketTolerance})`);
  if (traffic.unexpected.size > 0) problems.push(`${fmtInt([...traffic.unexpected.values()].reduce((a, b) => a + b, 0))} requests ended unexpectedly: ${[...traffic.unexpected].slice(0, 8).map(([k, n]) => `${k} (${n})`).join(', ')}`);
  if (reloadStats.failed.length > 0) problems.push(`${reloadStats.failed.length} reloads failed`);
  console.log(problems.length ? `\nverdict: FAIL\n${problems.map((p) => `  - ${p}`).join('\n')}` : `\nverdict: PASS (${fmtInt(total)} requests, ${reloadStats.ok} reloads, nothing grows after warm-up)`);

  await stop(gw.child);
  rmSync(gw.dir, { recursive: true, force: true });
  await Promise.all([...children].map((c) => stop(c, 3000)));
  return problems.length ? 1 : 0;
}

main()
  .then((code) => process.exit(code ?? 0))
  .catch((err) => {
    // Bad flags get the message and the usage, not a stack trace.
    if (err instanceof UsageError || err?.code?.startsWith?.('ERR_PARSE_ARGS')) {
      console.error(`soak: ${err.message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error(`soak: ${err.stack ?? err}`);
    process.exit(1);
  });
