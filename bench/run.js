#!/usr/bin/env node
/**
 * The benchmark harness: `npm run bench [-- options]`.
 *
 * Starts three upstream servers and every candidate proxy in child processes,
 * then measures them round by round (A B C, A B C, ...) so drift of the
 * machine (thermal, noisy neighbours) spreads over all candidates instead of
 * favouring whichever ran first. The proxy under test is pinned to its own
 * CPU with taskset; the load generator and the upstreams share the others.
 * The exception is gateway-workers-N (--workers N), which gets CPUs 0..N-1
 * and is compared with the 1-process gateway of the same run.
 *
 * Plain ESM JavaScript on purpose: it runs with bare `node` against the built
 * dist/, so no TypeScript loader sits in any measured process (or in the
 * --cpu-prof output), and the gateway is started exactly as users start it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import jwt from 'jsonwebtoken';
import { jsonBody, parseBodySize } from './lib/body.js';
import { summarizeProfile } from './lib/cpuprofile.js';
import { BENCH_PATH, CLI, JWT_SECRET, ROOT, chainRefs, profilesIn, resolveChain, startGateway } from './lib/gateway.js';
import { findNginx, startNginx } from './lib/nginx.js';
import { IDLE_SETTLE_MS, memoryReport } from './lib/memory.js';
import { ForeignLoad, childPids, cpuPlan, cpuProfArgs, launchNode, nextMessage, stop, treeCpuMs, treeRss, waitHttp } from './lib/procs.js';
import { headlineFigures } from './lib/headline.js';
import { parsePhases, runPhases } from './lib/phases.js';
import { pairedRatio, runRounds, summarize } from './lib/rounds.js';
import { steadinessOf, verdict } from './lib/quiet.js';
import { fmtInt, fmtMs, fmtRatio, table } from './lib/table.js';
import { scaling, scalingLines, workersNote } from './lib/workers.js';
import { findWrk, runWrk } from './lib/wrk.js';

/** UsageError is a bad command-line flag. */
class UsageError extends Error {}

const USAGE = `Usage: npm run bench -- [options]

  --quick              1 round of 3s per candidate, 1s warm-up (under a minute)
  --rounds N           rounds (default 3)
  --duration S         seconds per candidate per round (default 10)
  --warmup S           warm-up seconds per candidate before round 1 (default 3)
  --round-warmup S     unmeasured seconds of load before each candidate's every round (default 2,
                       --quick 0): each round starts warm, also after the gateway's idle memory
                       release while the other candidates ran
  --connections N      concurrent keep-alive connections (default 50)
  --body 100|1k|64k    upstream response body size (default 100 bytes)
  --only a,b           only these candidates (see the list below)
  --routes N           also run "gateway-routes-N": the gateway with N generated routes (vs 10)
  --workers N          also run "gateway-workers-N": the gateway with N cluster workers, on CPUs
                       0..N-1 (not one CPU), with its scaling factor against "gateway" (1 worker)
  --node-args="FLAGS"  node flags for every gateway candidate (e.g. --node-args="--max-semi-space-size=8")
  --profile            run the Node candidates (gateway*, bare-fastify-proxy, undici-minimal) under
                       --cpu-prof; print each one's top self-time functions over the measured rounds
                       and, side by side, each one's CPU per request by area (node core, undici, ...)
  --same-process       measure every round on the candidate's first process (default: from round 2
                       on, each candidate is restarted, settled and warmed before its round, so the
                       median of the rounds does not rest on one process's JIT; implied by --profile)
  --loader NAME        wrk when installed, else autocannon (default: auto); or name one
  --phases a,b         which parts run (default all): headline (the as-shipped candidates), logcost
                       (access log on vs off, with 95 % intervals: fresh gateways whose log a
                       reload switches between short back-to-back slices, pairs of fresh
                       processes, and, outside the verdict, two gateways side by side on one
                       CPU), workers (--workers 2 vs 1), sizes (100 B / 64 KiB / 1 MiB
                       vs nginx), shape (1/10/1,000 routes, 1/10/100 targets), idle (10,000 idle
                       keep-alive connections; needs ulimit -n > 10,200), websockets (5,000 WebSockets)
  --pairs N            the logcost phase's pairs of fresh processes (default 8, --quick 2): more pairs,
                       a narrower interval
  --switched N         the logcost phase's gateways switched by a reload (default 4, --quick 2)
  --compare DIR        also run "gateway-before" and "gateway-chain-before": the same candidates
                       from another built checkout (e.g. a git worktree of the previous commit,
                       after \`npm ci && npm run build\` there), measured in the same rounds
  -h, --help

Candidates: upstream-direct, bare-fastify-proxy, undici-minimal, nginx (when installed),
            gateway, gateway-chain, gateway-routes-N (with --routes N), gateway-workers-N (with --workers N),
            gateway-before, gateway-chain-before (with --compare DIR)
`;

