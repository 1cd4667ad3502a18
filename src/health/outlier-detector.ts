/**
 * Passive health (outlier detection): real traffic reports each outcome, and
 * a target with `consecutiveFailures` failures in a row is ejected for
 * `baseEjectionMs × n` (n = its ejection multiplier, 1 the first time),
 * capped at `maxEjectionMs`, as in Envoy. Ejection and readmission reach
 * the pool only through the HealthListener.
 *
 * Decay: the multiplier drops by one for each full `baseEjectionMs` a target
 * spends admitted after its last readmission (computed lazily at the next
 * ejection, so no timer is needed). A target that fails again soon is
 * ejected for longer; one that stayed healthy for a while starts over.
 */
import type { Static } from '@sinclair/typebox';
import type { Logger } from 'pino';
import { OutlierDetectionSchema } from '../config/schema.js';
import { parseDuration } from '../config/duration.js';
import { systemClock, type Clock } from '../process/clock.js';
import { type HealthListener, type HealthSubject } from './types.js';

/** OutlierDetectionDoc is the validated `outlierDetection` block of an upstream. */
export type OutlierDetectionDoc = Static<typeof OutlierDetectionSchema>;

/** OutlierConfig is the part of the options that comes from an outlierDetection doc. */
export interface OutlierConfig {
  /** consecutiveFailures in a row eject a target (default 5). */
  consecutiveFailures: number;
  /** baseEjectionMs is the first ejection time and the decay period (default 30000). */
  baseEjectionMs: number;
  /** maxEjectionMs caps one ejection (default 300000). */
  maxEjectionMs: number;
  /** maxEjectionPercent: an ejection that would put more than this share of the pool out is skipped (default 50). */
  maxEjectionPercent: number;
}

/** OutlierDetectorOptions configure one OutlierDetector. */
export interface OutlierDetectorOptions extends OutlierConfig {
  listener: HealthListener;
  logger: Logger;
  clock?: Clock;
}

/** OutlierState is the detector's view of one target. */
export interface OutlierState {
  ejected: boolean;
  /** untilMs is when the current ejection ends (0 when not ejected). */
  untilMs: number;
  /** ejections is the current multiplier (before decay is applied at the next ejection). */
  ejections: number;
  consecutiveFailures: number;
}

interface Entry {
  subject: HealthSubject;
  consecutiveFailures: number;
  ejections: number;
  /** ejectedUntil is 0 while admitted. */
  ejectedUntil: number;
  readmittedAt: number;
  timer: NodeJS.Timeout | undefined;
}

/** OutlierDetector ejects targets of one pool that fail real traffic repeatedly. */
export class OutlierDetector {
  private readonly entries = new Map<string, Entry>();
  private readonly listener: HealthListener;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly cfg: OutlierConfig;
  /** maxMultiplier stops the multiplier where the cap is reached, so decay from it starts paying off at once. */
  private readonly maxMultiplier: number;
  private ejectedCount = 0;

  constructor(options: OutlierDetectorOptions) {
    const { listener, logger, clock, ...cfg } = options;
    if (!(cfg.consecutiveFailures >= 1)) throw new RangeError('consecutiveFailures must be >= 1');
    if (!(cfg.baseEjectionMs > 0)) throw new RangeError('baseEjectionMs must be > 0');
    if (!(cfg.maxEjectionMs >= cfg.baseEjectionMs)) throw new RangeError('maxEjectionMs must be >= baseEjectionMs');
    this.cfg = cfg;
    this.listener = listener;
    this.logger = logger;
    this.clock = clock ?? systemClock;
    this.maxMultiplier = Math.ceil(cfg.maxEjectionMs / cfg.baseEjectionMs);
  }

  /** setSubjects replaces the pool; kept targets keep their state, removed ones are forgotten (their timers cleared, no report). */
  setSubjects(subjects: readonly HealthSubject[]): void {
    const keep = new Set<string>();
    for (const subject of subjects) {
      keep.add(subject.id);
      const existing = this.entries.get(subject.id);
      if (existing) existing.subject = subject;
      else this.entries.set(subject.id, { subject, consecutiveFailures: 0, ejections: 0, ejectedUntil: 0, readmittedAt: 0, timer: undefined });
    }
    for (const [id, e] of this.entries) {
      if (keep.has(id)) continue;
      if (e.ejectedUntil !== 0) this.ejectedCount--;
      if (e.timer) clearTimeout(e.timer);
      this.entries.delete(id);
    }
  }

