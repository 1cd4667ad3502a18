/**
 * The cluster primary (`switchyard start --workers N`): forks N gateway
 * workers that share the public port (node:cluster distributes connections),
 * replaces a worker that dies (immediately after a long life, with doubling
 * backoff when it keeps dying young), serves the admin API for the whole
 * cluster by asking the workers over IPC, forwards reloads to every worker,
 * and on SIGTERM/SIGINT lets every worker finish gracefully before exiting 0.
 * The primary serves no traffic, so a crash in request handling costs one
 * worker, never the listener.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { AggregatorRegistry, Counter, Gauge, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { AdminBackend, AdminDryRun, AdminReload, DrainResult } from '../admin/backend.js';
import { startAdmin, type AdminServer } from '../admin/server.js';
import { listenFailed } from '../front-door/listen-error.js';
import { parseDuration } from '../config/duration.js';
import { ConfigInvalid } from '../config/errors.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { IdleMemory } from '../process/idle-memory.js';
import { createLogger } from '../telemetry/logger.js';
import { Caller, isLifecycle, type Op } from './ipc.js';
import { mergeRoutes, mergeStats, mergeStreamListeners, mergeUpstreams, type WorkerView } from './merge.js';
import { checkSharedRegistry } from './shared-registry.js';
import { WORKER_ENV } from './worker.js';
import { missingServingFlags } from '../process/node-flags.js';

/** MIN_UPTIME_MS: a worker that dies younger than this counts as failing, and its restarts back off. */
const MIN_UPTIME_MS = 5000;
/** MAX_BACKOFF_MS caps the wait before restarting a failing worker. */
const MAX_BACKOFF_MS = 30_000;
/** KILL_GRACE_MS is added to shutdownTimeout before a worker that is still finishing is killed. */
const KILL_GRACE_MS = 5000;

/** WorkerCountInvalid is a --workers value that is neither a positive integer nor "auto" (a usage error). */
export class WorkerCountInvalid extends Error {}

/**
 * resolveWorkers picks the worker count: the --workers flag, else gateway.yaml
 * `workers`, else one per CPU when NODE_ENV=production and 1 otherwise.
 * "auto" means one per CPU. Throws on anything else than a positive integer or "auto".
 */
export function resolveWorkers(flag: string | undefined, configured: number | 'auto' | undefined, env: NodeJS.ProcessEnv = process.env): number {
  const value = flag ?? configured ?? (env.NODE_ENV === 'production' ? 'auto' : 1);
  if (value === 'auto') return availableParallelism();
  const n = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 1) throw new WorkerCountInvalid(`--workers must be a positive integer or "auto", not "${value}"`);
  return n;
}

/** Slot is one worker position (1..N); its process is replaced when it dies. */
interface Slot {
  readonly n: number;
  worker: Worker | undefined;
  listening: boolean;
  startedAt: number;
  /** failures counts consecutive deaths younger than MIN_UPTIME_MS (the backoff exponent). */
  failures: number;
  restart: NodeJS.Timeout | undefined;
}

/** Primary runs the workers and the cluster's admin API. */
export class Primary {
  private readonly slots: Slot[];
  private readonly caller = new Caller();
  private readonly registry = new Registry();
  private readonly restarts: Counter;
  private admin: AdminServer | undefined;
  private stopping = false;
  private everListening = false;
  /** drains remembers drained targets, replayed to a replacement worker. */
  private readonly drains = new Map<string, { name: string; index: number }>();
  private exitCode: ((code: number) => void) | undefined;
  /** reloads counts reloads asked of the workers (the primary's own traffic, for its idle memory release). */
  private reloads = 0;
  /** idleMemory gives the primary's start-up garbage back to the OS; the primary serves no requests, so only start-up and reloads count. */
  private readonly idleMemory: IdleMemory;

  constructor(
    private readonly loaded: LoadedConfig,
    readonly count: number,
    readonly log: Logger,
  ) {
    this.slots = Array.from({ length: count }, (_, i) => ({ n: i + 1, worker: undefined, listening: false, startedAt: 0, failures: 0, restart: undefined }));
    const slots = this.slots;
    new Gauge({
      name: 'switchyard_cluster_workers',
      help: 'Workers serving traffic (listening).',
      registers: [this.registry],
      collect() {
        this.set(slots.filter((s) => s.listening).length);
      },
    });
    this.idleMemory = new IdleMemory({ activity: () => this.reloads, busy: () => false }, log);
    this.restarts = new Counter({ name: 'switchyard_cluster_worker_restarts_total', help: 'Workers that died and were replaced.', registers: [this.registry] });
  }

