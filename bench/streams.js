#!/usr/bin/env node
/**
 * The L4 benchmark: `npm run bench:streams [-- options]` (issue 18).
 *
 * Measures TCP stream proxies on the same core budget, in the same run:
 * HAProxy `mode tcp`, nginx `stream` (when its stream module is installed),
 * the smallest Node TCP proxy (what the runtime itself costs) and the
 * gateway's `streams:` listener as shipped (a plain gateway.yaml: the access
 * log on, its line per connection to a file). The references log a line per
 * connection too (HAProxy `option tcplog`, nginx `access_log`): the same work. Each candidate is pinned to CPU 0
 * with taskset (HAProxy and nginx with one thread/worker, the gateway with
 * one process); the upstream sink and the load generator share CPU 1.
 * Candidates are measured round by round, and each round starts with the
 * next candidate (A B C, B C A, …), so machine drift spreads over all.
 *
 * Per candidate and round: bulk throughput of one long stream (default 2 GB
 * through, acknowledged by the sink), short connections per second (connect,
 * 100 B each way, close; 50 loops) with the p50/p99 connect-to-first-byte of
 * those connections (closed loop: at saturation that p99 is queueing), the
 * p50/p99 connect-to-first-byte at fixed rates (open loop, default 1,000
 * and 2,000 connections per second: latency at a load every candidate
 * carries), and, once per candidate, RSS per idle open stream
 * (N streams held, each proven end to end by an echoed byte).
 *
 * The gateway candidate needs a build whose gateway.yaml accepts `streams:`
 * (the streams work of issue 18); with an older build it prints
 * "gateway: streams not supported by this build" and the references still run.
 * Plain ESM JavaScript against dist/, like bench/run.js.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLI, servingFlags } from './lib/gateway.js';
import { forceGc, inspectorArgs } from './lib/inspector-gc.js';
import { ForeignLoad, childPids, cpuMsOf, cpuPlan, cpuProfArgs, freePort, launch, launchNode, mib, nextMessage, stop, treeRss, which } from './lib/procs.js';
import { steadinessOf, verdict } from './lib/quiet.js';
import { mean, percentile } from './lib/stats.js';
import { fmtInt, fmtMs, fmtRatio, table } from './lib/table.js';

const USAGE = `Usage: npm run bench:streams -- [options]

  --quick            1 round: 256 MB bulk, 3 s of short connections, 200 idle streams
  --rounds N         rounds (default 3)
  --bulk-mb N        bytes through the long stream, in MB (default 2048)
  --duration S       seconds of short connections per candidate per round (default 10)
  --concurrency N    concurrent short-connection loops (default 50)
  --rates a,b        connections per second of the fixed-rate latency phase (default 1000,2000; each runs --duration seconds)
  --idle N           idle streams held for the RSS reading (default 1000)
  --only a,b         only these candidates: direct, haproxy, nginx, node, gateway
  --phases a,b       only these phases: bulk, short, rate, idle (default all)
  --baseline CLI     also measure this other build of the gateway (path to its dist/cli/index.js), as "gateway-baseline"
  --gateway-prof DIR write a CPU profile of the gateway process into DIR (node --cpu-prof, on exit)
  --gateway-node-args="A B"  extra node options for the gateway process, a labelled variant (e.g. --gateway-node-args="--v8-pool-size=1")
  -h, --help`;

const { values: opt } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    'bulk-mb': { type: 'string' },
    duration: { type: 'string' },
    concurrency: { type: 'string', default: '50' },
    idle: { type: 'string' },
    only: { type: 'string' },
    phases: { type: 'string', default: 'bulk,short,rate,idle' },
    rates: { type: 'string', default: '1000,2000' },
    'gateway-prof': { type: 'string' },
    'gateway-node-args': { type: 'string', default: '' },
    baseline: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (opt.help) {
  console.log(USAGE);
  process.exit(0);
}
const cfg = {
  rounds: Number(opt.rounds ?? (opt.quick ? 1 : 3)),
  bulkBytes: Number(opt['bulk-mb'] ?? (opt.quick ? 256 : 2048)) * 1024 * 1024,
  duration: Number(opt.duration ?? (opt.quick ? 3 : 10)),
  concurrency: Number(opt.concurrency),
  idle: Number(opt.idle ?? (opt.quick ? 200 : 1000)),
  only: opt.only ? new Set(opt.only.split(',')) : undefined,
  phases: new Set(opt.phases.split(',')),
  rates: opt.rates.split(',').map(Number).filter((n) => n > 0),
  gatewayProf: opt['gateway-prof'],
  gatewayNodeArgs: opt['gateway-node-args'].split(' ').filter((a) => a !== ''),
  baseline: opt.baseline,
};

const plan = cpuPlan();
const dirs = [];
/** children are every process started, stopped at the end whatever happened. */
const children = [];
const track = (child) => (children.push(child), child);
const tmp = (name) => {
  const d = mkdtempSync(join(os.tmpdir(), `switchyard-bench-${name}-`));
  dirs.push(d);
  return d;
};

