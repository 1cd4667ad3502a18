#!/usr/bin/env node
/**
 * Where the idle memory goes: `npm run build && node bench/memory.js [options]`.
 *
 * Starts, one at a time and unpinned, bare node (the floor every Node process
 * pays), the undici-minimal and bare-fastify-proxy references, and the
 * gateway (the built CLI, one process) with 10 and with N routes; lets each
 * settle without traffic (by default past the gateway's idle memory release,
 * memory.releaseWhenIdle) and splits its RSS: the node executable's pages,
 * shared libraries, V8's young generation (committed semi-spaces) and the
 * rest of the V8 heap, other anonymous memory (malloc arenas of the main and
 * helper threads, JIT and wasm code); then the live heap after a full GC.
 * Heap figures are read over the inspector protocol (--inspect on a loopback
 * port, as the soak test does). With --runs N each process is started N
 * times and the run with the median RSS is shown (malloc fragmentation makes
 * single readings vary by a few MiB). With --modules, also the heap each
 * dependency and each gateway layer costs when imported alone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { BENCH_PATH, CLI, ROOT, startGateway } from './lib/gateway.js';
import { IDLE_RSS_TARGET, IDLE_SETTLE_MS } from './lib/memory.js';
import { Inspector } from './lib/mixed.js';
import { launch, launchNode, nextMessage, stop, waitHttp } from './lib/procs.js';
import { memoryMap } from './lib/smaps.js';
import { table } from './lib/table.js';

const USAGE = `Usage: node bench/memory.js [options]   (after npm run build)

  --routes N           routes of the second gateway (default ${IDLE_RSS_TARGET.routes})
  --settle S           seconds each process idles before it is read (default ${IDLE_SETTLE_MS(false) / 1000}: past the idle memory release)
  --runs N             start each process N times, show the median run and the RSS range (default 1)
  --node-args="FLAGS"  node flags for the gateways (e.g. --node-args="--max-semi-space-size=8")
  --modules            also measure the heap each dependency and gateway layer costs alone
  -h, --help
`;

let values;
try {
  ({ values } = parseArgs({
    options: {
      routes: { type: 'string', default: String(IDLE_RSS_TARGET.routes) },
      settle: { type: 'string', default: String(IDLE_SETTLE_MS(false) / 1000) },
      runs: { type: 'string', default: '1' },
      modules: { type: 'boolean', default: false },
      'node-args': { type: 'string', default: '' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }));
} catch (err) {
  process.stderr.write(`bench/memory: ${err.message}\n\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const routes = Number(values.routes);
const settleMs = Number(values.settle) * 1000;
const runs = Number(values.runs);
const nodeArgs = values['node-args'].split(/\s+/).filter(Boolean);
if (!Number.isInteger(routes) || routes < 1 || !(settleMs >= 0) || !Number.isInteger(runs) || runs < 1) {
  process.stderr.write(`bench/memory: bad --routes, --settle or --runs\n\n${USAGE}`);
  process.exit(2);
}
if (!existsSync(CLI)) {
  process.stderr.write(`${CLI} not found: npm run build first\n`);
  process.exit(1);
}

const lib = (f) => new URL(`./lib/${f}`, import.meta.url).pathname;
const INSPECT = '--inspect=127.0.0.1:0';
const MiB = (b) => (Number.isFinite(b) ? (b / 1048576).toFixed(1) : '-');

/** read splits a settled process's memory; the RSS is read before the inspector is used. */
async function read(child) {
  await new Promise((r) => setTimeout(r, settleMs));
  const map = memoryMap(child.pid);
  const inspector = await Inspector.connect(child);
  try {
    const r = await inspector.call('Runtime.evaluate', {
      expression: "JSON.stringify(require('v8').getHeapSpaceStatistics().map((s) => [s.space_name, s.physical_space_size]))",
      includeCommandLineAPI: true,
      returnByValue: true,
    });
    // physical_space_size: the part of each space that is resident.
    const spaces = Object.fromEntries(JSON.parse(r.result.value));
    const v8 = Object.values(spaces).reduce((a, b) => a + b, 0);
    const youngGen = spaces.new_space + spaces.new_large_object_space;
    const live = await inspector.heapAfterGc();
    const anon = map.v8Pages + map.otherAnon;
    return { ...map, youngGen, v8Rest: v8 - youngGen, otherAnon: anon - v8, live };
  } finally {
    inspector.close();
  }
}

const upstream = launchNode(lib('upstream-server.js'), ['100'], { name: 'upstream' });
const target = `http://127.0.0.1:${(await nextMessage(upstream, 'ready')).port}`;
const targets = [target, target, target];

const candidates = [
  ['node (floor)', async () => launch(process.execPath, [INSPECT, '-e', 'setInterval(() => {}, 1000)'], { name: 'node' })],
  ['undici-minimal', async () => {
    const c = launchNode(lib('undici-proxy.js'), targets, { nodeArgs: [INSPECT], name: 'undici-minimal' });
    await nextMessage(c, 'ready');
    return c;
  }],
  ['bare-fastify-proxy', async () => {
    const c = launchNode(lib('fastify-proxy.js'), [target], { nodeArgs: [INSPECT], name: 'bare-fastify-proxy' });
    await nextMessage(c, 'ready');
    return c;
  }],
  ...[10, routes].map((n) => [`gateway, ${n} routes`, async () => {
    const g = await startGateway({ targets, routes: n, nodeArgs: [...nodeArgs, INSPECT] });
    await waitHttp(g.url);
    return g.child;
  }]),
];