const LIB = new URL('./lib/', import.meta.url);
const lib = (f) => new URL(f, LIB).pathname;

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      'round-warmup': { type: 'string' },
      connections: { type: 'string', default: '50' },
      body: { type: 'string', default: '100' },
      only: { type: 'string' },
      routes: { type: 'string' },
      workers: { type: 'string', default: '1' },
      'node-args': { type: 'string', default: '' },
      profile: { type: 'boolean', default: false },
      'same-process': { type: 'boolean', default: false },
      loader: { type: 'string', default: 'auto' },
      compare: { type: 'string' },
      phases: { type: 'string' },
      pairs: { type: 'string' },
      switched: { type: 'string' },
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
  const o = {
    quick: values.quick,
    rounds: int('rounds', values.rounds ?? (values.quick ? 1 : 3), 1),
    duration: int('duration', values.duration ?? (values.quick ? 3 : 10), 1),
    warmup: int('warmup', values.warmup ?? (values.quick ? 1 : 3), 0),
    roundWarmup: int('round-warmup', values['round-warmup'] ?? (values.quick ? 0 : 2), 0),
    connections: int('connections', values.connections, 1),
    bodySize: (() => {
      try {
        return parseBodySize(values.body);
      } catch (err) {
        throw new UsageError(err.message);
      }
    })(),
    only: values.only?.split(',').map((s) => s.trim()).filter(Boolean),
    routes: values.routes === undefined ? undefined : int('routes', values.routes, 1),
    workers: int('workers', values.workers, 1),
    nodeArgs: values['node-args'].split(/\s+/).filter(Boolean),
    profile: values.profile,
    // A profile is one process's: profiled candidates keep theirs for all rounds.
    sameProcess: values['same-process'] || values.profile,
    loader: values.loader,
    compare: values.compare,
    pairs: values.pairs === undefined ? undefined : int('pairs', values.pairs, 2),
    switched: values.switched === undefined ? undefined : int('switched', values.switched, 2),
    phases: (() => {
      try {
        return parsePhases(values.phases);
      } catch (err) {
        throw new UsageError(err.message);
      }
    })(),
  };
  // The workers phase is the headline's gateway against gateway-workers-2 (or --workers N).
  if (o.phases.has('workers') && o.workers === 1) o.workers = 2;
  if (o.compare !== undefined && !existsSync(join(o.compare, 'dist/src/cli/index.js'))) throw new UsageError(`--compare ${o.compare}: no dist/src/cli/index.js there (run npm ci && npm run build in it first)`);
  if (!['auto', 'autocannon', 'wrk'].includes(o.loader)) throw new UsageError(`--loader must be auto, autocannon or wrk (got "${o.loader}")`);
  return o;
}

/** children holds every process we started, so an error or Ctrl-C still cleans up. */
const children = new Set();
function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});
process.on('SIGINT', () => process.exit(130));

