/**
 * The evictor: every `evictEvery`, leases older than `expiry` are removed,
 * unless self-preservation says the silence is more likely a partition than a
 * fleet death (self-preservation.ts). With a shared store, each gateway runs
 * the timer but a short lock (SET NX PX, a little under one round) lets one of
 * them evict per round, and the eviction script removes an instance only if it
 * is still there and still expired, so each instance is evicted, and counted,
 * once. Every gateway still reads the renewal rate each round, so state()
 * shows self-preservation wherever it is asked.
 */
import type { Logger } from 'pino';
import type { InstanceStore } from './instance-store.js';
import type { RegistryMetrics } from './metrics.js';
import type { CompiledRegistryOptions } from './options.js';
import type { RegistryCache } from './registry-cache.js';
import { assess, evictionLimit, expectedRenewals, renewalWindow, type SelfPreservationState } from './self-preservation.js';

/** EvictorDeps is what the evictor works with. */
export interface EvictorDeps {
  readonly options: CompiledRegistryOptions;
  readonly store: InstanceStore;
  readonly cache: RegistryCache;
  readonly metrics: RegistryMetrics;
  readonly log: Logger;
  readonly clock: () => number;
}

/** Evictor runs eviction rounds and remembers the last self-preservation reading. */
export class Evictor {
  /** evictions counts instances this gateway evicted since start. */
  evictions = 0;
  /** lastEvictionAt is the epoch ms of the last eviction here (0 = none). */
  lastEvictionAt = 0;
  private reading: SelfPreservationState;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private failing = false;

  constructor(private readonly deps: EvictorDeps) {
    const sp = deps.options.selfPreservation;
    this.reading = assess(0, 0, 0, sp?.threshold ?? 0, sp !== undefined, 0);
  }

  /** selfPreservation is the last reading. */
  selfPreservation(): SelfPreservationState {
    return this.reading;
  }

  /** start runs a round every evictEvery (unref'd: it never keeps the process alive). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.round(), this.deps.options.evictEveryMs);
    this.timer.unref();
  }

  /** stop ends the rounds; a round in flight completes. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** round runs one eviction round now (rounds never overlap) and returns how many instances it evicted. */
  round(): Promise<number> {
    this.running ??= this.evict()
      .catch((err: unknown) => {
        this.deps.metrics.storeError();
        if (!this.failing) this.deps.log.warn({ err: { message: (err as Error).message } }, 'registry eviction skipped: store unavailable');
        this.failing = true;
        return 0;
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async evict(): Promise<number> {
    const { options, store, cache, clock } = this.deps;
    const now = clock();
    const sp = options.selfPreservation;
    if (sp) {
      const window = renewalWindow(now, sp.windowMs);
      const renewals = await store.renewals(window.buckets);
      const expected = expectedRenewals(cache.all(), now, window.spanMs, options.renewalMs);
      const next = assess(renewals, expected, window.spanMs, sp.threshold, true, now);
      if (next.active !== this.reading.active) {
        const msg = next.active ? 'registry self-preservation ON: renewals below threshold, eviction suspended' : 'registry self-preservation off: renewals are back, eviction resumes';
        this.deps.log.warn({ renewals: next.renewals, expected: next.expected, threshold: sp.threshold }, msg);
      }
      this.reading = next;
    }
    if (this.failing) this.deps.log.info('registry eviction resumed: store reachable');
    this.failing = false;
    if (this.reading.active) return 0;
    if (!(await store.tryLock('evict', Math.max(1, options.evictEveryMs * 0.9)))) return 0; // another gateway runs this round

    const cutoff = now - options.expiryMs;
    const expired = await store.expired(cutoff);
    if (expired.length === 0) return 0;
    const limit = evictionLimit(cache.size(), sp?.threshold);
    // Eureka picks at random when it may evict fewer than have expired, so no app is always the one left out.
    const chosen = expired.length <= limit ? expired : shuffle(expired).slice(0, limit);
    const removed = await store.evict(chosen, cutoff);
    const byApp = new Map<string, number>();
    for (const k of removed) {
      cache.remove(k.app, k.instanceId);
      byApp.set(k.app, (byApp.get(k.app) ?? 0) + 1);
    }
    for (const [app, n] of byApp) this.deps.metrics.evicted(app, n);
    if (removed.length > 0) {
      this.evictions += removed.length;
      this.lastEvictionAt = now;
      this.deps.log.info({ evicted: removed.map((k) => `${k.app}/${k.instanceId}`).slice(0, 20), count: removed.length, expired: expired.length }, 'registry evicted expired leases');
    }
    return removed.length;
  }
}

function shuffle<T>(list: readonly T[]): T[] {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