const rows = [];
const results = {};
try {
  for (const [name, start] of candidates) {
    const seen = [];
    for (let i = 0; i < runs; i++) {
      const child = await start();
      try {
        seen.push(await read(child));
      } finally {
        await stop(child, 5000);
      }
    }
    seen.sort((a, b) => a.rss - b.rss);
    const m = seen[Math.floor((seen.length - 1) / 2)];
    results[name] = m;
    const range = runs > 1 ? [`${MiB(seen[0].rss)}-${MiB(seen.at(-1).rss)}`] : [];
    rows.push([name, MiB(m.rss), ...range, MiB(m.executable), MiB(m.libraries), MiB(m.youngGen), MiB(m.v8Rest), MiB(m.otherAnon), MiB(m.live)]);
  }
} finally {
  await stop(upstream, 2000);
}

console.log(`idle memory after ${settleMs / 1000}s without traffic, MiB (${process.version}; gateway: ${BENCH_PATH} route, no plugins, 1 process, memory.releaseWhenIdle as shipped (off)${nodeArgs.length ? `, ${nodeArgs.join(' ')}` : ''}${runs > 1 ? `; median of ${runs} runs` : ''})\n`);
console.log(table(['process', 'RSS', ...(runs > 1 ? ['RSS range'] : []), 'node exe', 'libs', 'V8 young gen', 'V8 other', 'other anon', 'live heap after GC'], rows));
console.log(`
node exe    = pages of the node executable (file-backed; shared between node processes, counted in each RSS)
V8 young gen = resident part of the semi-spaces (grown to the maximum during start-up; the gateway's idle release shrinks them)
V8 other    = resident part of the rest of the V8 heap (old space with start-up garbage, code, large objects)
other anon  = anonymous memory outside the V8 heap: malloc (main heap, arenas of V8's and libuv's helper
              threads), JIT and wasm code, stacks
live heap   = heap in use after a forced full GC (what the process really keeps)`);
const big = results[`gateway, ${routes} routes`];
if (big && routes === IDLE_RSS_TARGET.routes) {
  const before = settleMs < IDLE_SETTLE_MS(false) ? ` (read after ${settleMs / 1000}s: maybe before the idle memory release)` : '';
  console.log(`\ngateway with ${routes} routes: ${MiB(big.rss)} MiB (${(big.rss / 1e6).toFixed(1)} MB) idle${runs > 1 ? `, median of ${runs}` : ''}${before}; target <= ${IDLE_RSS_TARGET.bytes / 1e6} MB: ${big.rss <= IDLE_RSS_TARGET.bytes ? 'met' : 'NOT met'}`);
}

if (values.modules) {
  const dist = (f) => pathToFileURL(join(ROOT, 'dist/src', f)).href;
  const modules = [
    ['undici', 'undici, the whole index', 'no (src/http/undici.ts)'],
    ['undici/lib/dispatcher/pool.js', 'undici Pool alone', 'yes'],
    ['fastify', 'fastify', 'yes (admin API)'],
    ['ajv', 'ajv', 'yes (config, plugin options)'],
    ['@sinclair/typebox', 'TypeBox', 'yes (schemas)'],
    ['yaml', 'yaml', 'yes (config files)'],
    ['pino', 'pino', 'yes'],
    ['prom-client', 'prom-client', 'yes (metrics)'],
    ['jsonwebtoken', 'jsonwebtoken', 'with a jwt entry'],
    ['jwks-rsa', 'jwks-rsa', 'with a jwt jwksUri'],
    ['ioredis', 'ioredis', 'with redis.url'],
    ['tsx/esm/api', 'tsx', 'with a .ts custom plugin'],
    ['pino-pretty', 'pino-pretty', 'only in a terminal (log.pretty)'],
    [dist('streams/streams.js'), 'src/streams (L4 listeners)', 'with streams:'],
    [dist('discovery/index.js'), 'src/discovery (providers)', 'with a discover: pool or autoRoutes'],
    [dist('front-door/tls.js'), 'src/front-door/tls.js (TLS, HTTP/2)', 'with listen.tls'],
    [dist('diff/index.js'), 'src/diff', 'at the first reload'],
    [dist('admin/dashboard-page.js'), 'the dashboard page', 'at the first GET / on the admin port'],
    [dist('config/load.js'), 'src/config (TypeBox, ajv, yaml, schema compiled)', 'yes'],
    [dist('plugins/registry.js'), 'src/plugins (built-ins, option schemas compiled)', 'yes'],
    [dist('admin/server.js'), 'src/admin (fastify)', 'yes'],
    [dist('gateway/gateway.js'), 'src/gateway: the whole gateway module graph', 'yes'],
  ];
  const out = [];
  for (const [spec, label, loaded] of modules) {
    const r = spawnSync(process.execPath, ['--expose-gc', lib('module-cost.js'), spec], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) {
      out.push([label, '-', '-', '-', `failed: ${r.stderr.split('\n')[0]}`]);
      continue;
    }
    const c = JSON.parse(r.stdout);
    out.push([label, MiB(c.heapBytes), MiB(c.rssBytes), c.ms.toFixed(0), loaded]);
  }
  console.log('\nheap each module costs imported alone into bare node (after a full GC; shared dependencies count in each row):\n');
  console.log(table(['module', 'heap MiB', 'RSS MiB', 'load ms', 'loaded by the gateway'], out));
}
