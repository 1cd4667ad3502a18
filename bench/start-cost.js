#!/usr/bin/env node
/**
 * What a gateway loads and holds right after start: `npm run build && node
 * bench/start-cost.js [--runs N] [--chain] [--list]`.
 *
 * Starts the built CLI the way the benchmark does (bench/lib/gateway.js: a
 * plain gateway.yaml, 10 routes, NODE_ENV=production, one process; with
 * --chain the benchmark's request-id → jwt → rate-limit chain), waits for the
 * first proxied 200, then reads its RSS and asks the module census preload
 * (bench/lib/module-census.js) for the ES modules and CommonJS files loaded
 * and the live heap after two full GCs. Prints the median of N runs and,
 * per package / per src folder, what was loaded; --list prints every file.
 */
import { readFileSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLI, ROOT, chainRefs, startGateway } from './lib/gateway.js';
import { launchNode, nextMessage, rssOf, stop } from './lib/procs.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, chain: { type: 'boolean', default: false }, list: { type: 'boolean', default: false } } });
if (!existsSync(CLI)) {
  process.stderr.write(`${CLI} not found: npm run build first\n`);
  process.exit(1);
}
const census = new URL('./lib/module-census.js', import.meta.url).href;
const MiB = (b) => (b / 1048576).toFixed(1);

/** area names where a loaded file comes from: a package, a src/ folder, or node's own. */
function area(file) {
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = file.slice(nm + 14).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const src = file.indexOf('/dist/src/');
  if (src >= 0) return `src/${file.slice(src + 10).split('/')[0].replace(/\.js$/, '.js')}`;
  return file;
}

/**
 * once starts the gateway twice: plain, for its RSS (the census's hooks run
 * on a thread of their own, which has an RSS of its own), then with the
 * census preload and --expose-gc for the modules and the live heap.
 */
async function once() {
  const upstream = launchNode(join(ROOT, 'bench/lib/upstream-server.js'), ['100'], { name: 'upstream' });
  const { port } = await nextMessage(upstream, 'ready');
  const options = { targets: [`http://127.0.0.1:${port}`], chain: values.chain ? chainRefs() : [], headers: values.chain ? { authorization: `Bearer ${await token()}` } : undefined };
  const plain = await startGateway(options);
  const rss = rssOf(plain.pid);
  await stop(plain.child);
  rmSync(plain.dir, { recursive: true, force: true });
  const out = join(ROOT, `.start-cost-${process.pid}.json`);
  process.env.MODULE_CENSUS_OUT = out;
  const gw = await startGateway({ ...options, nodeArgs: ['--expose-gc', '--import', census] });
  try {
    rmSync(out, { force: true });
    process.kill(gw.pid, 'SIGUSR2');
    const deadline = Date.now() + 10_000;
    while (!existsSync(out)) {
      if (Date.now() > deadline) throw new Error('no census written');
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 50)); // the write is synchronous, but the file appears before it ends
    const report = JSON.parse(readFileSync(out, 'utf8'));
    return { rss, heap: report.heapUsed, esm: report.esm.map((u) => new URL(u).pathname), cjs: report.cjs };
  } finally {
    rmSync(out, { force: true });
    await stop(gw.child);
    await stop(upstream);
    rmSync(gw.dir, { recursive: true, force: true });
  }
}

/** token signs the HS256 token the chain's jwt entry accepts. */
async function token() {
  const { default: jwt } = await import('jsonwebtoken');
  const { JWT_SECRET } = await import('./lib/gateway.js');
  return jwt.sign({ sub: 'bench-user' }, JWT_SECRET, { algorithm: 'HS256', expiresIn: '1h' });
}

const runs = [];
for (let i = 0; i < Number(values.runs); i++) runs.push(await once());
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const last = runs[runs.length - 1];
process.stdout.write(`${values.chain ? 'chain (request-id → jwt → rate-limit)' : 'no plugins'}, ${runs.length} runs\n`);
process.stdout.write(`ES modules ${median(runs.map((r) => r.esm.length))}, CommonJS files ${median(runs.map((r) => r.cjs.length))}\n`);
process.stdout.write(`live heap after GC ${MiB(median(runs.map((r) => r.heap)))} MiB (${runs.map((r) => MiB(r.heap)).join(', ')}), RSS after start ${MiB(median(runs.map((r) => r.rss)))} MiB (${runs.map((r) => MiB(r.rss)).join(', ')})\n`);
const groups = new Map();
for (const [kind, files] of [['es', last.esm], ['cjs', last.cjs]]) {
  for (const f of files) {
    const g = groups.get(area(f)) ?? { es: 0, cjs: 0, files: [] };
    g[kind]++;
    g.files.push(f);
    groups.set(area(f), g);
  }
}
for (const [name, g] of [...groups].sort((a, b) => b[1].es + b[1].cjs - (a[1].es + a[1].cjs))) {
  process.stdout.write(`  ${name.padEnd(28)} es ${String(g.es).padStart(4)}  cjs ${String(g.cjs).padStart(4)}\n`);
  if (values.list) for (const f of g.files) process.stdout.write(`      ${f.replace(ROOT, '.')}\n`);
}