  /** run forks the workers, starts the admin API and handles signals; resolves with the exit code. */
  async run(): Promise<number> {
    const done = new Promise<number>((resolve) => (this.exitCode = resolve));
    const g = this.loaded.gateway;
    // The admin port is bound before any worker is forked: when it is taken, nothing is left running.
    if (g.admin.enabled) {
      this.admin = await startAdmin(this.backend(), g.admin).catch((err: unknown) => {
        throw listenFailed(err, this.loaded, ['admin', 'port'], g.admin.host, g.admin.port);
      });
    }
    // Workers serve: they run with the serving flags whether or not the primary was started with them (node-flags.ts).
    cluster.setupPrimary({ execArgv: [...process.execArgv, ...missingServingFlags()] });
    for (const s of this.slots) this.fork(s);
    this.idleMemory.configure(parseDuration(g.memory.releaseWhenIdle));
    this.log.info({ workers: this.count, adminPort: this.admin?.port, pid: process.pid }, 'switchyard cluster primary started');
    process.on('SIGTERM', () => void this.shutdown('SIGTERM'));
    process.on('SIGINT', () => void this.shutdown('SIGINT'));
    process.on('SIGHUP', () => void this.reloadAll());
    return done;
  }

  private fork(slot: Slot): void {
    slot.restart = undefined;
    slot.listening = false;
    slot.startedAt = Date.now();
    const worker = cluster.fork({ [WORKER_ENV]: String(slot.n) });
    slot.worker = worker;
    this.caller.attach(worker);
    worker.on('message', (m: unknown) => {
      if (!isLifecycle(m)) return;
      if (m.sy === 'listening') {
        slot.listening = true;
        this.everListening = true;
        this.log.info({ worker: slot.n, pid: worker.process.pid }, 'worker listening');
        for (const d of this.drains.values()) void this.caller.call(worker, 'drain', [d.name, d.index, true]).catch(() => undefined);
      } else if (!this.everListening && !this.stopping) {
        // Nothing ever came up: the configuration (port, certificates) is wrong, not the worker.
        this.log.fatal({ worker: slot.n, error: m.error }, 'worker could not start; stopping the cluster');
        void this.shutdown('startup failure', 1);
      }
    });
    worker.on('exit', (code, signal) => this.exited(slot, worker, code, signal));
  }

  private exited(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    slot.listening = false;
    if (this.stopping) return;
    const lived = Date.now() - slot.startedAt;
    slot.failures = lived < MIN_UPTIME_MS ? slot.failures + 1 : 0;
    const delay = slot.failures === 0 ? 0 : Math.min(MAX_BACKOFF_MS, 250 * 2 ** (slot.failures - 1));
    this.restarts.inc();
    this.log.error({ worker: slot.n, pid: worker.process.pid, code, signal, livedMs: lived, restartInMs: delay }, 'worker died; replacing it');
    slot.restart = setTimeout(() => this.fork(slot), delay);
  }

  /** live lists the listening workers, by slot. */
  private live(): Array<{ slot: Slot; worker: Worker }> {
    const out: Array<{ slot: Slot; worker: Worker }> = [];
    for (const s of this.slots) if (s.listening && s.worker?.isConnected()) out.push({ slot: s, worker: s.worker });
    return out;
  }

  /** ask sends `op` to every listening worker; failed or vanished workers are left out. */
  private async ask<T>(op: Op, args: unknown[] = []): Promise<Array<WorkerView<T>>> {
    const live = this.live();
    const answers = await Promise.allSettled(live.map(({ worker }) => this.caller.call<T>(worker, op, args)));
    const out: Array<WorkerView<T>> = [];
    answers.forEach((a, i) => {
      if (a.status === 'fulfilled') out.push({ worker: live[i]!.slot.n, pid: live[i]!.worker.process.pid ?? 0, view: a.value });
      else this.log.warn({ worker: live[i]!.slot.n, op, err: (a.reason as Error).message }, 'worker did not answer');
    });
    return out;
  }

  /** reloadAll asks every worker to reload; ok when all did. */
  async reloadAll(): Promise<AdminReload> {
    this.reloads++;
    const results = await this.ask<AdminReload>('reload');
    const failed = results.find((r) => !r.view.ok);
    if (failed) return failed.view;
    const version = Math.max(0, ...results.map((r) => (r.view as { version: number }).version));
    this.log.info({ workers: results.length, version }, 'cluster reloaded');
    // Every worker reads the same files: the first one's account of the changes stands for all.
    const first = results[0]?.view;
    return { ok: true, version, ...(first?.ok ? { changes: first.changes, restartRequired: first.restartRequired } : {}) };
  }

