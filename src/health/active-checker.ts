/**
 * Active health checking of one upstream's targets. Each target has its own
 * loop: probe, record, then schedule the next probe `interval + jitter` after
 * this one ENDED, so a slow target is never probed twice at once. State
 * changes happen at the thresholds and are reported once, through the
 * HealthListener only.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { HealthCheckSchema, type HealthCheckDoc } from '../config/schema.js';
import { parseDuration } from '../config/duration.js';
import { ProbeTimeoutError } from './internal/deadline.js';
import { errorReason } from './internal/error-reason.js';
import { systemClock, type Clock } from '../process/clock.js';
import { type HealthCheckResult, type HealthListener, type HealthSubject, type Probe } from './types.js';

/** ActiveCheckConfig is the part of the options that comes from a health-check doc. */
export interface ActiveCheckConfig {
  /** intervalMs is the pause between the end of one check and the start of the next (default 5000). */
  intervalMs: number;
  /** timeoutMs aborts a check's signal after this long (default 1000). */
  timeoutMs: number;
  /** jitter adds up to this fraction of the interval at random to each pause (default 0.1). */
  jitter: number;
  /** unhealthyThreshold is the consecutive failures that take a healthy target out (default 3). */
  unhealthyThreshold: number;
  /** healthyThreshold is the consecutive successes that bring an unhealthy target back (default 2). */
  healthyThreshold: number;
  /** startUnhealthy keeps never-checked targets out until their first success (default false). */
  startUnhealthy: boolean;
}

/** ActiveCheckerOptions configure one ActiveChecker. */
export interface ActiveCheckerOptions extends ActiveCheckConfig {
  subjects: readonly HealthSubject[];
  probe: Probe;
  listener: HealthListener;
  logger: Logger;
  clock?: Clock;
  /** random returns [0, 1); injected so tests can pin jitter (default Math.random). */
  random?: () => number;
}

/** TargetHealth is the checker's view of one target. */
export interface TargetHealth {
  healthy: boolean;
  lastResult?: HealthCheckResult;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
}

interface Entry {
  subject: HealthSubject;
  healthy: boolean;
  checked: boolean;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  lastResult: HealthCheckResult | undefined;
  timer: NodeJS.Timeout | undefined;
  /** inflight is the controller of the running check; a finished check whose controller is no longer here was cancelled. */
  inflight: AbortController | undefined;
}

/** ActiveChecker runs the active health-check loops of one upstream. */
export class ActiveChecker {
  private readonly entries = new Map<string, Entry>();
  private readonly probe: Probe;
  private readonly listener: HealthListener;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly cfg: ActiveCheckConfig;
  private running = false;

  constructor(options: ActiveCheckerOptions) {
    const { subjects, probe, listener, logger, clock, random, ...cfg } = options;
    if (!(cfg.intervalMs > 0)) throw new RangeError('intervalMs must be > 0');
    if (!(cfg.timeoutMs > 0)) throw new RangeError('timeoutMs must be > 0');
    if (!(cfg.jitter >= 0)) throw new RangeError('jitter must be >= 0');
    if (!(cfg.unhealthyThreshold >= 1) || !(cfg.healthyThreshold >= 1)) throw new RangeError('thresholds must be >= 1');
    this.cfg = cfg;
    this.probe = probe;
    this.listener = listener;
    this.logger = logger;
    this.clock = clock ?? systemClock;
    this.random = random ?? Math.random;
    this.setSubjects(subjects);
  }

  /** start begins checking; the first check of each target comes after a random fraction of one interval so a fleet does not fire at once. */
  start(): void {
    if (this.running) return;
    this.running = true;
    for (const e of this.entries.values()) this.scheduleFirst(e);
  }

  /** stop clears every timer and aborts in-flight probes (their results are dropped); idempotent, and start() may follow. */
  stop(): void {
    this.running = false;
    for (const e of this.entries.values()) this.cancel(e);
  }

  /**
   * setSubjects replaces the checked targets (a reload). Kept targets keep
   * their state and loop; new ones start per startUnhealthy (no report: the
   * pool reads state() for them); removed ones stop being checked.
   */
  setSubjects(subjects: readonly HealthSubject[]): void {
    const keep = new Set<string>();
    for (const subject of subjects) {
      keep.add(subject.id);
      const existing = this.entries.get(subject.id);
      if (existing) {
        existing.subject = subject;
        continue;
      }
      const e: Entry = {
        subject,
        healthy: !this.cfg.startUnhealthy,
        checked: false,
        consecutiveFailures: 0,
        consecutiveSuccesses: 0,
        lastResult: undefined,
        timer: undefined,
        inflight: undefined,
      };
      this.entries.set(subject.id, e);
      if (this.running) this.scheduleFirst(e);
    }
    for (const [id, e] of this.entries) {
      if (keep.has(id)) continue;
      this.cancel(e);
      this.entries.delete(id);
    }
  }

