/**
 * An upstream pool at run time: its targets, its balancer, and the eligible
 * set the balancer sees. Health checkers report transitions here; this class
 * recomputes the eligible set and hands it to the balancer (health reports,
 * balancers listen). Per request it only picks.
 *
 * A pool whose targets are discovered (`discover:`) changes its targets
 * while it serves: replaceTargets applies each new set like a reload does.
 */
import type { Logger } from 'pino';
import type { Balancer } from '../balancing/balancer.js';
import type { DiscoveredInstance, DiscoveryProvider } from '../discovery/provider.js';
import { Target, targetId } from './target.js';
import { slowStartFactor } from '../health/slow-start.js';
import type { Sticky } from './sticky.js';

/** UpstreamSettings are the per-request settings of a pool, compiled from its doc. */
export interface UpstreamSettings {
  /** hostHeader: 'client', 'target' or a literal host. */
  hostHeader: string;
  connectTimeoutMs: number;
  responseTimeoutMs: number;
  idleTimeoutMs: number;
  panicThreshold: number;
  slowStartMs: number;
}

/** HealthView reads per-target health details for the admin API. */
export interface HealthView {
  active(target: Target): { lastResult?: { ok: boolean; reason: string; status?: number; durationMs: number; at: number }; consecutiveFailures: number; consecutiveSuccesses: number } | undefined;
  passive(target: Target): { ejections: number; consecutiveFailures: number; untilMs: number } | undefined;
}

/** RetryGate decides whether a retry may happen now (a retry budget). */
export interface RetryGate {
  /** request counts a first attempt. */
  request(): void;
  /** tryAcquire takes one retry from the budget; false when it is spent. */
  tryAcquire(): boolean;
}

/** OutcomeSink receives the outcome of each attempt (passive health). */
export interface OutcomeSink {
  success(target: Target): void;
  failure(target: Target, reason: string): void;
}

/** TargetFactory builds the Target of a newly discovered url (the caller knows the pool's connection options). */
export type TargetFactory = (url: URL, weight: number, index: number) => Target;

/** TargetsChange is what one replaceTargets did, for the health checkers that must follow. */
export interface TargetsChange {
  /** added entered the pool (or came back while still draining out). */
  readonly added: readonly Target[];
  /** removed left the pool: they drain, and close once their in-flight requests end. */
  readonly removed: readonly Target[];
  /** current lists the targets that are members now (everything but the removed ones still draining). */
  readonly current: readonly Target[];
}

/** RETIRE_SWEEP_MS is how often removed targets are checked for their last in-flight request (no per-request hook). */
const RETIRE_SWEEP_MS = 250;

/** UNLIMITED_RETRIES is the gate of a pool without a budget. */
export const UNLIMITED_RETRIES: RetryGate = { request() {}, tryAcquire: () => true };