  /** backend is the admin API's view of the cluster (see README, "Cluster mode"). */
  backend(): AdminBackend {
    return {
      readiness: async () => {
        const views = await this.ask<Record<string, boolean>>('readiness');
        return { accepting: !this.stopping, workers: views.some((v) => Object.values(v.view).every(Boolean)) };
      },
      routes: async () => mergeRoutes(await this.ask('routes')),
      config: async () => {
        const views = await this.ask<Record<string, unknown>>('config');
        // Versions count reloads per worker (a replacement starts at 1); the source hashes tell whether all serve the same files.
        const workers = views.map((v) => ({ worker: v.worker, pid: v.pid, version: v.view.version, loadedAt: v.view.loadedAt, sources: v.view.sources }));
        const consistent = new Set(workers.map((w) => JSON.stringify(w.sources))).size <= 1;
        return {
          ...(views[0]?.view ?? {}),
          streams: mergeStreamListeners(views.map((v) => v.view.streams as Array<{ name: string }> | undefined)),
          cluster: { workers: this.count, listening: views.length, consistent, primaryPid: process.pid },
          workers: workers.map(({ sources: _s, ...w }) => w),
        };
      },
      upstreams: async () => mergeUpstreams(await this.ask('upstreams')),
      stats: async () => mergeStats(await this.ask('stats')),
      reload: () => this.reloadAll(),
      // Every worker reads the same files: one worker's diff stands for all.
      dryRun: async () => (await this.ask<AdminDryRun>('dryRun'))[0]?.view ?? { ok: false, dryRun: true, errors: ['no worker answered'] },
      model: async () => (await this.ask('model'))[0]?.view ?? null,
      drain: async (name, index, draining) => {
        const results = await this.ask<DrainResult | undefined>('drain', [name, index, draining]);
        const found = results.find((r) => r.view !== undefined && r.view !== null);
        if (!found) return undefined;
        if (draining) this.drains.set(`${name}\0${index}`, { name, index });
        else this.drains.delete(`${name}\0${index}`);
        return { ...found.view!, inflight: results.reduce((n, r) => n + (r.view?.inflight ?? 0), 0) };
      },
      metrics: async () => {
        // Listening workers only: one still starting could not answer, and prom-client's own
        // clusterMetrics() would wait for it and fail the scrape.
        const views = await this.ask<MetricObjectWithValues<MetricValue<string>>[]>('metrics');
        return (await AggregatorRegistry.aggregate(views.map((v) => v.view)).metrics()) + (await this.registry.metrics());
      },
    };
  }

  /**
   * shutdown tells every worker to finish gracefully, kills those still
   * running after shutdownTimeout (plus a grace), stops the admin API and
   * resolves run() with 0 when every worker finished cleanly.
   */
  async shutdown(why: string, code = 0): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.idleMemory.stop();
    this.log.info({ why }, 'cluster shutting down: workers finish in-flight requests');
    for (const s of this.slots) clearTimeout(s.restart);
    const running = this.slots.filter((s) => s.worker !== undefined && !s.worker.isDead());
    let clean = true;
    const exits = running.map(
      (s) =>
        new Promise<void>((resolve) => {
          const w = s.worker!;
          const wasListening = s.listening;
          w.once('exit', (exitCode) => {
            // A worker still starting up has nothing to finish; any exit is fine.
            if (wasListening && exitCode !== 0) clean = false;
            resolve();
          });
          // A worker still starting serves nothing and cannot answer yet: SIGTERM ends it at once.
          if (wasListening) this.caller.call(w, 'shutdown').catch(() => w.process.kill('SIGTERM'));
          else w.process.kill('SIGTERM');
        }),
    );
    const kill = setTimeout(() => {
      clean = false;
      for (const s of running) if (!s.worker?.isDead()) s.worker?.process.kill('SIGKILL');
    }, parseDuration(this.loaded.gateway.shutdownTimeout) + KILL_GRACE_MS);
    await Promise.all(exits);
    clearTimeout(kill);
    await this.admin?.close();
    this.log.info({ clean }, 'switchyard cluster stopped');
    this.log.flush?.();
    this.exitCode?.(clean ? code : code || 1);
  }
}

/** runPrimary loads the configuration (failing fast when invalid) and runs the cluster; resolves with the exit code. */
export async function runPrimary(configFile: string, count: number): Promise<number> {
  let loaded: LoadedConfig;
  try {
    loaded = await loadConfig({ configFile });
    checkSharedRegistry(loaded, count);
  } catch (err) {
    if (err instanceof ConfigInvalid) {
      for (const e of err.errors) process.stderr.write(`${e.format()}\n`);
      return 1;
    }
    throw err;
  }
  const log = createLogger(loaded.gateway).child({ role: 'primary' });
  return new Primary(loaded, count, log).run();
}
