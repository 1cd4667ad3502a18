/**
 * Switchyard as a benchmark candidate: writes a throwaway config directory
 * (gateway.yaml + one route file) and runs the real CLI,
 * `node dist/src/cli/index.js start --config FILE`, in a child process, the
 * way users run it. Plugins of the "chain" variant that are not registered
 * yet (or whose options no longer validate) are left out with a note instead
 * of failing the whole run.
 */
import { existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { childPids, cpuProfArgs, freePort, httpGet, launch, waitHttp } from './procs.js';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const CLI = join(ROOT, 'dist/src/cli/index.js');

/** BENCH_PATH is the path every candidate is loaded on; the gateway's hit route is `/api/*`, declared last. */
export const BENCH_PATH = '/api/items/42?view=full';

/** JWT_SECRET signs the HS256 token the load generator sends (32 bytes: the HS256 minimum). */
export const JWT_SECRET = 'switchyard-bench-secret-0123456789abcdef';

/**
 * chainRefs is the realistic chain, in order: request-id, jwt (HS256) and a
 * rate limit per user (the token's sub) on the embedded store, high
 * enough never to trigger.
 */
export function chainRefs() {
  return [
    { name: 'request-id', ref: 'request-id' },
    { name: 'jwt', ref: { jwt: { algorithms: ['HS256'], secret: JWT_SECRET } } },
    { name: 'rate-limit', ref: { 'rate-limit': { max: 1_000_000_000, window: '1m', key: 'claim:sub' } } },
  ];
}

/**
 * resolveChain keeps the chain entries the built registry (dist/) knows and
 * whose options validate; the others are returned as notes. The registry's
 * own errors (UnknownPluginError with its suggestion, option errors) are quoted.
 */
export async function resolveChain(refs = chainRefs(), root = ROOT) {
  const { PluginRegistry } = await import(join(root, 'dist/src/plugins/registry.js'));
  const registry = new PluginRegistry();
  const kept = [];
  const notes = [];
  for (const { name, ref } of refs) {
    try {
      const parsed = registry.parseRef(ref);
      const result = registry.validateOptions(parsed.name, parsed.options);
      if (!result.ok) {
        notes.push(`plugin "${name}" skipped: its options do not validate (${result.errors.map((e) => `${e.path.join('.') || '(options)'}: ${e.message}`).join('; ')}) — update bench/lib/gateway.js chainRefs()`);
        continue;
      }
      kept.push({ name, ref });
    } catch (err) {
      notes.push(`plugin "${name}" skipped: ${err.message}`);
    }
  }
  return { kept, notes };
}

/**
 * routeDocs generates `count` routes (count - 1 fillers, then the `/api/*`
 * route the load hits) over one round-robin pool of the given targets. The
 * fillers vary depth and methods, like real route files do.
 */
export function routeFile({ targets, count, healthCheck }) {
  const routes = [];
  for (let i = 0; i < count - 1; i++) {
    const team = `team${i % 50}`;
    const match = i % 3 === 0 ? { path: `/${team}/svc${i}/*` } : i % 3 === 1 ? { path: `/${team}/svc${i}/v${i % 4}/*`, methods: ['GET', 'POST'] } : { path: `/${team}/svc${i}/status` };
    routes.push({ id: `filler-${i}`, match, upstream: 'bench' });
  }
  routes.push({ id: 'api', match: { path: '/api/*' }, upstream: 'bench' });
  const upstream = { balancer: 'round-robin', targets: targets.map((url) => ({ url })) };
  if (healthCheck) upstream.healthCheck = { path: '/healthz', interval: '1s', timeout: '500ms' };
  return { upstreams: { bench: upstream }, routes };
}

/**
 * writeConfig writes gateway.yaml (JSON is valid YAML) and routes/bench.json
 * into a fresh temp directory. The gateway.yaml is a plain one, as a user
 * writes it (listen, admin, routes, chain): every other option, the access log
 * and the log level included, is the shipped default. `log` (e.g.
 * `{ accessLog: false }`) makes a labelled variant; `extra` adds top-level
 * keys (a scaling phase's `limits`).
 */
export function writeConfig({ port, adminPort, targets, routes, chain, healthCheck, log, extra }) {
  const dir = mkdtempSync(join(os.tmpdir(), 'switchyard-bench-'));
  mkdirSync(join(dir, 'routes'));
  mkdirSync(join(dir, 'plugins'));
  const gateway = {
    listen: { host: '127.0.0.1', port },
    admin: { host: '127.0.0.1', port: adminPort },
    routes: './routes',
    plugins: './plugins',
    chain: chain.map((c) => c.ref),
    ...(log ? { log } : {}),
    ...extra,
  };
  writeFileSync(join(dir, 'gateway.yaml'), JSON.stringify(gateway, null, 2));
  writeFileSync(join(dir, 'routes', 'bench.json'), JSON.stringify(routeFile({ targets, count: routes, healthCheck }), null, 2));
  return join(dir, 'gateway.yaml');
}

/**
 * startGateway starts the CLI on free ports and waits until BENCH_PATH
 * answers 200 with `headers` (so a chain that rejects the load's token fails
 * here, not silently in the table). Returns { child, pid, url, config, dir,
 * port, adminPort, notes, workers, profileDir }; `dir` is the temp config
 * directory to remove. `nodeArgs` go before the CLI (e.g. --inspect).
 * `build.cli` runs another checkout's built CLI (bench --compare). `stdoutFile`
 * replaces the config directory's stdout.log (e.g. /dev/null, to tell the
 * file's cost from the encoder's).
 */
/**
 * servingFlags are the node options the build at `cli` (its dist/src/cli/index.js) is started
 * with by `npm start` and its container (src/process/node-flags.ts, since 2026-12-07): a build
 * from before them is started without, as it shipped.
 */
export async function servingFlags(cli) {
  const file = join(dirname(cli), '..', 'process', 'node-flags.js');
  if (!existsSync(file)) return [];
  return [...(await import(file)).SERVING_NODE_FLAGS];
}

export async function startGateway({ targets, routes = 10, chain = [], healthCheck = false, workers = 1, cpus, headers, profileDir, log, extra, nodeArgs: extraNodeArgs = [], build = { cli: CLI }, stdoutFile }) {
  const port = await freePort();
  const adminPort = await freePort();
  const config = writeConfig({ port, adminPort, targets, routes, chain, healthCheck, log, extra });
  // Started as `npm start` starts it: the serving flags first (servingFlags above).
  const nodeArgs = [...(await servingFlags(build.cli)), ...extraNodeArgs, ...cpuProfArgs(profileDir)];
  // --workers is always explicit: without it NODE_ENV=production means one
  // worker per CPU, and "1 worker" would silently be a primary plus N workers.
  const args = [...nodeArgs, build.cli, 'start', '--config', config, '--workers', String(workers)];
  // stdout (the JSON log, access lines included) goes to a file, as nginx's access log does: not to a pipe the harness would have to read.
  const child = launch(process.execPath, args, { cpus, env: { NODE_ENV: 'production' }, name: 'gateway', stdoutFile: stdoutFile ?? join(dirname(config), 'stdout.log') });
  const url = `http://127.0.0.1:${port}${BENCH_PATH}`;
  try {
    await waitHttp(url, { headers, child, timeoutMs: 30_000 });
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const notes = [];
  let workerCount = 1;
  if (workers > 1) {
    // The CLI accepts --workers; whether it forks is visible as child processes.
    const deadline = Date.now() + 5000;
    let kids = childPids(child.pid);
    while (kids.length < workers && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      kids = childPids(child.pid);
    }
    workerCount = kids.length;
    if (kids.length === 0) notes.push(`--workers ${workers} is accepted by the CLI but no worker process was forked: unsupported, measured with 1 process`);
    else if (kids.length < workers) notes.push(`--workers ${workers}: only ${kids.length} worker processes found`);
  }
  return { child, pid: child.pid, url, port, adminPort, config, dir: dirname(config), notes, workers: workerCount, profileDir };
}

/** profilesIn lists the .cpuprofile files Node wrote into a directory. */
export function profilesIn(dir) {
  try {
    return readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(dir, f));
  } catch {
    return [];
  }
}

/**
 * switchAccessLog turns a running gateway's access log on (the plain gateway.yaml it started
 * with, as shipped) or off (`log: { accessLog: false }`) the way an operator does: it rewrites
 * gateway.yaml (a write and a rename, as editors do) and waits until the gateway's file watch has
 * applied it (GET /config's version moves on). A reload that was rejected or that names a restart
 * throws: the measurement would not be what it says.
 */
export async function switchAccessLog(g, on, { timeoutMs = 10_000 } = {}) {
  const doc = JSON.parse(readFileSync(g.config, 'utf8'));
  if (on) delete doc.log;
  else doc.log = { ...doc.log, accessLog: false };
  const configUrl = `http://127.0.0.1:${g.adminPort}/config`;
  const view = async () => JSON.parse((await httpGet(configUrl)).body);
  const before = (await view()).version;
  const tmp = join(g.dir, '.gateway.yaml.tmp');
  writeFileSync(tmp, JSON.stringify(doc, null, 2));
  renameSync(tmp, g.config);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await view();
    if (v.version > before) {
      if (v.restartRequired?.length) throw new Error(`switching the access log named a restart: ${JSON.stringify(v.restartRequired)}`);
      return;
    }
    if (v.lastRejected && !v.lastRejected.superseded) throw new Error(`switching the access log was rejected: ${JSON.stringify(v.lastRejected)}`);
    if (Date.now() > deadline) throw new Error(`the gateway did not reload gateway.yaml within ${timeoutMs} ms (log.accessLog: ${on})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
