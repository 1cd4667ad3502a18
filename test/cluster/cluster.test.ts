/**
 * Cluster mode end to end: the real CLI (`start --workers 2`, run through
 * tsx) as a child process, a real upstream, real sockets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { resolveWorkers, WorkerCountInvalid } from '../../src/cluster/primary.js';
import { mergeStats, mergeUpstreams } from '../../src/cluster/merge.js';
import { SERVING_NODE_FLAGS } from '../../src/process/node-flags.js';
import { startUpstream, waitFor, type TestUpstream } from '../../src/testing/index.js';

const REPO = resolve(import.meta.dirname, '../..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** get sends one request on a new connection (so the cluster hands each to a worker afresh). */
function get(port: number, path: string, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function json<T = Record<string, any>>(port: number, path: string, method = 'GET'): Promise<T> {
  const r = await get(port, path, method);
  return JSON.parse(r.body) as T;
}

/** isAlive tells whether a pid still runs. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('resolveWorkers', () => {
  it.each([
    ['the flag first', '3', 2, {}, 3],
    ['then gateway.yaml', undefined, 2, {}, 2],
    ['then 1 in development', undefined, undefined, {}, 1],
  ] as const)('takes %s', (_name, flag, configured, env, want) => {
    expect(resolveWorkers(flag, configured, env)).toBe(want);
  });

  it('reads "auto" (and production without a setting) as one per CPU', async () => {
    const { availableParallelism } = await import('node:os');
    expect(resolveWorkers('auto', undefined, {})).toBe(availableParallelism());
    expect(resolveWorkers(undefined, 'auto', {})).toBe(availableParallelism());
    expect(resolveWorkers(undefined, undefined, { NODE_ENV: 'production' })).toBe(availableParallelism());
  });

  it.each(['0', '-1', 'two', '1.5', ''])('refuses --workers %j', (flag) => {
    expect(() => resolveWorkers(flag, undefined, {})).toThrow(WorkerCountInvalid);
  });
});

describe('merging worker views', () => {
  const target = (state: string, requests: number, inflight: number) => ({ index: 0, url: 'http://t', state, requests, inflight, failures: 1, connections: 2, openWebSockets: 0 });
  it('sums per-target counters and lists each worker’s health', () => {
    const merged = mergeUpstreams([
      { worker: 1, pid: 11, view: { upstreams: [{ name: 'u', targets: [target('healthy', 5, 1)] }] } },
      { worker: 2, pid: 12, view: { upstreams: [{ name: 'u', targets: [target('unhealthy', 7, 2)] }] } },
    ]);
    expect(merged.upstreams[0]!.targets[0]).toMatchObject({
      state: 'healthy',
      requests: 12,
      inflight: 3,
      failures: 2,
      connections: 4,
      workers: [
        { worker: 1, pid: 11, state: 'healthy', requests: 5, inflight: 1 },
        { worker: 2, pid: 12, state: 'unhealthy', requests: 7, inflight: 2 },
      ],
    });
  });

  it('keeps the registry field of GET /upstreams (the first worker\'s reading)', () => {
    const registry = { store: 'redis', instances: 2, selfPreservation: { active: false } };
    const merged = mergeUpstreams([
      { worker: 1, pid: 11, view: { registry, upstreams: [] } },
      { worker: 2, pid: 12, view: { registry: { ...registry, instances: 3 }, upstreams: [] } },
    ]);
    expect(merged.registry).toEqual(registry);
    expect(mergeUpstreams([{ worker: 1, pid: 11, view: { upstreams: [] } }])).toEqual({ upstreams: [] });
  });

  it('adds up traffic counters', () => {
    const s = (n: number) => ({ now: n, total: { requests: n, errors5xx: 1 }, routes: { r: { requests: n, errors5xx: 1 } }, upstreams: { u: { requests: n, errors5xx: 0 } } });
    expect(mergeStats([{ worker: 1, pid: 1, view: s(10) }, { worker: 2, pid: 2, view: s(20) }])).toEqual({
      now: 20,
      total: { requests: 30, errors5xx: 2 },
      routes: { r: { requests: 30, errors5xx: 2 } },
      upstreams: { u: { requests: 30, errors5xx: 0 } },
    });
  });
});

describe('switchyard start --workers 2', () => {
  let dir: string;
  let up: TestUpstream;
  let child: ChildProcess;
  let port: number;
  let admin: number;
  let stdout = '';
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  const config = () => json(admin, '/config');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-cluster-'));
    up = await startUpstream('svc');
    [port, admin] = await Promise.all([freePort(), freePort()]);
    mkdirSync(join(dir, 'routes'));
    writeFileSync(
      join(dir, 'gateway.yaml'),
      [`listen: { host: 127.0.0.1, port: ${port} }`, `admin: { host: 127.0.0.1, port: ${admin} }`, 'routes: ./routes', 'shutdownTimeout: 5s', 'log: { level: debug }', 'memory: { releaseWhenIdle: 300ms }'].join('\n'),
    );
    writeFileSync(
      join(dir, 'routes', 'svc.yaml'),
      [`upstreams:`, `  svc: { targets: [{ url: "${up.url}" }] }`, `routes:`, `  - { id: svc, match: { path: "/*" }, upstream: svc }`].join('\n'),
    );
    child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'start', '--workers', '2', '--config', join(dir, 'gateway.yaml')], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_ENV: 'test' },
    });
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stdout += c.toString()));
    exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    await waitFor(
      async () => {
        try {
          return (await config()).cluster?.listening === 2;
        } catch {
          return false;
        }
      },
      { timeout: 30_000, interval: 100, message: `two listening workers; output so far:\n${stdout}` },
    );
  }, 40_000);

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    await up?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gives idle memory back in the primary and in each worker (memory.releaseWhenIdle)', async () => {
    // Release lines name their process the way every line does: role "primary", or the worker's number.
    const released = () => {
      const who = new Set<string>();
      for (const line of stdout.split('\n')) {
        if (!line.includes('idle: unused memory returned to the OS')) continue;
        const l = JSON.parse(line) as { role?: string; worker?: number };
        who.add(l.worker !== undefined ? `worker ${l.worker}` : String(l.role));
      }
      return [...who].sort();
    };
    await waitFor(() => released().length === 3, { timeout: 10_000, message: `releases by the primary and both workers; output:\n${stdout.slice(-2000)}` });
    expect(released()).toEqual(['primary', 'worker 1', 'worker 2']);
  }, 15_000);

  it('serves from both workers on one port, and the admin API of the primary aggregates them', async () => {
    const cfg = await config();
    expect(cfg.workers.map((w: { worker: number }) => w.worker)).toEqual([1, 2]);
    expect(new Set(cfg.workers.map((w: { pid: number }) => w.pid)).size).toBe(2);
    expect(cfg.workers.map((w: { pid: number }) => w.pid)).not.toContain(child.pid);
    expect(cfg.cluster).toMatchObject({ workers: 2, listening: 2, consistent: true, primaryPid: child.pid });
    // The primary was started without the serving flags; its workers, which serve, run with them (node-flags.ts).
    for (const w of cfg.workers as { pid: number }[]) {
      const argv = readFileSync(`/proc/${w.pid}/cmdline`, 'utf8').split('\0');
      for (const flag of SERVING_NODE_FLAGS) expect(argv).toContain(flag);
    }

    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => get(port, `/r${i}`)));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));

    const ups = await json(admin, '/upstreams');
    const t = ups.upstreams[0].targets[0];
    expect(t.requests).toBe(20);
    expect(t.workers).toHaveLength(2);
    for (const w of t.workers) expect(w.requests).toBeGreaterThan(0); // connections were spread over both

    const metrics = (await get(admin, '/metrics')).body;
    expect(metrics).toContain('switchyard_requests_total{route="svc",method="GET",status_class="2xx"} 20');
    expect(metrics).toContain('switchyard_cluster_workers 2');
    expect(metrics).toMatch(/switchyard_upstream_requests_total\{upstream="svc",target="[^"]+",outcome="ok"\} 20/);

    expect((await json(admin, '/routes')).routes.map((r: { id: string }) => r.id)).toEqual(['svc']);
    expect(await json(admin, '/readyz')).toEqual({ ready: true, checks: { accepting: true, workers: true } });
    expect((await json(admin, '/stats')).total.requests).toBe(20);
  });

  it('reloads every worker on POST /reload', async () => {
    const before = await config();
    const r = await json(admin, '/reload', 'POST');
    expect(r.ok).toBe(true);
    const after = await config();
    for (const w of after.workers) {
      const old = before.workers.find((b: { pid: number }) => b.pid === w.pid);
      expect(w.version).toBe(old.version + 1);
    }
  });

  it('answers GET /config/model and POST /reload?dryRun=1 from a worker, reloading none', async () => {
    const before = await config();
    const model = await json(admin, '/config/model');
    expect(model).toMatchObject({ format: 'switchyard-config-model/1', gatewayFile: 'gateway.yaml', routes: [{ id: 'svc', at: { file: 'routes/svc.yaml', line: 4 } }] });
    const dry = await json(admin, '/reload?dryRun=1', 'POST');
    expect(dry).toMatchObject({ ok: true, dryRun: true, applied: false, diff: { changed: false, moves: [], flags: [] } });
    const after = await config();
    expect(after.workers.map((w: { version: number }) => w.version)).toEqual(before.workers.map((w: { version: number }) => w.version));
  });

  it('replaces a killed worker, and new requests keep succeeding', async () => {
    const before = await config();
    const victim: number = before.workers[0].pid;
    const survivor: number = before.workers[1].pid;
    process.kill(victim, 'SIGKILL');
    // Once the primary saw the death, the victim gets no new connection.
    await waitFor(async () => (await config()).workers.every((w: { pid: number }) => w.pid !== victim), { timeout: 10_000, message: 'the death noticed' });
    // A scrape while the replacement boots answers from the live worker at once (not after an IPC timeout).
    const t0 = Date.now();
    const scrape = await get(admin, '/metrics');
    expect(scrape.status).toBe(200);
    expect(scrape.body).toContain('switchyard_requests_total');
    expect(Date.now() - t0).toBeLessThan(2000);
    let failures = 0;
    let served = 0;
    const replaced = async () => {
      const c = await config();
      return c.cluster.listening === 2 && c.workers.some((w: { pid: number }) => w.pid !== survivor && w.pid !== victim);
    };
    while (!(await replaced())) {
      const r = await get(port, '/during').catch(() => ({ status: 0, body: '' }));
      if (r.status === 200) served++;
      else failures++;
      if (served + failures > 2000) throw new Error('the replacement never came up');
    }
    expect(failures).toBe(0);
    expect(served).toBeGreaterThan(0);
    const after = await config();
    expect(after.workers.map((w: { worker: number }) => w.worker)).toEqual([1, 2]);
    expect(after.workers.find((w: { pid: number }) => w.pid === survivor)).toBeDefined();
    const results = await Promise.all(Array.from({ length: 10 }, () => get(port, '/after')));
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect((await get(admin, '/metrics')).body).toContain('switchyard_cluster_worker_restarts_total 1');
  }, 40_000);

  it('exits 0 on SIGTERM after every worker finished', async () => {
    const pids: number[] = (await config()).workers.map((w: { pid: number }) => w.pid);
    child.kill('SIGTERM');
    const { code, signal } = await exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    expect(stdout).toContain('"msg":"switchyard cluster stopped"');
    expect(stdout).toMatch(/"clean":true/);
    await expect(get(port, '/gone')).rejects.toThrow();
  }, 30_000);
});

/** startUntilExit runs `start --workers 2` on dir/gateway.yaml and waits for the process to end (startup failures). */
async function startUntilExit(dir: string): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'start', '--workers', '2', '--config', join(dir, 'gateway.yaml')], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return { code, out };
}