  /** success records a good outcome: the failure streak ends. O(1), allocation-free. */
  success(subject: HealthSubject): void {
    const e = this.entries.get(subject.id);
    if (e !== undefined) e.consecutiveFailures = 0;
  }

  /**
   * failure records a bad outcome (the caller decides what counts: connect
   * error, reset, timeout, 5xx) and returns true when it ejected the target.
   * Failures of an already-ejected target (requests still in flight) are ignored.
   */
  failure(subject: HealthSubject, reason: string): boolean {
    const e = this.entries.get(subject.id);
    if (e === undefined || e.ejectedUntil !== 0) return false;
    if (++e.consecutiveFailures < this.cfg.consecutiveFailures) return false;
    const failures = e.consecutiveFailures;
    // Like Envoy, the streak restarts whether or not the ejection is allowed.
    e.consecutiveFailures = 0;
    const ejectedPercent = (100 * (this.ejectedCount + 1)) / this.entries.size;
    if (ejectedPercent > this.cfg.maxEjectionPercent) {
      this.logger.debug({ target: subject.id, reason, ejected: this.ejectedCount, pool: this.entries.size }, 'outlier: not ejected, maxEjectionPercent reached');
      return false;
    }
    this.eject(e, reason, failures);
    return true;
  }

  /** isEjected tells whether `subject` is out of the rotation at epoch-ms `now`. O(1). */
  isEjected(subject: HealthSubject, now: number): boolean {
    const e = this.entries.get(subject.id);
    return e !== undefined && e.ejectedUntil > now;
  }

  /** state returns a snapshot of one target, or undefined for an unknown id. */
  state(subjectId: string): OutlierState | undefined {
    const e = this.entries.get(subjectId);
    if (!e) return undefined;
    return { ejected: e.ejectedUntil !== 0, untilMs: e.ejectedUntil, ejections: e.ejections, consecutiveFailures: e.consecutiveFailures };
  }

  /** stop clears every readmission timer; call it when the pool is discarded. */
  stop(): void {
    for (const e of this.entries.values()) {
      if (e.timer) clearTimeout(e.timer);
      e.timer = undefined;
    }
  }

  private eject(e: Entry, reason: string, failures: number): void {
    const now = this.clock.now();
    const { baseEjectionMs, maxEjectionMs } = this.cfg;
    if (e.ejections > 0) e.ejections = Math.max(0, e.ejections - Math.floor((now - e.readmittedAt) / baseEjectionMs));
    e.ejections = Math.min(e.ejections + 1, this.maxMultiplier);
    const durationMs = Math.min(baseEjectionMs * e.ejections, maxEjectionMs);
    e.ejectedUntil = now + durationMs;
    this.ejectedCount++;
    // One unref'd timer per ejection: readmission must be reported so the pool recomputes its set.
    e.timer = setTimeout(() => this.readmit(e), durationMs);
    e.timer.unref();
    this.logger.warn({ target: e.subject.id, reason, consecutiveFailures: failures, ejections: e.ejections, durationMs }, 'outlier: target ejected');
    this.notify(e, () => this.listener.onEjected(e.subject, e.ejectedUntil, { reason, ejections: e.ejections, consecutiveFailures: failures }));
  }

  private readmit(e: Entry): void {
    if (e.ejectedUntil === 0 || this.entries.get(e.subject.id) !== e) return;
    e.timer = undefined;
    e.ejectedUntil = 0;
    e.consecutiveFailures = 0;
    e.readmittedAt = this.clock.now();
    this.ejectedCount--;
    this.logger.info({ target: e.subject.id, ejections: e.ejections }, 'outlier: target readmitted');
    this.notify(e, () => this.listener.onReadmitted(e.subject));
  }

  private notify(e: Entry, call: () => void): void {
    try {
      call();
    } catch (err) {
      this.logger.error({ target: e.subject.id, err }, 'health listener failed');
    }
  }
}

/** outlierConfigFromDoc converts a validated outlierDetection doc to detector config, filling schema defaults; `enabled` is the caller's to check. */
export function outlierConfigFromDoc(doc: Partial<OutlierDetectionDoc>): OutlierConfig {
  const d = OutlierDetectionSchema.properties;
  return {
    consecutiveFailures: doc.consecutiveFailures ?? (d.consecutiveFailures.default as number),
    baseEjectionMs: parseDuration(doc.baseEjectionTime ?? (d.baseEjectionTime.default as string)),
    maxEjectionMs: parseDuration(doc.maxEjectionTime ?? (d.maxEjectionTime.default as string)),
    maxEjectionPercent: doc.maxEjectionPercent ?? (d.maxEjectionPercent.default as number),
  };
}