  /** state returns a snapshot of one target's health, or undefined for an unknown id. */
  state(subjectId: string): TargetHealth | undefined {
    const e = this.entries.get(subjectId);
    if (!e) return undefined;
    return {
      healthy: e.healthy,
      ...(e.lastResult ? { lastResult: e.lastResult } : {}),
      consecutiveFailures: e.consecutiveFailures,
      consecutiveSuccesses: e.consecutiveSuccesses,
    };
  }

  private scheduleFirst(e: Entry): void {
    this.schedule(e, this.random() * this.cfg.intervalMs);
  }

  private schedule(e: Entry, delayMs: number): void {
    e.timer = setTimeout(() => void this.check(e), delayMs);
    e.timer.unref();
  }

  private cancel(e: Entry): void {
    if (e.timer) clearTimeout(e.timer);
    e.timer = undefined;
    e.inflight?.abort(new Error('health checker stopped'));
    e.inflight = undefined;
  }

  private async check(e: Entry): Promise<void> {
    e.timer = undefined;
    const ctl = new AbortController();
    e.inflight = ctl;
    const { timeoutMs } = this.cfg;
    // The deadline aborts the signal; the loop still waits for the probe to
    // settle, so a probe that ignores its signal delays the loop, never doubles it.
    const deadline = setTimeout(() => ctl.abort(new ProbeTimeoutError(timeoutMs)), timeoutMs);
    deadline.unref();
    const started = performance.now();
    let result: HealthCheckResult;
    try {
      result = await this.probe(e.subject, ctl.signal);
    } catch (err) {
      result = { ok: false, reason: errorReason(err), durationMs: Math.round(performance.now() - started), at: this.clock.now() };
    } finally {
      clearTimeout(deadline);
    }
    if (e.inflight !== ctl) return; // stopped, removed, or restarted meanwhile
    e.inflight = undefined;
    this.record(e, result);
    this.schedule(e, this.cfg.intervalMs * (1 + this.random() * this.cfg.jitter));
  }

  private record(e: Entry, result: HealthCheckResult): void {
    const firstCheck = !e.checked;
    e.checked = true;
    e.lastResult = result;
    if (result.ok) {
      e.consecutiveSuccesses++;
      e.consecutiveFailures = 0;
      // Like Envoy, the first ever success admits a startUnhealthy target at
      // once: it makes startup fast, and one success is what we waited for.
      if (!e.healthy && (firstCheck || e.consecutiveSuccesses >= this.cfg.healthyThreshold)) this.transition(e, true, result);
    } else {
      e.consecutiveFailures++;
      e.consecutiveSuccesses = 0;
      if (e.healthy && e.consecutiveFailures >= this.cfg.unhealthyThreshold) this.transition(e, false, result);
    }
  }

  private transition(e: Entry, healthy: boolean, result: HealthCheckResult): void {
    e.healthy = healthy;
    const detail = {
      reason: result.reason,
      consecutiveFailures: e.consecutiveFailures,
      consecutiveSuccesses: e.consecutiveSuccesses,
      ...(result.status === undefined ? {} : { status: result.status }),
      durationMs: result.durationMs,
    };
    const fields = { target: e.subject.id, ...detail };
    if (healthy) this.logger.info(fields, 'health check: target healthy');
    else this.logger.warn(fields, 'health check: target unhealthy');
    try {
      this.listener.onActiveHealth(e.subject, healthy, detail);
    } catch (err) {
      this.logger.error({ target: e.subject.id, err }, 'health listener failed');
    }
  }
}

/** activeCheckConfigFromDoc converts a validated health-check doc to checker config, filling schema defaults. */
export function activeCheckConfigFromDoc(doc: Partial<HealthCheckDoc>): ActiveCheckConfig {
  const d = HealthCheckSchema.properties;
  return {
    intervalMs: parseDuration(doc.interval ?? (d.interval.default as string)),
    timeoutMs: parseDuration(doc.timeout ?? (d.timeout.default as string)),
    jitter: doc.jitter ?? (d.jitter.default as number),
    unhealthyThreshold: doc.unhealthyThreshold ?? (d.unhealthyThreshold.default as number),
    healthyThreshold: doc.healthyThreshold ?? (d.healthyThreshold.default as number),
    startUnhealthy: doc.startUnhealthy ?? (d.startUnhealthy.default as boolean),
  };
}