async function main() {
  const o = options();
  if (!existsSync(CLI)) throw new Error(`${CLI} not found: build first (npm run bench does)`);
  const plan = cpuPlan();
  const nginx = findNginx();
  const wrk = findWrk();
  if (o.loader === 'wrk' && !wrk) throw new UsageError('--loader wrk: wrk is not installed');
  // wrk (C, one thread) drives the proxy with a fraction of the CPU autocannon needs on the CPU it shares with the
  // upstreams; with autocannon the load generator, not the proxy, limited req/s (nginx at 37 % of its core).
  if (o.loader === 'auto') o.loader = wrk ? 'wrk' : 'autocannon';
  const notes = [];
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const resultsDir = join(ROOT, 'bench/results');
  mkdirSync(resultsDir, { recursive: true });

  // Candidate list, in measuring order.
  // The headline candidates run as shipped (gateway: a plain gateway.yaml, access log on, default log
  // level, NODE_ENV=production; nginx: its access log on); "-nolog" rows are labelled variants.
  const names = ['upstream-direct', 'bare-fastify-proxy', 'undici-minimal', 'nginx', 'nginx-nolog', 'gateway', 'gateway-nolog', 'gateway-chain'];
  if (o.routes !== undefined && o.routes !== 10) names.push(`gateway-routes-${o.routes}`);
  const workersName = `gateway-workers-${o.workers}`;
  if (o.workers > 1) names.push(workersName);
  if (o.compare !== undefined) names.push('gateway-before', 'gateway-chain-before');
  if (o.only) {
    const unknown = o.only.filter((n) => !names.includes(n));
    if (unknown.length) throw new UsageError(`--only: unknown candidate(s) ${unknown.join(', ')}; known: ${names.join(', ')}`);
  }
  let wanted = o.only ? names.filter((n) => o.only.includes(n)) : names;
  // Without the headline phase, only what the workers phase needs in the rounds (1 vs N); the others start their own.
  if (!o.phases.has('headline')) {
    const need = new Set(o.phases.has('workers') ? ['gateway', workersName] : []);
    wanted = wanted.filter((n) => need.has(n));
  }
  if (o.workers > 1 && wanted.includes(workersName)) notes.push(workersNote(o.workers, plan));
  if (!nginx && wanted.some((n) => n.startsWith('nginx'))) {
    notes.push('nginx skipped: no nginx binary found (install Debian\'s nginx to get the reference numbers)');
    wanted = wanted.filter((n) => !n.startsWith('nginx'));
  }

  const cpuModel = os.cpus()[0]?.model ?? 'unknown CPU';
  // Other work on the machine (CI jobs, test runs) skews everything; measure it instead of printing confident numbers.
  const quiet = new ForeignLoad(() => [], plan.count);
  quiet.start();
  await new Promise((r) => setTimeout(r, 1000));
  const before = quiet.stop();
  const header = [
    `Switchyard benchmark  ${new Date().toISOString()}`,
    `node ${process.version}, ${cpuModel}, ${plan.count} CPUs, ${Math.round(os.totalmem() / 1073741824)} GiB`,
    `CPU layout: ${plan.note}`,
    `load: ${o.loader}${o.loader === 'autocannon' && !wrk ? ' (wrk not installed: apt-get install wrk for a load generator that leaves the upstreams more CPU)' : ''}, ${o.connections} connections, ${o.rounds} round(s) x ${o.duration}s per candidate, ${o.warmup}s warm-up, ${o.roundWarmup}s unmeasured before each round, interleaved, order rotated each round, ${o.sameProcess ? 'one process per candidate for all rounds' : 'a fresh process per candidate each round (restarted, settled, warmed)'}`,
    `request: GET ${BENCH_PATH} with a 'authorization: Bearer <HS256 JWT>' header (every candidate); response body ${o.bodySize} bytes of JSON`,
    `candidates: ${wanted.join(', ') || 'none in rounds (the selected phases start their own)'}`,
    ...(before.foreignPct > 10 ? [`WARNING: other processes use ${before.foreignPct.toFixed(0)}% of the machine's CPU before starting: they will compete with the benchmark`] : []),
  ];
  console.log(header.join('\n'));
  console.log('');

  // Load generator and upstreams share the non-proxy CPUs.
  let loadgen;
  if (o.loader === 'autocannon') {
    loadgen = track(launchNode(lib('loadgen.js'), [], { cpus: plan.rest, name: 'loadgen' }));
    await nextMessage(loadgen, 'ready');
  }
  const upstreams = [];
  for (let i = 0; i < 3; i++) {
    const child = track(launchNode(lib('upstream-server.js'), [String(o.bodySize)], { cpus: plan.rest, name: `upstream-${i}` }));
    const { port } = await nextMessage(child, 'ready');
    upstreams.push({ child, url: `http://127.0.0.1:${port}` });
  }
  const targets = upstreams.map((u) => u.url);
  const token = jwt.sign({ sub: 'bench-user' }, JWT_SECRET, { algorithm: 'HS256', expiresIn: '1d' });
  const headers = { authorization: `Bearer ${token}` };
  const expectedBody = jsonBody(o.bodySize).toString();

  // Start every candidate; one that fails to start is reported and skipped.
  const profileDir = (name) => (o.profile ? join(resultsDir, `profile-${stamp}`, name) : undefined);
  const profiled = o.profile ? ['PROFILED (--cpu-prof): slower than unprofiled'] : [];
  const gwCpus = plan.proxy;
  const nodeArgs = o.nodeArgs;
  const flagsNote = nodeArgs.length ? [`node flags: ${nodeArgs.join(' ')}`] : [];
  const starters = {
    'upstream-direct': async () => ({ url: `${targets[0]}${BENCH_PATH}`, notes: ['the limit: the load generator straight to upstream 0'] }),
    'bare-fastify-proxy': async () => {
      const dir = profileDir('bare-fastify-proxy');
      const child = track(launchNode(lib('fastify-proxy.js'), [targets[0]], { cpus: plan.proxy, name: 'bare-fastify-proxy', nodeArgs: cpuProfArgs(dir) }));
      const { port } = await nextMessage(child, 'ready');
      return { child, pid: child.pid, url: `http://127.0.0.1:${port}${BENCH_PATH}`, profileDir: dir, notes: ['fastify 5 + @fastify/http-proxy defaults, single target', ...profiled] };
    },
    'undici-minimal': async () => {
      const dir = profileDir('undici-minimal');
      const child = track(launchNode(lib('undici-proxy.js'), targets, { cpus: plan.proxy, name: 'undici-minimal', nodeArgs: cpuProfArgs(dir) }));
      const { port } = await nextMessage(child, 'ready');
      return { child, pid: child.pid, url: `http://127.0.0.1:${port}${BENCH_PATH}`, profileDir: dir, notes: ['node:http + undici Pool.stream, round robin over 3 targets', ...profiled] };
    },
    nginx: async () => {
      const n = await startNginx({ nginx, targets, cpus: plan.proxy, probePath: BENCH_PATH, headers });
      track(n.child);
      return { ...n, notes: [`nginx ${nginx.version}, 1 worker, keepalive upstream pool over 3 targets, access log on (combined format, to a file)`] };
    },
    'nginx-nolog': async () => {
      const n = await startNginx({ nginx, targets, cpus: plan.proxy, probePath: BENCH_PATH, headers, accessLog: false });
      track(n.child);
      return { ...n, notes: ['variant: as "nginx" with access_log off'] };
    },
    gateway: async () => {
      const g = await startGateway({ targets, routes: 10, cpus: gwCpus, headers, nodeArgs, profileDir: profileDir('gateway') });
      track(g.child);
      return { ...g, gateway: true, notes: ['as shipped: plain gateway.yaml (listen, admin, routes), access log on (to a file), log level info, NODE_ENV=production, 1 process; round robin over 3 targets, 10 routes, no plugins', ...flagsNote, ...profiled, ...g.notes] };
    },
    'gateway-nolog': async () => {
      const g = await startGateway({ targets, routes: 10, cpus: gwCpus, headers, nodeArgs, log: { accessLog: false }, profileDir: profileDir('gateway-nolog') });
      track(g.child);
      return { ...g, gateway: true, notes: ['variant: as "gateway" with log.accessLog: false', ...flagsNote, ...profiled, ...g.notes] };
    },
    'gateway-chain': async () => {
      const { kept, notes: chainNotes } = await resolveChain(chainRefs());
      const g = await startGateway({ targets, routes: 10, chain: kept, healthCheck: true, cpus: gwCpus, headers, nodeArgs, profileDir: profileDir('gateway-chain') });
      track(g.child);
      return { ...g, gateway: true, notes: [`as shipped (access log on) + chain: ${kept.map((k) => k.name).join(' -> ') || '(none)'}; health checks every 1s`, ...flagsNote, ...profiled, ...chainNotes, ...g.notes] };
    },
  };
  if (o.routes !== undefined && o.routes !== 10) {
    starters[`gateway-routes-${o.routes}`] = async () => {
      const g = await startGateway({ targets, routes: o.routes, cpus: gwCpus, headers, nodeArgs, profileDir: profileDir(`gateway-routes-${o.routes}`) });
      track(g.child);
      return { ...g, gateway: true, notes: [`as "gateway" but ${o.routes} generated routes; the hit route is declared last`, ...flagsNote, ...profiled, ...g.notes] };
    };
  }
  if (o.compare !== undefined) {
    // The same two candidates from another checkout: a refactor's before/after in one run.
    const before = { root: o.compare, cli: join(o.compare, 'dist/src/cli/index.js') };
    starters['gateway-before'] = async () => {
      const g = await startGateway({ targets, routes: 10, cpus: gwCpus, headers, nodeArgs, profileDir: profileDir('gateway-before'), build: before });
      track(g.child);
      return { ...g, gateway: true, notes: [`as "gateway", built from ${o.compare}`, ...flagsNote, ...profiled, ...g.notes] };
    };
    starters['gateway-chain-before'] = async () => {
      const { kept, notes: chainNotes } = await resolveChain(chainRefs(), before.root);
      const g = await startGateway({ targets, routes: 10, chain: kept, healthCheck: true, cpus: gwCpus, headers, nodeArgs, profileDir: profileDir('gateway-chain-before'), build: before });
      track(g.child);
      return { ...g, gateway: true, notes: [`as "gateway-chain", built from ${o.compare}`, ...flagsNote, ...profiled, ...chainNotes, ...g.notes] };
    };
  }
  if (o.workers > 1) {
    starters[workersName] = async () => {
      const cpus = plan.pinned ? plan.proxyN(o.workers) : undefined;
      const g = await startGateway({ targets, routes: 10, workers: o.workers, cpus, headers, nodeArgs, profileDir: profileDir(workersName) });
      track(g.child);
      const where = cpus === undefined ? 'not pinned' : `pinned to CPUs ${cpus}`;
      return { ...g, gateway: true, notes: [`as "gateway" but --workers ${o.workers} (primary + ${g.workers} worker processes, ${where})`, ...flagsNote, ...profiled, ...g.notes] };
    };
  }

  const candidates = [];
  for (const name of wanted) {
    try {
      // Same answer from every candidate (every process of it), or the comparison is meaningless.
      const start = async () => {
        const s = await starters[name]();
        const probe = await waitHttp(s.url, { headers, timeoutMs: 5000 });
        if (probe.body !== expectedBody) s.notes.push(`WARNING: body differs from the upstream's (${probe.body.length} bytes)`);
        return s;
      };
      const c = { name, ...(await start()), rounds: [], windows: [] };
      if (!o.sameProcess && c.child !== undefined) c.restart = start;
      candidates.push(c);
      console.log(`started ${name}${c.pid ? ` (pid ${c.pid})` : ''}`);
    } catch (err) {
      notes.push(`${name} skipped: failed to start: ${err.message.split('\n').slice(0, 6).join(' | ')}`);
      console.log(`FAILED to start ${name}: ${err.message}`);
    }
  }

  // Let start-up work (JIT of config loading, first health checks) settle before the idle reading.
  if (candidates.length) await new Promise((r) => setTimeout(r, IDLE_SETTLE_MS(o.quick)));
  for (const c of candidates) {
    if (!c.pid) continue;
    c.rssIdle = treeRss(c.pid);
    c.processes = 1 + childPids(c.pid).length;
  }

  let runId = 0;
  /** load runs the load generator once: { url, connections, duration } -> req/s, latency, errors. */
  const load = async ({ url, connections, duration }) => {
    const spec = { url, connections, duration, headers };
    if (o.loader === 'wrk') return runWrk({ wrk, cpus: plan.rest, ...spec });
    const id = ++runId;
    const reply = nextMessage(loadgen, 'result', (duration + 60) * 1000);
    loadgen.send({ type: 'run', id, ...spec });
    return reply;
  };
  const measure = (c, duration) => load({ url: c.url, connections: o.connections, duration });

  if (o.warmup > 0 && candidates.length) {
    process.stdout.write(`\nwarm-up (${o.warmup}s each):`);
    for (const c of candidates) {
      await measure(c, o.warmup);
      process.stdout.write(` ${c.name}`);
    }
    process.stdout.write('\n');
  }
  const foreign = new ForeignLoad(() => [...children].map((c) => c.pid), plan.count);
  foreign.start();
  if (candidates.length) await runRounds(candidates, { rounds: o.rounds, duration: o.duration, roundWarmup: o.roundWarmup, measure, fresh: o.sameProcess ? undefined : { stop, settleMs: o.quick ? 1000 : 2000, warmup: o.warmup } });
  const disturbance = foreign.stop();
  for (const c of candidates) if (c.pid) c.rssAfter = treeRss(c.pid);

  // Stop proxies first (a profiled gateway writes its profile on exit), then the rest.
  await Promise.all(candidates.map((c) => stop(c.child)));
  await Promise.all(upstreams.map((u) => stop(u.child, 3000)));
  // The scaling phases, one after another, each with its own upstreams and proxies; printed after the headline.
  const phaseResults = await runPhases({ o, plan, nginx, headers, track, tracked: (s) => (track(s.child), s), load });
  await stop(loadgen, 3000);
  for (const c of candidates) if (c.dir) rmSync(c.dir, { recursive: true, force: true });

  // Summaries and ratios.
  for (const c of candidates) c.summary = summarize(c);
  const byName = Object.fromEntries(candidates.map((c) => [c.name, c]));
  const fastifyRps = byName['bare-fastify-proxy']?.summary.rps;
  const nginxRps = byName.nginx?.summary.rps;
  const rows = candidates.map((c) => {
    const s = c.summary;
    return [
      c.name,
      fmtInt(s.rps),
      s.rps > 0 ? `${((100 * s.rpsStdev) / s.rps).toFixed(1)}%` : '-',
      fmtMs(s.p50),
      fmtMs(s.p99),
      fmtMs(s.p999),
      `${fmtInt(s.errors)}/${fmtInt(s.non2xx)}`,
      fmtRatio(s.rps / fastifyRps),
      fmtRatio(s.rps / nginxRps),
      Number.isFinite(s.cpuUsPerRequest) ? s.cpuUsPerRequest.toFixed(0) : '-',
      c.rssIdle ? `${(c.rssIdle / 1048576).toFixed(0)}->${(c.rssAfter / 1048576).toFixed(0)}` : '-',
    ];
  });
  if (candidates.length) console.log('');
  if (candidates.length) console.log(table(['candidate', 'req/s', '±', 'p50 ms', 'p99 ms', 'p99.9 ms', 'err/non2xx', 'vs fastify', 'vs nginx', 'CPU µs/req', 'RSS MiB idle->after'], rows));
  if (candidates.length) console.log(`\nreq/s and latencies: mean over ${o.rounds} round(s); ± = standard deviation of req/s across rounds; latency of 2xx responses as seen by the load generator;\nCPU µs/req = user+system CPU of the proxy process(es) per request (10 ms tick resolution), the least noise-sensitive column.`);
  // What /proc/stat cannot see (a host slowing the whole VM) shows as a steady reference (no JIT, no process luck) moving
  // from round to round, on both sides of the machine: nginx's req/s is bounded by the load generator's CPU, its CPU per
  // request is the speed of the CPU under test.
  const steadyRefs = candidates.filter((c) => c.name === 'nginx' || c.name === 'nginx-nolog' || c.name === 'upstream-direct');
  disturbance.steadiness = steadinessOf([
    ...steadyRefs.map((c) => ({ name: `${c.name}'s req/s`, values: c.rounds.map((r) => r.rps) })),
    ...steadyRefs.filter((c) => c.pid).map((c) => ({ name: `${c.name}'s CPU µs/req`, values: c.rounds.map((r) => r.cpuUsPerRequest) })),
  ]);
  const quietness = verdict(disturbance, disturbance.steadiness, o.rounds === 1 ? 'with one round' : 'with neither nginx nor upstream-direct in the run');
  if (candidates.length) {
    console.log(`  ${quietness.text}`);
    notes.push(quietness.note);
  }
  for (const c of candidates) for (const n of c.notes) console.log(`  ${c.name}: ${n}`);
  for (const n of notes) console.log(`  note: ${n}`);

  // Paired ratios: each round's candidates ran back to back, so a ratio taken
  // within a round cancels slow drift, and the median of them ignores the one
  // round a neighbour on the machine disturbed (the table's ratio is of means).
  const pairedLines = [];
  for (const c of candidates.filter((x) => x.gateway)) {
    c.summary.paired = { vsFastify: pairedRatio(c, byName['bare-fastify-proxy']), vsNginx: pairedRatio(c, byName.nginx) };
    const parts = Object.entries({ 'vs fastify': c.summary.paired.vsFastify, 'vs nginx': c.summary.paired.vsNginx })
      .filter(([, p]) => p)
      .map(([label, p]) => `${label} ${fmtRatio(p.median)} (rounds ${p.rounds.map((x) => x.toFixed(2)).join(' ')}; of means ${fmtRatio(p.ofMeans)})`);
    if (parts.length) pairedLines.push(`  ${c.name.padEnd(22)} ${parts.join('   ')}`);
  }
  if (pairedLines.length) console.log(`\nratios per round (candidate req/s ÷ reference req/s of the same round), median first:\n${pairedLines.join('\n')}`);
  const headline = headlineFigures(byName, candidates.length ? quietness : undefined);
  if (headline.lines.length) console.log(`\n${headline.lines.join('\n')}`);

  const scaled = o.workers > 1 ? scaling(byName.gateway, byName[workersName], o.workers) : undefined;
  if (scaled) console.log(`\n${scalingLines(scaled).join('\n')}`);
  else if (o.workers > 1) console.log(`\nscaling with --workers ${o.workers}: not computed (needs both "gateway" and "${workersName}" in the run)`);
  const memory = memoryReport(candidates, o.quick);
  if (candidates.length) console.log(`\n${memory.lines.join('\n')}`);

  // Profiles: one per profiled candidate, summarized over its measured rounds only.
  const profiles = {};
  for (const c of candidates.filter((x) => x.profileDir)) {
    const files = profilesIn(c.profileDir);
    if (files.length === 0) {
      console.log(`\n--profile: no .cpuprofile written in ${c.profileDir} (did ${c.name} exit cleanly?)`);
      continue;
    }
    // With --workers every process writes a profile; the busiest one is the one that served.
    const summaries = files.map((file) => ({ file, ...summarizeProfile(file, { root: ROOT, top: 30, windows: c.windows }) }));
    const p = summaries.sort((a, b) => b.busyMs - a.busyMs)[0];
    // The measured windows and requests go into the JSON too, so a script can re-read the profile over the same samples.
    profiles[c.name] = { ...p, windows: c.windows, requests: c.rounds.reduce((n, r) => n + r.requests, 0) };
    console.log(`\nCPU profile of "${c.name}": ${p.file}`);
    console.log(`(open in Chrome DevTools > Performance, or speedscope). Measured rounds only: ${fmtInt(p.busyMs)} ms busy of ${fmtInt(p.totalMs)} ms sampled; % of busy time.`);
    console.log('\nself time by area:');
    console.log(table(['area', 'self ms', '%'], p.areas.slice(0, 12).map((a) => [a.area, fmtInt(a.selfMs), a.pct.toFixed(1)])));
    console.log('\ntop self-time functions:');
    console.log(table(['function', 'where', 'self ms', '%'], p.top.map((f) => [f.name, f.where, fmtInt(f.selfMs), f.pct.toFixed(1)])));
  }
  // Side by side per request: which layer costs what in each proxy (the gap between two candidates, area by area).
  // Not gateway-workers-N: its profile is one worker's, its request count all workers'.
  const compared = candidates.filter((c) => profiles[c.name] && !(c.workers > 1));
  if (compared.length > 1) {
    const perRequest = compared.map((c) => {
      const p = profiles[c.name];
      return { p, us: (ms) => (p.requests ? (ms * 1000) / p.requests : 0) };
    });
    const areaNames = [...new Set(perRequest.flatMap(({ p }) => p.areas.map((a) => a.area)))];
    const cell = ({ p, us }, name) => us(p.areas.find((a) => a.area === name)?.selfMs ?? 0).toFixed(1);
    const rows = areaNames.map((name) => [name, ...perRequest.map((x) => cell(x, name))]);
    rows.push(['busy total', ...perRequest.map(({ p, us }) => us(p.busyMs).toFixed(1))]);
    console.log('\nprofiled CPU per request by area (µs of self time per request over the measured rounds; profiling adds its own cost):');
    console.log(table(['area', ...compared.map((c) => c.name)], rows));
  }

  for (const p of phaseResults) console.log(`\n${p.lines.join('\n')}`);

  const out = join(resultsDir, `${stamp}.json`);
  const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
  writeFileSync(
    out,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        commit,
        node: process.version,
        cpu: cpuModel,
        cpus: plan.count,
        layout: plan.note,
        disturbance,
        options: o,
        nginx: nginx?.version,
        notes,
        candidates: candidates.map((c) => ({
          name: c.name,
          notes: c.notes,
          summary: c.summary,
          vsFastify: c.summary.rps / fastifyRps || null,
          vsNginx: c.summary.rps / nginxRps || null,
          rss: c.rssIdle ? { idle: c.rssIdle, afterLoad: c.rssAfter } : undefined,
          rounds: c.rounds,
        })),
        scaling: scaled,
        memory: memory.json,
        headline: headline.json,
        phases: Object.fromEntries(phaseResults.map((p) => [p.name, p.json])),
        profiles,
      },
      null,
      2,
    ),
  );
  console.log(`\nresults: ${out}`);
}

main().catch((err) => {
  // Bad flags get the message and the usage, not a stack trace.
  if (err instanceof UsageError || err?.code?.startsWith?.('ERR_PARSE_ARGS')) {
    console.error(`bench: ${err.message}\n\n${USAGE}`);
    process.exit(2);
  }
  console.error(`bench: ${err.stack ?? err}`);
  process.exit(1);
});
