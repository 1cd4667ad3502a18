/**
 * One call to an application: pick an instance with the pool's balancer,
 * send with undici, report the outcome to outlier detection, and retry on
 * another instance when the gateway would:
 *
 * - nothing reached the instance (connect refused, reset before the request
 *   was written): any method, up to max(1, retry.attempts) times, free of
 *   the retry budget (it adds no load to the fleet);
 * - the connection reset before any response on an idempotent request:
 *   once, budgeted (a killed instance mid-request, or a pooled connection
 *   the instance had just closed: then even with a single instance);
 * - a status of `retry.on` for an idempotent method: up to retry.attempts
 *   times, on another instance, budgeted;
 * - never after a response or idle timeout, never with a streamed body
 *   (it cannot be replayed), and (resets aside) never when no other
 *   instance is eligible.
 *
 * The response is undici's (statusCode, headers, streamed body); the
 * instance counts as in flight (least-connections) until undici has the
 * whole body (read by the caller, within undici's buffer) or the body is
 * destroyed.
 */
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Target } from '../upstream/target.js';
import type { AppPool } from './app-pool.js';
import { NoInstancesError, UpstreamError } from './errors.js';
import { classifyFailure, send, Tap } from './failure.js';
import type { ClientMetrics } from './metrics.js';
import { propagate, toHeaders, type HeadersInput, type IncomingLike, type OutgoingHeaders } from './propagation.js';

/** IDEMPOTENT lists methods that may be repeated after an instance saw them (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** RequestBody is what a call may send: bytes (replayable, so retryable) or a stream (sent once). */
export type RequestBody = string | Uint8Array | Readable | AsyncIterable<Uint8Array> | null;

/** RequestOptions describe one call to an application. */
export interface RequestOptions {
  /** method defaults to GET. */
  method?: string;
  /** path is the path and query, e.g. /users/42?full=1. */
  path: string;
  headers?: HeadersInput;
  body?: RequestBody;
  /** from is the request being handled: its traceparent (as a new child span), tracestate and X-Request-Id are propagated. */
  from?: IncomingLike;
  /** signal aborts the call (the abort is not a failure of the instance). */
  signal?: AbortSignal;
  /** key is the balancing key of ip-hash (e.g. a user id): equal keys go to the same instance. */
  key?: string;
}

/** ClientResponse is undici's response: statusCode, headers, and the body as a stream (read it or dump it). */
export type ClientResponse = Dispatcher.ResponseData;

/** CallSettings are the compiled options a call needs. */
export interface CallSettings {
  retryAttempts: number;
  retryOn: ReadonlySet<number>;
  responseTimeoutMs: number;
  idleTimeoutMs: number;
  metrics: ClientMetrics;
}

/** replayable tells whether a body can be sent again (no body, or bytes). */
function replayable(body: RequestBody | undefined): boolean {
  return body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
}

/** otherTarget tells whether the eligible set holds an instance other than `failed` (asked after its outcome, which may have ejected it). */
function otherTarget(eligible: readonly Target[], failed: Target): boolean {
  for (let i = 0; i < eligible.length; i++) if (eligible[i]!.id !== failed.id) return true;
  return false;
}

/** call runs one call to `pool`'s application, retries included. */
export async function call(pool: AppPool, opts: RequestOptions, s: CallSettings): Promise<ClientResponse> {
  const method = opts.method === undefined ? 'GET' : opts.method.toUpperCase();
  const idempotent = IDEMPOTENT.has(method);
  const canReplay = replayable(opts.body);
  // Headers are copied only when there is something to copy or add (most calls: none).
  let headers: OutgoingHeaders | undefined;
  if (opts.headers !== undefined || opts.from !== undefined) {
    headers = toHeaders(opts.headers);
    propagate(headers, opts.from);
  }
  const upstream = pool.upstream;
  const key = opts.key ?? '';
  upstream.retryBudget.request();
  let exclude: Target | undefined;
  for (let attempts = 1; ; attempts++) {
    const target = upstream.pick(key, exclude);
    if (target === undefined) {
      s.metrics.request(pool.app, 'SY_ERR_UPSTREAM_UNAVAILABLE');
      throw new NoInstancesError(pool.app, pool.unavailableReason());
    }
    // The Tap ends the in-flight count when the exchange is over: body read, destroyed, or failed.
    const tap = new Tap(() => target.inflight--);
    target.inflight++;
    target.requests++;
    let res: ClientResponse;
    try {
      res = await send(
        target.pool,
        {
          origin: target.id,
          path: opts.path,
          method: method as Dispatcher.HttpMethod,
          headers: headers ?? null,
          body: (opts.body ?? null) as Dispatcher.RequestOptions['body'],
          headersTimeout: s.responseTimeoutMs,
          bodyTimeout: s.idleTimeoutMs,
          signal: opts.signal ?? null,
        },
        tap,
      );
    } catch (err) {
      tap.release();
      // The caller gave up: that says nothing about the instance.
      if (opts.signal?.aborted) throw err;
      const f = classifyFailure(err, tap.sent);
      target.failures++;
      upstream.outcome(target, false, f.reason);
      const resetBeforeResponse = f.code === 'SY_ERR_UPSTREAM_RESET' && idempotent;
      const limit = f.timeout ? 0 : f.notSent ? Math.max(1, s.retryAttempts) : resetBeforeResponse ? 1 : 0;
      // A reset before any response is most often a pooled connection the
      // instance had just closed: it is repeated even with one instance, on a
      // fresh connection, as the gateway does.
      if (attempts <= limit && canReplay && (resetBeforeResponse || otherTarget(upstream.eligible, target)) && (f.notSent || upstream.retryBudget.tryAcquire())) {
        s.metrics.retry(pool.app, f.reason);
        exclude = target;
        continue;
      }
      s.metrics.request(pool.app, f.code);
      throw new UpstreamError(f.code, pool.app, target.id, f.reason, attempts, err);
    }
    const status = res.statusCode;
    if (s.retryOn.has(status) && idempotent && canReplay && attempts <= s.retryAttempts && otherTarget(upstream.eligible, target) && upstream.retryBudget.tryAcquire()) {
      tap.release();
      target.failures++;
      upstream.outcome(target, false, `status ${status}`);
      res.body.dump().catch(() => undefined);
      s.metrics.retry(pool.app, `status ${status}`);
      exclude = target;
      continue;
    }
    if (status >= 500) target.failures++;
    upstream.outcome(target, status < 500, `status ${status}`);
    s.metrics.request(pool.app, String(status));
    return res;
  }
}