/** accepts resolves once a stream through `port` echoes a byte (the whole path works). */
async function echoes(port) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    const done = (ok) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('error', () => done(false));
    s.once('connect', () => s.write('Ez'));
    s.once('data', () => done(true));
  });
}

/** ready waits until the candidate echoes, or its process exits, or the deadline passes. */
async function ready(child, port, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    if (await echoes(port)) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

/** startHaproxy runs HAProxy 2.x `mode tcp`, one thread. */
async function startHaproxy(sink) {
  const haproxy = which('haproxy');
  if (!haproxy) return { skip: 'haproxy: not installed (apt-get install haproxy)' };
  const dir = tmp('haproxy');
  const port = await freePort();
  writeFileSync(
    join(dir, 'haproxy.cfg'),
    `global\n  nbthread 1\n  maxconn 8000\n  log stdout format raw local0\ndefaults\n  mode tcp\n  log global\n  option tcplog\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\nfrontend fe\n  bind 127.0.0.1:${port}\n  default_backend be\nbackend be\n  server s1 127.0.0.1:${sink}\n`,
  );
  // Its log line per connection goes to a file, like the gateway's and nginx's.
  const child = track(launch(haproxy, ['-db', '-f', join(dir, 'haproxy.cfg')], { cpus: plan.proxy, name: 'haproxy', stdoutFile: join(dir, 'access.log') }));
  if (!(await ready(child, port))) return { skip: `haproxy: did not start: ${child.stderrTail.trim().split('\n').find((l) => l.includes('ALERT')) ?? child.stderrTail.trim().split('\n')[0] ?? ''}`, child };
  const version = /version (\S+)/.exec(spawnSync(haproxy, ['-v'], { encoding: 'utf8' }).stdout)?.[1] ?? '?';
  return { name: `haproxy ${version} (mode tcp, 1 thread, tcplog)`, key: 'haproxy', child, port };
}

/** streamModule finds nginx's dynamic stream module (Debian: libnginx-mod-stream), or undefined. */
function streamModule() {
  for (const d of ['/usr/lib/nginx/modules', '/usr/share/nginx/modules']) {
    if (existsSync(d) && readdirSync(d).includes('ngx_stream_module.so')) return join(d, 'ngx_stream_module.so');
  }
  return undefined;
}

/** startNginx runs nginx `stream` with one worker, when the stream module is available. */
async function startNginx(sink) {
  const nginx = which('nginx');
  if (!nginx) return { skip: 'nginx: not installed' };
  const built = spawnSync(nginx, ['-V'], { encoding: 'utf8' }).stderr;
  const dynamic = /--with-stream=dynamic/.test(built);
  const mod = dynamic ? streamModule() : undefined;
  if (!/--with-stream\b/.test(built)) return { skip: 'nginx: built without the stream module' };
  if (dynamic && !mod) return { skip: 'nginx: the stream module is built as a dynamic module that is not installed here (Debian: apt-get install libnginx-mod-stream); measured against HAProxy only' };
  const dir = tmp('nginx');
  const port = await freePort();
  writeFileSync(
    join(dir, 'nginx.conf'),
    `${mod ? `load_module ${mod};\n` : ''}worker_processes 1;\ndaemon off;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log warn;\nevents { worker_connections 8000; }\nstream {\n  log_format basic '$remote_addr [$time_local] $protocol $status $bytes_sent $bytes_received $session_time $upstream_addr';\n  access_log ${dir}/access.log basic;\n  server {\n    listen 127.0.0.1:${port};\n    proxy_pass 127.0.0.1:${sink};\n  }\n}\n`,
  );
  const child = track(launch(nginx, ['-p', dir, '-c', join(dir, 'nginx.conf')], { cpus: plan.proxy, name: 'nginx' }));
  if (!(await ready(child, port))) return { skip: `nginx: did not start: ${child.stderrTail.trim().split('\n')[0] ?? ''}`, child };
  return { name: 'nginx stream (1 worker, access_log)', key: 'nginx', child, port };
}

/** startNodeProxy runs bench/lib/node-tcp-proxy.js: the smallest Node TCP proxy, the runtime's own cost per connection. */
async function startNodeProxy(sink) {
  const port = await freePort();
  const child = track(launch(process.execPath, [new URL('./lib/node-tcp-proxy.js', import.meta.url).pathname, String(port), String(sink)], { cpus: plan.proxy, name: 'node' }));
  if (!(await ready(child, port))) return { skip: `node: did not start: ${child.stderrTail.trim().split('\n')[0] ?? ''}`, child };
  return { name: `node-minimal (net + pipe, no log: the runtime's floor)`, key: 'node', child, port };
}

/** startGatewayStreams runs the built CLI with a `streams:` listener and a stream route to the sink. */
async function startGatewayStreams(sink, cli = CLI, key = 'gateway') {
  if (!existsSync(cli)) return { skip: `${key}: not built (npm run build)` };
  const dir = tmp('gateway');
  mkdirSync(join(dir, 'routes'));
  const [port, httpPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  const gateway = {
    listen: { host: '127.0.0.1', port: httpPort },
    admin: { host: '127.0.0.1', port: adminPort },
    routes: './routes',
    streams: { bench: { listen: { host: '127.0.0.1', port }, protocol: 'tcp' } },
  };
  writeFileSync(join(dir, 'gateway.yaml'), JSON.stringify(gateway, null, 2));
  writeFileSync(
    join(dir, 'routes', 'bench.json'),
    JSON.stringify({ upstreams: { sink: { targets: [{ url: `tcp://127.0.0.1:${sink}` }] } }, streamRoutes: [{ id: 'bench', listener: 'bench', upstream: 'sink' }] }, null, 2),
  );
  const prof = cfg.gatewayProf ? cpuProfArgs(cfg.gatewayProf) : [];
  const inspectPort = await freePort();
  // As shipped: no log settings (the access log on, a line per connection), stdout — the log — to a file as the references' logs.
  const child = track(
    launch(process.execPath, [...(await servingFlags(cli)), ...(key === 'gateway' ? [...prof, ...cfg.gatewayNodeArgs] : []), ...inspectorArgs(inspectPort), cli, 'start', '--config', join(dir, 'gateway.yaml'), '--workers', '1'], {
      cpus: plan.proxy,
      env: { NODE_ENV: 'production' },
      name: 'gateway',
      stdoutFile: join(dir, 'stdout.log'),
    }),
  );
  if (!(await ready(child, port))) {
    const why = child.stderrTail.trim().split('\n').find((l) => /stream|error|invalid/i.test(l)) ?? child.stderrTail.trim().split('\n')[0] ?? '';
    return { skip: `${key}: streams not supported by this build${why ? ` (${why.slice(0, 160)})` : ''}`, child };
  }
  const variant = key === 'gateway' && cfg.gatewayNodeArgs.length > 0 ? `gateway (1 process, access log on; variant: node ${cfg.gatewayNodeArgs.join(' ')})` : undefined;
  return { name: variant ?? (key === 'gateway' ? 'gateway (1 process, as shipped: access log on)' : `${key} (${cli})`), key, child, port, settle: () => forceGc(child.pid, inspectPort) };
}

/** treeCpuMs is the CPU time of a process and its direct children (nginx's worker runs under its master). */
const treeCpuMs = (pid) => [pid, ...childPids(pid)].reduce((n, p) => n + cpuMsOf(p), 0);

/** settledRss forces a full GC where the candidate can (Node), then reads its tree's RSS until two readings 250 ms apart differ by < 64 KiB (at most 5 s). */
async function settledRss(c) {
  if (c.settle) await c.settle();
  let last = treeRss(c.child.pid);
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const now = treeRss(c.child.pid);
    if (Math.abs(now - last) < 64 * 1024) return now;
    last = now;
  }
  return last;
}

/** fixedRates is a candidate's empty record per fixed rate: per-round p99s, all latencies, the generator's start lateness. */
const fixedRates = () => Object.fromEntries(cfg.rates.map((r) => [r, { p99s: [], ttfb: [], late: [] }]));

/** median of a list (undefined when empty). */
function median(xs) {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const STARTERS = { haproxy: startHaproxy, nginx: startNginx, node: startNodeProxy, gateway: (sink) => startGatewayStreams(sink) };
if (cfg.baseline) STARTERS['gateway-baseline'] = (sink) => startGatewayStreams(sink, cfg.baseline, 'gateway-baseline');

async function main() {
  console.log(`L4 benchmark: ${plan.pinned ? `${plan.count} CPUs: the candidate pinned to CPU 0; the sink and the load generator share CPU ${plan.rest} (upstream-direct, no proxy, is the ceiling of this harness)` : plan.note}`);
  console.log(`load average at the start: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  console.log(`bulk ${fmtInt(cfg.bulkBytes / 1024 / 1024)} MB, short connections ${cfg.duration}s × ${cfg.concurrency} loops, fixed rates ${cfg.rates.join(', ')} conn/s × ${cfg.duration}s, ${cfg.idle} idle streams, ${cfg.rounds} round(s)\n`);
  const sinkChild = track(launchNode(new URL('./lib/stream-sink.js', import.meta.url).pathname, [], { cpus: plan.rest, name: 'sink' }));
  const { port: sink } = await nextMessage(sinkChild, 'ready');
  const load = track(launchNode(new URL('./lib/stream-load.js', import.meta.url).pathname, [], { cpus: plan.rest, name: 'load' }));
  await nextMessage(load, 'ready');
  const ask = async (m) => {
    load.send(m);
    return nextMessage(load, m.type, 600_000);
  };

  // upstream-direct: the sink without a proxy, the ceiling of this harness (not measured for RSS).
  const candidates = cfg.only && !cfg.only.has('direct') ? [] : [{ name: 'upstream-direct (no proxy: the harness ceiling)', key: 'direct', port: sink, bulk: [], cps: [], ttfb: [], p99s: [], cpuPerGB: [], cpuPerConn: [], at: fixedRates(), errors: 0 }];
  for (const [key, start] of Object.entries(STARTERS)) {
    if (cfg.only && !cfg.only.has(key)) continue;
    const c = await start(sink);
    if (c.skip) {
      console.log(c.skip);
      if (c.child) await stop(c.child);
      continue;
    }
    candidates.push({ ...c, bulk: [], cps: [], ttfb: [], p99s: [], cpuPerGB: [], cpuPerConn: [], at: fixedRates(), errors: 0 });
  }
  if (!candidates.some((c) => c.key !== 'direct')) throw new Error('no proxy candidate could run');

  // RSS per idle stream first, on fresh processes: after the bulk phase a Node heap holds garbage
  // that a collection between two readings would free (the reading went negative). Each reading
  // follows a forced full GC (Node: over the inspector) and a settle (RSS stable within 64 KiB).
  if (cfg.phases.has('idle')) {
    for (const c of candidates) {
      if (c.key === 'direct') continue;
      const before = await settledRss(c);
      await ask({ type: 'open', port: c.port, n: cfg.idle });
      const after = await settledRss(c);
      await ask({ type: 'close' });
      c.rssIdle = before;
      c.perStream = (after - before) / cfg.idle;
    }
  }
  const foreign = new ForeignLoad(() => [...children].map((c) => c.pid), plan.count);
  foreign.start();
  for (let r = 0; r < cfg.rounds; r++) {
    const order = candidates.map((_, i) => candidates[(i + r) % candidates.length]);
    for (const c of order) {
      const line = [];
      if (cfg.phases.has('bulk')) {
        // CPU time of the candidate and of the harness (load generator + sink) over the phase: who is busy, who waits.
        const cpu0 = [c.child ? treeCpuMs(c.child.pid) : 0, cpuMsOf(load.pid) + cpuMsOf(sinkChild.pid)];
        const b = await ask({ type: 'bulk', port: c.port, bytes: cfg.bulkBytes });
        const busy = [c.child ? (treeCpuMs(c.child.pid) - cpu0[0]) / b.ms : 0, (cpuMsOf(load.pid) + cpuMsOf(sinkChild.pid) - cpu0[1]) / b.ms];
        if (b.acked !== cfg.bulkBytes) c.errors++;
        c.bulk.push(cfg.bulkBytes / 1024 / 1024 / (b.ms / 1000));
        // CPU seconds per GB through: what a candidate costs, whatever share of the CPU the machine's other processes left it.
        if (c.child) c.cpuPerGB.push((busy[0] * b.ms) / 1000 / (cfg.bulkBytes / 1024 ** 3));
        line.push(`bulk ${fmtInt(c.bulk.at(-1))} MB/s (CPU busy: candidate ${Math.round(busy[0] * 100)} %${c.child ? ` = ${c.cpuPerGB.at(-1).toFixed(2)} CPU s/GB` : ''}, load+sink ${Math.round(busy[1] * 100)} %)`);
      }
      if (cfg.phases.has('short')) {
        const cpuBefore = c.child ? treeCpuMs(c.child.pid) : 0;
        const s = await ask({ type: 'short', port: c.port, seconds: cfg.duration, concurrency: cfg.concurrency });
        const perConn = c.child && s.done > 0 ? ((treeCpuMs(c.child.pid) - cpuBefore) * 1000) / s.done : undefined;
        c.cps.push(s.done / cfg.duration);
        if (perConn !== undefined) c.cpuPerConn.push(perConn);
        const sorted = [...s.ttfb].sort((a, b) => a - b);
        c.p99s.push(percentile(sorted, 99));
        for (const t of s.ttfb) c.ttfb.push(t);
        c.errors += s.errors;
        line.push(`${fmtInt(c.cps.at(-1))} conn/s, p99 ${fmtMs(c.p99s.at(-1))} ms, ${s.errors} errors${perConn === undefined ? '' : `, candidate CPU ${Math.round(perConn)} µs/connection`}`);
      }
      if (cfg.phases.has('rate')) {
        for (const rate of cfg.rates) {
          const at = c.at[rate];
          const cpuBefore = c.child ? treeCpuMs(c.child.pid) : 0;
          const s = await ask({ type: 'rate', port: c.port, seconds: cfg.duration, rate });
          const busy = c.child ? (treeCpuMs(c.child.pid) - cpuBefore) / (cfg.duration * 1000) : undefined;
          at.p99s.push(percentile([...s.ttfb].sort((a, b) => a - b), 99));
          for (const t of s.ttfb) at.ttfb.push(t);
          at.late.push(s.lateP99);
          c.errors += s.errors;
          line.push(`at ${fmtInt(rate)}/s p99 ${fmtMs(at.p99s.at(-1))} ms (starts late p99 ${fmtMs(s.lateP99)} ms${busy === undefined ? '' : `, candidate CPU ${Math.round(busy * 100)} %`}${s.errors ? `, ${s.errors} errors` : ''})`);
        }
      }
      console.log(`round ${r + 1} ${c.key}: ${line.join(', ')}`);
    }
  }

  const disturbance = foreign.stop();
  // HAProxy and nginx (C, no JIT) are the steady references: their round-to-round spread is the machine's.
  const refs = candidates.filter((c) => c.key === 'haproxy' || c.key === 'nginx');
  const short = cfg.phases.has('short');
  const steady = steadinessOf(
    refs.flatMap((c) =>
      short
        ? [{ name: `${c.key}'s short conn/s`, values: c.cps }, { name: `${c.key}'s CPU µs/connection`, values: c.cpuPerConn }]
        : [{ name: `${c.key}'s bulk MB/s`, values: c.bulk }, { name: `${c.key}'s CPU s/GB`, values: c.cpuPerGB }],
    ),
  );
  const quietness = verdict(disturbance, steady, cfg.rounds === 1 ? 'with one round' : 'with neither HAProxy nor nginx in the run');
  const ref = candidates.find((c) => c.key === 'haproxy');
  for (const c of candidates) {
    const sorted = [...c.ttfb].sort((a, b) => a - b);
    c.p50 = percentile(sorted, 50);
    c.p99 = percentile(sorted, 99);
    for (const at of Object.values(c.at)) {
      const all = [...at.ttfb].sort((a, b) => a - b);
      at.p50 = percentile(all, 50);
      at.p99 = percentile(all, 99);
    }
  }
  const rows = candidates.map((c) => {
    return [
      c.name,
      fmtInt(mean(c.bulk)),
      fmtInt(mean(c.cps)),
      `${fmtMs(c.p50)} / ${fmtMs(c.p99)}`,
      ...cfg.rates.map((r) => (c.at[r].ttfb.length ? `${fmtMs(c.at[r].p50)} / ${fmtMs(c.at[r].p99)}` : '–')),
      String(c.errors),
      c.rssIdle === undefined ? '–' : `${mib(c.rssIdle)} + ${(c.perStream / 1024).toFixed(1)} KiB/stream`,
      ref ? `${fmtRatio(mean(c.bulk) / mean(ref.bulk))} / ${fmtRatio(mean(c.cps) / mean(ref.cps))} / ${fmtRatio(c.p99 / ref.p99)}` : '–',
    ];
  });
  console.log('');
  console.log(table(['candidate', 'bulk MB/s', 'short conn/s', 'connect→first byte p50 / p99 ms', ...cfg.rates.map((r) => `at ${fmtInt(r)} conn/s p50 / p99 ms`), 'errors', 'RSS idle + per idle stream', 'vs HAProxy: bulk / conn/s / p99'], rows));
  for (const gw of candidates.filter((c) => c.key.startsWith('gateway'))) {
    if (!ref) break;
    // Same-round ratios (each round measures both back to back), then their median: drift between rounds cancels.
    const ratios = (k) => gw[k].map((v, i) => v / ref[k][i]).filter((x) => Number.isFinite(x));
    const show = (k) => (ratios(k).length ? `${fmtRatio(median(ratios(k)))} (rounds ${ratios(k).map((x) => x.toFixed(2)).join(', ')})` : '–');
    const atRate = cfg.rates
      .map((r) => {
        const xs = gw.at[r].p99s.map((v, i) => v / ref.at[r].p99s[i]).filter((x) => Number.isFinite(x));
        return xs.length ? `at ${fmtInt(r)} conn/s ${fmtRatio(median(xs))} (rounds ${xs.map((x) => x.toFixed(2)).join(', ')})` : undefined;
      })
      .filter(Boolean);
    console.log(`\n${gw.key} against the targets (issue 18), median of same-round ratios: bulk ≥ 0.8× HAProxy: ${show('bulk')}; conn/s ≥ 0.5×: ${show('cps')}; p99 ≤ 2×: ${atRate.length ? atRate.join('; ') : '–'}; p99 at saturation (50 closed loops, queueing): ${show('p99s')}`);
  }
  for (const c of candidates.filter((x) => x.child)) {
    const gb = median(c.cpuPerGB);
    const conn = median(c.cpuPerConn);
    if (gb !== undefined || conn !== undefined) console.log(`${c.key}: median CPU ${gb === undefined ? '–' : `${gb.toFixed(2)} s/GB (bulk)`}, ${conn === undefined ? '–' : `${Math.round(conn)} µs/connection (short)`}`);
  }
  if (cfg.phases.has('idle')) console.log('RSS per idle stream: (RSS with N streams open − RSS before) / N, each reading after a forced full GC (Node candidates, over the inspector) and a settle; measured on fresh processes, before the other phases.');
  console.log(quietness.text);
  console.log(`load average at the end: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  await Promise.all([...candidates.filter((c) => c.child).map((c) => stop(c.child)), stop(load), stop(sinkChild)]);
}

main()
  .catch((err) => {
    console.error(err.message ?? err);
    process.exitCode = 1;
  })
  .finally(async () => {
    await Promise.all(children.map((c) => stop(c)));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
