/**
 * Keeping this gateway's copy of a shared registry current. Changes made on
 * other gateways arrive as pub/sub messages naming the application, which is
 * then re-read (coalesced: a burst of registrations is one read per app per
 * tick); a poll of the version counter every `syncEvery` catches whatever a
 * lost message or a reconnect missed, with a full re-read. While the store is
 * down the copy stays as it was (reads keep answering), one warning is
 * logged, and the next good poll brings everything back.
 *
 * A shared store that lost its data (a Redis restarted without persistence:
 * its epoch changed) is refilled from this copy with what it no longer holds,
 * leases and all: the instances would otherwise vanish from every pool until
 * their next heartbeat's 404 made them register again (Eureka's own recovery,
 * which still happens for anything missed). Leases keep their times, so a
 * dead instance still expires; what registered since is never overwritten.
 */
import type { Logger } from 'pino';
import type { InstanceStore } from './instance-store.js';
import type { RegistryMetrics } from './metrics.js';
import type { RegistryCache } from './registry-cache.js';

/** COALESCE_MS is how long app re-reads wait to gather a burst of messages. */
export const COALESCE_MS = 20;

/** StoreSync follows a shared store into the cache. */
export class StoreSync {
  /** lastSyncAt is the epoch ms of the last successful read (0 = never). */
  lastSyncAt = 0;
  /** healthy is false from a failed read until the next good one. */
  healthy = true;
  private version: string | undefined;
  /** epoch is the store lifetime this copy belongs to (undefined before the first read). */
  private epoch: string | undefined;
  private readonly pending = new Set<string>();
  private flushTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private polling: Promise<void> | undefined;

  constructor(
    private readonly store: InstanceStore,
    private readonly cache: RegistryCache,
    private readonly log: Logger,
    private readonly metrics: RegistryMetrics,
    private readonly syncEveryMs: number,
  ) {}

  /** start reads the whole registry once (failing softly: the poll retries) and, for a shared store, starts following it. */
  async start(): Promise<void> {
    await this.poll();
    // The embedded store is written only through this gateway's registry, which
    // updates the cache itself: following it would re-read every write.
    if (this.store.kind === 'memory') return;
    this.unsubscribe = this.store.subscribe((app) => this.schedule(app));
    this.pollTimer = setInterval(() => void this.poll(), this.syncEveryMs);
    this.pollTimer.unref();
  }

  /** stop ends following (timers, subscription); in-flight reads complete. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    clearInterval(this.pollTimer);
    clearTimeout(this.flushTimer);
    await this.polling;
  }

  /** poll re-reads everything when the version moved (never two at once). */
  poll(): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => (this.polling = undefined));
    return this.polling;
  }

  private async pollOnce(): Promise<void> {
    try {
      const version = await this.store.version();
      if (version === this.version && this.healthy) return this.ok();
      const epoch = await this.store.epoch();
      let snap = await this.store.load();
      if (this.epoch !== undefined && epoch !== this.epoch) {
        const held = new Set(snap.instances.map((i) => `${i.app}/${i.instanceId}`));
        const lost = this.cache.all().filter((i) => !held.has(`${i.app}/${i.instanceId}`));
        if (lost.length > 0) {
          await this.store.restore(lost);
          this.log.warn({ instances: lost.length }, 'registry store lost its data: restored the instances this gateway knew');
          snap = await this.store.load();
        }
      }
      this.epoch = epoch;
      this.cache.replaceAll(snap.instances);
      this.version = snap.version;
      this.ok();
    } catch (err) {
      this.fail(err);
    }
  }

  private schedule(app: string): void {
    this.pending.add(app);
    this.flushTimer ??= setTimeout(() => void this.flush(), COALESCE_MS);
  }

  private async flush(): Promise<void> {
    this.flushTimer = undefined;
    const apps = [...this.pending];
    this.pending.clear();
    for (const app of apps) {
      try {
        this.cache.replaceApp(app, await this.store.loadApp(app));
        this.ok();
      } catch (err) {
        this.fail(err); // the poll catches up once the store answers
      }
    }
  }

  private ok(): void {
    this.lastSyncAt = Date.now();
    if (!this.healthy) this.log.info('registry store reachable again: in sync');
    this.healthy = true;
  }

  private fail(err: unknown): void {
    this.metrics.storeError();
    if (this.healthy) this.log.warn({ err: { message: (err as Error).message } }, 'registry store unavailable: serving the last known registry');
    this.healthy = false;
  }
}
