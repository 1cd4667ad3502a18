/**
 * The bookkeeping every provider shares, so each provider file is only about
 * its source: report a set only when it differs from the last one, never
 * report an error as an empty set, count failures, and log a failure once
 * when it starts and once when it ends (a source down for an hour at a 1s
 * retry would otherwise write 3,600 identical lines).
 */
import type { Logger } from 'pino';
import type { DiscoveredInstance, DiscoveryListener, InstanceStatus, ProviderState } from './provider.js';

/** Clock tells the time in epoch milliseconds; injected so tests can control it. */
export interface Clock {
  now(): number;
}

/** systemClock reads Date.now at call time, so fake timers apply. */
export const systemClock: Clock = { now: () => Date.now() };

// Duplicates of one url (two registrations of one address) keep the most available.
const RANK: Record<InstanceStatus, number> = { up: 2, draining: 1, down: 0 };

/**
 * normalizeSet drops duplicate urls (keeping the most available status) and
 * sorts by url, so two answers that list the same instances in another order
 * compare equal.
 */
export function normalizeSet(instances: readonly DiscoveredInstance[]): DiscoveredInstance[] {
  const byUrl = new Map<string, DiscoveredInstance>();
  for (const i of instances) {
    const seen = byUrl.get(i.url);
    if (seen === undefined || RANK[i.status] > RANK[seen.status]) byUrl.set(i.url, i);
  }
  return [...byUrl.values()].sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0));
}

/**
 * setKey is what decides whether a set changed: url, weight and status. The
 * `source` text is left out on purpose: it carries a lease age or a TTL that
 * moves on every refresh, and a pool must not be re-applied for it.
 */
export function setKey(sorted: readonly DiscoveredInstance[]): string {
  return sorted.map((i) => `${i.url} ${i.weight} ${i.status}`).join('\n');
}

/** SetReporter holds one provider's last set and state, and tells its listener about changes only. */
export class SetReporter {
  private listener: DiscoveryListener | undefined;
  private lastKey: string | undefined;
  private lastSuccessAt = 0;
  private lastError: string | undefined;
  private errors = 0;
  private instances = 0;

  constructor(
    private readonly kind: string,
    private readonly subject: string,
    private readonly log: Logger,
    private readonly clock: Clock = systemClock,
  ) {}

  /** listen sets the listener (start) or clears it (stop: late answers are then dropped). */
  listen(listener: DiscoveryListener | undefined): void {
    this.listener = listener;
  }

  /** active tells whether a listener is set (between start and stop). */
  get active(): boolean {
    return this.listener !== undefined;
  }

  /** succeed records a good answer and reports it when it differs from the last one. */
  succeed(instances: readonly DiscoveredInstance[]): void {
    if (this.listener === undefined) return;
    this.lastSuccessAt = this.clock.now();
    if (this.lastError !== undefined) {
      this.log.info({ kind: this.kind, subject: this.subject, instances: instances.length, failedFor: this.lastError }, 'discovery recovered');
      this.lastError = undefined;
    }
    const sorted = normalizeSet(instances);
    const key = setKey(sorted);
    if (key === this.lastKey) return;
    const first = this.lastKey === undefined;
    this.lastKey = key;
    this.instances = sorted.length;
    this.log.info({ kind: this.kind, subject: this.subject, instances: sorted.length, first }, 'discovered instances changed');
    this.listener(sorted);
  }

  /**
   * fail records a failed refresh: it is counted, the last set stays, and
   * only the first failure of a run (or a new reason) is logged.
   */
  fail(reason: string): void {
    if (this.listener === undefined) return;
    this.errors++;
    if (this.lastError === reason) return;
    const firstOfRun = this.lastError === undefined;
    this.lastError = reason;
    if (firstOfRun) this.log.warn({ kind: this.kind, subject: this.subject, reason, keeping: this.instances }, 'discovery failing: keeping the last known instances');
  }

  /** failing tells whether the last refresh failed. */
  get failing(): boolean {
    return this.lastError !== undefined;
  }

  /** state describes the provider for the admin API and metrics. */
  state(): ProviderState {
    return {
      kind: this.kind,
      subject: this.subject,
      lastSuccessAt: this.lastSuccessAt,
      lastError: this.lastError,
      errors: this.errors,
      instances: this.instances,
    };
  }
}

/** errorText is a one-line reason for an error of any shape (code first, as DNS and sockets name theirs). */
export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code !== undefined && !err.message.includes(code) ? `${code} ${err.message}` : err.message;
  }
  return String(err);
}