/** Upstream is one named pool. */
export class Upstream {
  /** eligible is the set last handed to the balancer. */
  private eligibleSet: Target[] = [];
  /** panic is true while the pool balances over unhealthy targets (below panicThreshold). */
  panic = false;
  /** retryBudget caps retries so they cannot multiply load during an outage. */
  retryBudget: RetryGate = UNLIMITED_RETRIES;
  /** passive receives attempt outcomes (outlier detection), when enabled. */
  passive: OutcomeSink | undefined = undefined;
  /** health exposes the checkers' per-target views to the admin API. */
  health: HealthView | undefined = undefined;
  /** sticky routes clients back to the target named by their cookie (`sticky` in the doc). */
  sticky: Sticky | undefined = undefined;
  /**
   * discovery is the provider of a `discover:` pool and how it builds the
   * targets it finds (compile.ts); the health wiring starts it when the pool
   * is committed and stops it when the pool retires. Undefined for `targets:`.
   */
  discovery: { readonly provider: DiscoveryProvider; readonly makeTarget: TargetFactory; /** subject is a digest of the `discover:` doc: a rebuilt pool with the same one starts from this pool's set. */ readonly subject?: string } | undefined = undefined;
  /** Hooks set by the health wiring; called when the pool is retired. */
  private readonly disposers: Array<() => void> = [];
  /** Hooks called after discovery changed the targets (health checkers follow the set). */
  private readonly targetsListeners = new Set<(change: TargetsChange) => void>();
  /** sweeper closes removed targets once idle; it runs only while some are draining out. */
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    readonly name: string,
    /** key is a digest of the doc: a reload keeps the Upstream object when it is unchanged. */
    readonly key: string,
    public targets: Target[],
    readonly balancer: Balancer<Target>,
    readonly settings: UpstreamSettings,
    /** log is bound to this upstream's name (compile.ts): lines here do not repeat `upstream`. */
    readonly log: Logger,
    /** now is the gateway's clock (injectable for tests). */
    readonly now: () => number = Date.now,
  ) {
    this.recompute();
  }

  /** eligible is the set of targets the balancer currently picks from. */
  get eligible(): readonly Target[] {
    return this.eligibleSet;
  }

  /**
   * recompute derives the eligible set from the targets' states and hands it
   * to the balancer. Called on every transition, never per request.
   */
  recompute(): void {
    const now = this.now();
    const healthy = this.targets.filter((t) => t.eligible(now));
    const usable = this.targets.filter((t) => t.inRotation());
    const share = usable.length === 0 ? 0 : (healthy.length / usable.length) * 100;
    const panic = this.settings.panicThreshold > 0 && share < this.settings.panicThreshold && usable.length > 0;
    if (panic !== this.panic) {
      this.panic = panic;
      if (panic) this.log.warn({ healthy: healthy.length, total: usable.length }, 'upstream in panic mode: balancing over all targets');
      else this.log.info('upstream left panic mode');
    }
    this.eligibleSet = panic ? usable : healthy;
    this.balancer.setTargets(this.eligibleSet);
  }

  /**
   * pick chooses a target for one attempt. `exclude` is the target of a failed
   * attempt (retries go elsewhere when possible). Slow start: a target still
   * ramping up is skipped with probability (1 - its share), at most once.
   */
  pick(clientKey: string, exclude?: Target): Target | undefined {
    const t = this.balancer.pick(clientKey, exclude);
    if (t === undefined || this.settings.slowStartMs === 0) return t;
    if (this.eligibleSet.length < 2) return t;
    const share = slowStartFactor(t.readySince, this.now(), this.settings.slowStartMs);
    if (share >= 1 || Math.random() < share) return t;
    return this.balancer.pick(clientKey, t) ?? t;
  }

  /** outcome records one attempt's result for passive health. */
  outcome(target: Target, ok: boolean, reason: string): void {
    if (this.passive === undefined) return;
    if (ok) this.passive.success(target);
    else this.passive.failure(target, reason);
  }

  /** targetAt returns the target at a config index (admin API). */
  targetAt(index: number): Target | undefined {
    return this.targets.find((t) => t.index === index);
  }

  /** setDraining drains or undrains a target. */
  setDraining(target: Target, draining: boolean): void {
    // A target discovery removed stays drained: it is on its way out.
    if (target.draining === draining || target.retiring) return;
    target.draining = draining;
    if (!draining) target.readySince = this.now();
    this.log.info({ target: target.id, draining }, draining ? 'target draining' : 'target undrained');
    this.recompute();
  }

  /** onDispose registers cleanup (health checkers) run when the pool is retired. */
  onDispose(fn: () => void): void {
    this.disposers.push(fn);
  }

  /** dispose stops health checking; connection pools are closed by their owner. */
  dispose(): void {
    for (const fn of this.disposers.splice(0)) fn();
    this.targetsListeners.clear();
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /** onTargetsChanged registers a hook called after each replaceTargets that added or removed targets; returns its removal. */
  onTargetsChanged(fn: (change: TargetsChange) => void): () => void {
    this.targetsListeners.add(fn);
    return () => this.targetsListeners.delete(fn);
  }

  /**
   * replaceTargets applies a discovered set like a pool reload: a target whose
   * url is unchanged keeps its Target (connections, health, counters; weight,
   * source and status updated); a new one enters with slow start (unless it is
   * in the pool's first set, where all start together); one no longer listed
   * drains (no new requests) and is closed and dropped once its in-flight
   * requests end. Source statuses: `draining` drains, `down` stays listed (for
   * /upstreams) but takes nothing. Then the eligible set is recomputed.
   */
  replaceTargets(instances: readonly DiscoveredInstance[], makeTarget: TargetFactory): TargetsChange {
    const now = this.now();
    const firstSet = this.targets.length === 0;
    const byId = new Map(this.targets.map((t) => [t.id, t]));
    const listed = new Set<Target>();
    const added: Target[] = [];
    const fresh: Target[] = [];
    for (const inst of instances) {
      const url = new URL(inst.url);
      let t = byId.get(targetId(url));
      if (t !== undefined && listed.has(t)) continue; // a duplicate url: the first one wins
      if (t === undefined) {
        t = makeTarget(url, inst.weight, this.targets.length + fresh.length);
        t.readySince = firstSet ? 0 : now;
        fresh.push(t);
        added.push(t);
      } else if (t.retiring) {
        // Listed again before it finished draining out: it comes back, ramping up.
        t.retiring = false;
        t.draining = false;
        t.readySince = now;
        added.push(t);
      }
      if (inst.status === 'up' && t.sourceStatus !== 'up' && !fresh.includes(t)) t.readySince = now;
      t.sourceStatus = inst.status;
      t.weight = inst.weight;
      t.source = inst.source;
      listed.add(t);
    }
    const removed: Target[] = [];
    for (const t of this.targets) {
      if (listed.has(t) || t.retiring) continue;
      t.retiring = true;
      t.draining = true;
      removed.push(t);
    }
    this.targets = [...this.targets, ...fresh];
    if (added.length + removed.length > 0) this.log.info({ added: added.map((t) => t.id), removed: removed.map((t) => t.id), targets: listed.size }, 'discovered targets applied');
    this.sweep(false);
    const change: TargetsChange = { added, removed, current: this.targets.filter((t) => !t.retiring) };
    if (added.length + removed.length > 0) {
      for (const fn of this.targetsListeners) {
        try {
          fn(change);
        } catch (err) {
          this.log.error({ err }, 'a targets-changed hook failed');
        }
      }
    }
    return change;
  }

  /** sweep closes and drops removed targets whose last in-flight request ended, then recomputes (always, or when something was dropped). */
  private sweep(onlyIfDropped: boolean): void {
    const idle = this.targets.filter((t) => t.retiring && t.inflight === 0);
    if (idle.length > 0) {
      this.targets = this.targets.filter((t) => !idle.includes(t));
      // Indexes are positions: sticky cookies and the admin API address targets by them.
      this.targets.forEach((t, i) => (t.index = i));
      for (const t of idle) void t.close();
    }
    if (idle.length > 0 || !onlyIfDropped) this.recompute();
    const waiting = this.targets.some((t) => t.retiring);
    if (waiting && this.sweeper === undefined) {
      this.sweeper = setInterval(() => this.sweep(true), RETIRE_SWEEP_MS);
      this.sweeper.unref();
    } else if (!waiting && this.sweeper !== undefined) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }
}
