/**
 * How the request path tells the gateway what happened: the observer hooks
 * and the records they receive. Records instead of positional arguments, so
 * two strings (a request id and an address) cannot trade places unnoticed.
 * Attempt records are the attempt handlers themselves (nothing is allocated
 * to report an attempt); a refusal record is one literal built in one place
 * (admission.ts), off the path of accepted requests.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { ErrorCode } from '../errors.js';
import type { Target } from '../upstream/target.js';
import type { Upstream } from '../upstream/upstream.js';
import type { Exchange } from './exchange.js';
import type { FinishHook } from './respond.js';

/**
 * AttemptOutcome is how one upstream attempt ended: `ok` (an answer below
 * 500), `error` (a failure or a 5xx: passive health hears of it), or
 * `aborted` (the client went away first: it says nothing about the target).
 */
export type AttemptOutcome = 'ok' | 'error' | 'aborted';

/**
 * AttemptEnd is what an ended upstream attempt reports. The attempt handler
 * itself implements it, so it is valid during the onAttemptEnd call only:
 * copy what you keep.
 */
export interface AttemptEnd {
  readonly ex: Exchange;
  readonly target: Target;
  readonly outcome: AttemptOutcome;
  /** status is the upstream's status (0 when it did not answer). */
  readonly status: number;
  /** reason says why an attempt failed or was abandoned (undefined for an answer). */
  readonly reason: string | undefined;
  /** ms is the attempt's duration (0 for an upgrade). */
  readonly ms: number;
}

/** Refusal is a request answered before routing, without an exchange (400, 404, 405, 414, 431). */
export interface Refusal {
  readonly req: IncomingMessage;
  readonly method: string;
  /** path is the request target as sent (query included), cut at 256 characters. */
  readonly path: string;
  readonly status: number;
  readonly code: ErrorCode;
  /** requestId is the id sent back in the answer's X-Request-Id. */
  readonly requestId: string;
  /** ip is the socket peer's address. */
  readonly ip: string;
  /** ms is the time from arrival to the answer. */
  readonly ms: number;
}

/** RejectedHook observes a request answered before routing (metrics, access log, trace export). */
export type RejectedHook = (refusal: Refusal) => void;

/** ProxyHooks are the gateway's observers of exchanges and their upstream attempts. */
export interface ProxyHooks {
  onFinish: FinishHook;
  /** log is the gateway log: plugin failures (plugin-failure.ts) and refused paths go there. */
  log: Logger;
  /** onAttemptEnd reports one attempt's outcome (passive health, metrics). */
  onAttemptEnd(end: AttemptEnd): void;
  /** onRetry is told when an attempt is retried. */
  onRetry(ex: Exchange, target: Target, reason: string): void;
  /** onSendTimeout is told when a client connection is cut because the client stopped reading (limits.sendTimeout). */
  onSendTimeout?(ex: Exchange): void;
  /** onSplitFallback is told when a split leg's pool had no eligible target and its request went to `to` ('503': answered 503; proxy/split.ts). */
  onSplitFallback?(ex: Exchange, leg: Upstream, to: 'primary' | '503'): void;
  /** onSplitUnkeyed is told when a split route's request had no cohort key and went to the primary. */
  onSplitUnkeyed?(ex: Exchange): void;
}
