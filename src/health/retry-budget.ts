/**
 * The retry budget of one upstream: retries are allowed while they stay
 * under `percent`% of the primary requests of the last ~10 seconds, and
 * `minPerSecond` retries per second are always allowed so a quiet upstream
 * can still retry. It stops retries from multiplying load on a struggling
 * pool (a retry storm). Counts live in a ring of ten 1-second buckets:
 * every call is O(1) and allocation-free.
 */
import type { UpstreamDoc } from '../config/schema.js';
import { UpstreamSchema } from '../config/schema.js';
import { systemClock, type Clock } from '../process/clock.js';

/** RetryBudgetDoc is the validated `retryBudget` block of an upstream. */
export type RetryBudgetDoc = NonNullable<UpstreamDoc['retryBudget']>;

/** RetryBudgetOptions configure one RetryBudget. */
export interface RetryBudgetOptions {
  /** percent of the window's primary requests that may be retried (default 20). */
  percent: number;
  /** minPerSecond retries are allowed in any second regardless of volume (default 3). */
  minPerSecond: number;
  clock?: Clock;
}

/** WINDOW_SECONDS is the length of the sliding window, in 1-second buckets. */
export const WINDOW_SECONDS = 10;

/** RetryBudget decides whether a retry may happen now. */
export class RetryBudget {
  private readonly percent: number;
  private readonly minPerSecond: number;
  private readonly clock: Clock;
  private readonly requests = new Float64Array(WINDOW_SECONDS);
  private readonly retries = new Float64Array(WINDOW_SECONDS);
  private requestSum = 0;
  private retrySum = 0;
  /** second is the epoch second of the current bucket. */
  private second = -Infinity;
  private slot = 0;

  constructor(options: RetryBudgetOptions) {
    if (!(options.percent >= 0 && options.percent <= 100)) throw new RangeError('percent must be within 0..100');
    if (!(options.minPerSecond >= 0)) throw new RangeError('minPerSecond must be >= 0');
    this.percent = options.percent;
    this.minPerSecond = options.minPerSecond;
    this.clock = options.clock ?? systemClock;
  }

  /** request counts one primary (non-retry) request. */
  request(): void {
    this.advance();
    this.requests[this.slot]!++;
    this.requestSum++;
  }

  /** tryAcquire returns true, and counts the retry, when one may happen now. */
  tryAcquire(): boolean {
    this.advance();
    const allowed =
      this.retries[this.slot]! < this.minPerSecond || this.retrySum < (this.requestSum * this.percent) / 100;
    if (allowed) {
      this.retries[this.slot]!++;
      this.retrySum++;
    }
    return allowed;
  }

  /**
   * release gives back a retry that was acquired but not sent (e.g. no other
   * target to retry on). It is taken from the current bucket; a release in a
   * later second than its acquire is dropped (the bucket it counted in ages out).
   */
  release(): void {
    this.advance();
    if (this.retries[this.slot]! > 0) {
      this.retries[this.slot]!--;
      this.retrySum--;
    }
  }

  /** advance moves the ring to the current second, zeroing the buckets that aged out (at most WINDOW_SECONDS). */
  private advance(): void {
    const sec = Math.floor(this.clock.now() / 1000);
    if (sec === this.second) return;
    // A clock that steps back reuses the current bucket rather than corrupting the ring.
    if (sec < this.second) return;
    const steps = Math.min(sec - this.second, WINDOW_SECONDS);
    for (let i = 0; i < steps; i++) {
      this.slot = (this.slot + 1) % WINDOW_SECONDS;
      this.requestSum -= this.requests[this.slot]!;
      this.retrySum -= this.retries[this.slot]!;
      this.requests[this.slot] = 0;
      this.retries[this.slot] = 0;
    }
    this.second = sec;
  }
}

/** retryBudgetOptionsFromDoc converts a validated retryBudget doc to options, filling schema defaults. */
export function retryBudgetOptionsFromDoc(doc: Partial<RetryBudgetDoc> = {}): RetryBudgetOptions {
  const d = UpstreamSchema.properties.retryBudget.properties;
  return {
    percent: doc.percent ?? (d.percent.default as number),
    minPerSecond: doc.minPerSecond ?? (d.minPerSecond.default as number),
  };
}
