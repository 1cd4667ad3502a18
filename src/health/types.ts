/**
 * The narrow interfaces of health checking. Checkers and detectors know a
 * target only as a HealthSubject and report what they learn through a
 * HealthListener; they never reach into a pool or a balancer (the pool
 * listens and recomputes its eligible set).
 */

/** HealthSubject is all a checker or detector needs of a target. */
export interface HealthSubject {
  /** id is unique within the pool (the target URL). */
  readonly id: string;
  /** url is the target's base URL (http(s)://host:port). */
  readonly url: URL;
}

/** ActiveHealthDetail explains an active-health transition. */
export interface ActiveHealthDetail {
  /** reason is the last check's outcome, e.g. `status 503` or `connect ECONNREFUSED`. */
  reason: string;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  /** status is the HTTP status of the last check, when there was one. */
  status?: number;
  /** durationMs is how long the last check took. */
  durationMs?: number;
}

/** EjectionDetail explains a passive-health ejection. */
export interface EjectionDetail {
  /** reason is the failure that triggered the ejection, as the caller named it. */
  reason: string;
  /** ejections is the ejection multiplier after this ejection (1 the first time). */
  ejections: number;
  consecutiveFailures: number;
}

/**
 * HealthListener receives state changes, once per change. Implementations
 * should be cheap and must not throw (a throw is logged and swallowed).
 */
export interface HealthListener {
  /** onActiveHealth reports that active checks moved `subject` into (true) or out of (false) the rotation. */
  onActiveHealth(subject: HealthSubject, healthy: boolean, detail: ActiveHealthDetail): void;
  /** onEjected reports that passive health ejected `subject` until the epoch-ms time `untilMs`. */
  onEjected(subject: HealthSubject, untilMs: number, detail: EjectionDetail): void;
  /** onReadmitted reports that an ejected `subject` is back in the rotation. */
  onReadmitted(subject: HealthSubject): void;
}

/** HealthCheckResult is the outcome of one probe. */
export interface HealthCheckResult {
  ok: boolean;
  /** reason is short and safe to log: `ok`, `status 503`, `timeout after 1000ms`, `connect ECONNREFUSED`. */
  reason: string;
  status?: number;
  durationMs: number;
  /** at is when the check ended (clock epoch ms). */
  at: number;
}

/**
 * Probe checks one target once. It must honour `signal` (abort promptly and
 * resolve with a failed result) and should resolve rather than reject.
 */
export type Probe = (subject: HealthSubject, signal: AbortSignal) => Promise<HealthCheckResult>;

/** ClosableProbe is a probe that owns resources (an undici agent) released by close(). */
export type ClosableProbe = Probe & { close(): Promise<void> };
