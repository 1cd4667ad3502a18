/**
 * An upstream pool at run time: its targets, its balancer, and the eligible
 * set the balancer sees. Health checkers report transitions here; this class
 * recomputes the eligible set and hands it to the balancer (health reports,
 * balancers listen). Per request it only picks.
 */
import type { Logger } from 'pino';
import type { Balancer } from '../balancing/balancer.js';
import { Target } from './target.js';
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
  /** Hooks set by the health wiring; called when the pool is retired. */
  private readonly disposers: Array<() => void> = [];

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
    const usable = this.targets.filter((t) => !t.draining);
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
    if (target.draining === draining) return;
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
  }
}