describe('cluster startup failures', () => {
  it('exits 1 when the configuration is invalid, without forking', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-cluster-bad-'));
    try {
      writeFileSync(join(dir, 'gateway.yaml'), 'listen: { port: "not a port" }\n');
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'start', '--workers', '2', '--config', join(dir, 'gateway.yaml')], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      expect(code).toBe(1);
      expect(err).toContain('gateway.yaml');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('exits 1 when several workers would each run a private registry (discovery.registry without redis.url), naming the line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-cluster-registry-'));
    try {
      writeFileSync(
        join(dir, 'gateway.yaml'),
        'listen: { host: 127.0.0.1, port: 0 }\nadmin: { enabled: false }\ndiscovery:\n  registry:\n    listen: { host: 127.0.0.1, port: 0 }\n    allowTargets: [127.0.0.0/8]\n',
      );
      mkdirSync(join(dir, 'routes'));
      const { code, out } = await startUntilExit(dir);
      expect(code).toBe(1);
      expect(out).toMatch(/gateway\.yaml:4:\d+: discovery\.registry: with 2 workers each worker would run its own in-memory registry/);
      expect(out).toContain('set redis.url');
      expect(out).not.toContain('worker started');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('exits 1 when no worker can listen (port taken) instead of restarting forever', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-cluster-port-'));
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', () => resolve()));
    try {
      const busy = (taken.address() as net.AddressInfo).port;
      writeFileSync(join(dir, 'gateway.yaml'), `listen: { host: 127.0.0.1, port: ${busy} }\nadmin: { enabled: false }\n`);
      mkdirSync(join(dir, 'routes'));
      const { code, out } = await startUntilExit(dir);
      expect(code).toBe(1);
      expect(out).toContain('EADDRINUSE');
    } finally {
      taken.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
