/**
 * Forwarding one exchange to its upstream with undici's dispatch API. Each
 * attempt is a small handler object; the response is streamed to the client
 * with backpressure (the upstream read pauses while the client socket is
 * full). Why not @fastify/reply-from: it retries on the same URL (we retry on
 * a different target, within a budget), it cannot report per-target outcomes
 * for passive health and least-connections, and its defaults leak internals
 * (see README, "Security defaults").
 */
import type { Dispatcher } from 'undici';
import { PluginFailure, runResponseHooks } from '../plugins/chain.js';
import type { PluginResponse } from '../plugins/types.js';
import type { ErrorCode } from '../errors.js';
import type { Target } from '../upstream/target.js';
import { chooseTarget } from '../upstream/sticky.js';
import { BodyTooLarge } from './body.js';
import type { Exchange } from './exchange.js';
import { responseHeaders, upstreamHeaders } from './headers.js';
import { withoutHopByHop } from '../http/hop-by-hop.js';
import { locationRewriter } from './location.js';
import { answerError, clientClosed, clientLeft, finish, type FinishHook } from './respond.js';
import { clientSendTimer, type SendTimer } from './send-timeout.js';
import { deadlines, type Timed } from './deadlines.js';

/** IDEMPOTENT lists methods that may be retried after the upstream answered (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/** Outcome classifies an upstream failure. */
interface Failure {
  code: ErrorCode;
  /** notSent is true when no byte of the request reached the upstream (safe to retry any method). */
  notSent: boolean;
  reason: string;
}

/** TLS_FAILURE matches the codes of failed TLS handshakes (OpenSSL verification errors and node's ERR_TLS_/ERR_SSL_). */
const TLS_FAILURE = /^(?:ERR_TLS_|ERR_SSL_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_|CERT_|HOSTNAME_MISMATCH$)/;

/** classify maps an undici/node error to a catalogued failure. */
export function classify(err: unknown, requestStarted: boolean): Failure {
  const code = (err as { code?: string })?.code ?? '';
  switch (code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return { code: 'SY_ERR_UPSTREAM_CONNECT', notSent: true, reason: code };
    case 'UND_ERR_CONNECT_TIMEOUT':
      return { code: 'SY_ERR_UPSTREAM_TIMEOUT', notSent: true, reason: 'connect timeout' };
    case 'UND_ERR_HEADERS_TIMEOUT':
      return { code: 'SY_ERR_UPSTREAM_TIMEOUT', notSent: false, reason: 'response timeout' };
    case 'UND_ERR_BODY_TIMEOUT':
      return { code: 'SY_ERR_UPSTREAM_TIMEOUT', notSent: false, reason: 'idle timeout' };
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      // A reset before the request was written (a stale pooled socket) is safe to retry.
      return { code: 'SY_ERR_UPSTREAM_RESET', notSent: !requestStarted, reason: code };
    default:
      // The TLS handshake failed (certificate not verified, wrong name, not TLS): nothing was sent.
      if (TLS_FAILURE.test(code)) return { code: 'SY_ERR_UPSTREAM_CONNECT', notSent: true, reason: `tls ${code}` };
      if (code.startsWith('HPE_') || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' || code === 'UND_ERR_INFO')
        return { code: 'SY_ERR_UPSTREAM_BAD_RESPONSE', notSent: false, reason: code };
      return { code: 'SY_ERR_UPSTREAM_BAD_RESPONSE', notSent: false, reason: code || String((err as Error)?.message ?? err) };
  }
}

/** RetryMarker aborts an attempt whose response status asked for a retry. */
class RetryMarker extends Error {
  constructor(readonly status: number) {
    super(`retry on status ${status}`);
  }
}

/** BadStatus aborts an attempt whose response status is outside 100-599. */
class BadStatus extends Error {
  readonly code = 'SY_BAD_STATUS';
  constructor(status: number) {
    super(`invalid response status ${status}`);
  }
}

/** UpstreamTimeout aborts an attempt past its response or idle timeout; its code is undici's, so classify() reads it the same. */
class UpstreamTimeout extends Error {
  constructor(readonly code: 'UND_ERR_HEADERS_TIMEOUT' | 'UND_ERR_BODY_TIMEOUT') {
    super(code === 'UND_ERR_HEADERS_TIMEOUT' ? 'upstream response timeout' : 'upstream idle timeout');
    this.name = 'UpstreamTimeout';
  }
}

/** ClientGone aborts an attempt whose client went away. */
export class ClientGone extends Error {
  override name = 'ClientGone';
}

/**
 * AttemptOutcome is how one upstream attempt ended: `ok` (an answer below
 * 500), `error` (a failure or a 5xx: passive health hears of it), or
 * `aborted` (the client went away first: it says nothing about the target).
 */
export type AttemptOutcome = 'ok' | 'error' | 'aborted';

/** ForwardHooks are the gateway's observers of upstream attempts. */
export interface ForwardHooks {
  onFinish: FinishHook;
  /** onAttemptEnd reports one attempt's outcome (passive health, metrics). */
  onAttemptEnd(ex: Exchange, target: Target, outcome: AttemptOutcome, status: number, reason: string | undefined, ms: number): void;
  /** onRetry is told when an attempt is retried. */
  onRetry(ex: Exchange, target: Target, reason: string): void;
  /** onPluginFailure is told when a response hook threw (the exchange is answered 500). */
  onPluginFailure?(ex: Exchange, err: Error): void;
  /** onSendTimeout is told when a client connection is cut because the client stopped reading (limits.sendTimeout). */
  onSendTimeout?(ex: Exchange): void;
}

/**
 * Attempt is the undici dispatch handler for one try at one target.
 * Callbacks of an attempt that was abandoned (client gone, retried) are ignored.
 */
class Attempt implements Dispatcher.DispatchHandler, Timed {
  controller: Dispatcher.DispatchController | undefined = undefined;
  requestStarted = false;
  headersDone = false;
  done = false;
  private readonly t0 = performance.now();
  // The response and idle timeouts (see deadlines.ts: undici's own timers are off for proxied requests).
  deadline = 0;
  timedArmed = false;
  timedPrev: Timed | null = null;
  timedNext: Timed | null = null;

  constructor(
    readonly ex: Exchange,
    readonly target: Target,
    readonly hooks: ForwardHooks,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    this.requestStarted = true;
    // The client left while this attempt waited for a connection (see abort()): the upstream never gets the request.
    if (this.ex.finished) return controller.abort(new ClientGone());
    // Counted from here, as undici's headersTimeout was: the request has a connection and is being sent.
    const ms = this.ex.route.responseTimeoutMs;
    if (ms > 0) deadlines.arm(this, ms);
  }

  /** expire ends an attempt whose upstream stayed silent past its response or idle timeout. */
  expire(): void {
    if (this.done || this.controller === undefined) return;
    this.controller.abort(new UpstreamTimeout(this.headersDone ? 'UND_ERR_BODY_TIMEOUT' : 'UND_ERR_HEADERS_TIMEOUT'));
  }

  /** idle (re)arms the idle timeout: the longest silence between two pieces of the response body. */
  private idle(): void {
    const ms = this.ex.route.idleTimeoutMs;
    if (ms > 0) deadlines.arm(this, ms);
    else deadlines.disarm(this);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[]>): void {
    if (statusCode < 200) return; // 1xx informational: not forwarded
    // RFC 9110 §15 defines 100-599; anything else is a broken upstream, not an answer to relay.
    if (statusCode > 599) return controller.abort(new BadStatus(statusCode));
    const ex = this.ex;
    this.headersDone = true;
    this.idle();
    const route = ex.route;
    if (route.retry.on.has(statusCode) && ex.attempts <= route.retry.attempts && IDEMPOTENT.has(ex.method) && replayable(ex) && otherTarget(ex.route.upstream.eligible, this.target) && ex.route.upstream.retryBudget.tryAcquire()) {
      controller.abort(new RetryMarker(statusCode));
      return;
    }
    ex.upstreamMs = performance.now() - this.t0;
    const chain = route.chain.response;
    // Without response hooks, responseHeaders drops the hop-by-hop headers in the same pass that builds the client's list.
    if (chain.length === 0) return this.writeHead({ status: statusCode, headers, fromUpstream: true });
    const out: PluginResponse = { status: statusCode, headers: withoutHopByHop(headers), fromUpstream: true };
    let pending: void | Promise<void>;
    try {
      pending = runResponseHooks(chain, ex, out);
    } catch (err) {
      ex.error = err;
      controller.abort(err as Error);
      return;
    }
    if (pending) {
      // Paused for our own hooks: the upstream is not the one being slow (undici's body timeout did not run while paused either).
      controller.pause();
      deadlines.disarm(this);
      pending.then(
        () => {
          if (this.done) return;
          this.writeHead(out);
          this.idle();
          controller.resume();
        },
        (err: unknown) => {
          ex.error = err;
          controller.abort(err as Error);
        },
      );
    } else this.writeHead(out);
  }

  /**
   * writeHead keeps the response head until the first body byte or the end
   * (node sends it then anyway), so an upstream whose body is broken from its
   * first byte still gets the client a clean 502 instead of a cut connection.
   */
  private writeHead(out: PluginResponse): void {
    this.head = out;
  }

  private head: PluginResponse | undefined = undefined;

  private flushHead(): void {
    const out = this.head;
    if (out === undefined) return;
    this.head = undefined;
    const ex = this.ex;
    ex.status = out.status;
    ex.responded = true;
    const h = out.headers;
    const rewrite = h.location !== undefined || h['content-location'] !== undefined ? locationRewriter(ex) : undefined;
    const flat = responseHeaders(h, ex.id, rewrite);
    // Added after the filter: an upstream `Connection: set-cookie` must not drop the gateway's own cookie.
    if (ex.stickyCookie !== undefined) flat.push('set-cookie', ex.stickyCookie);
    ex.res.writeHead(out.status, flat);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.head !== undefined) this.flushHead();
    const ex = this.ex;
    const res = ex.res;
    ex.sent += chunk.length;
    if (!res.write(chunk)) {
      controller.pause();
      // A slow client is limits.sendTimeout's business, not the upstream's idle timeout.
      deadlines.disarm(this);
      // Past the send timeout the client connection goes; its 'close' aborts this attempt, which frees the upstream connection.
      (this.send ??= clientSendTimer(ex, this.hooks, res)).stalled();
      res.once('drain', onClientDrain);
    } else if (this.timedArmed) deadlines.arm(this, ex.route.idleTimeoutMs);
  }

  /** send times the client's stalls; created at the first one. */
  private send: SendTimer | undefined = undefined;

  /** drained resumes the upstream read once the client took what was buffered (the same controller undici passes to every callback). */
  drained(): void {
    this.send?.drained();
    if (!this.done) this.idle();
    this.controller?.resume();
  }

  onResponseEnd(): void {
    if (this.done) return;
    this.done = true;
    const ex = this.ex;
    this.flushHead();
    ex.res.end();
    this.send?.stopWhenFlushed(ex.res);
    this.release(ex.status < 500 ? 'ok' : 'error', ex.status, undefined);
    finish(ex, this.hooks.onFinish);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.done) return;
    this.done = true;
    this.send?.stop();
    const ex = this.ex;
    // The client's close may reach undici first as a broken request body: either way the client left, the target did nothing wrong.
    if (err instanceof ClientGone || clientLeft(ex.res)) {
      this.release('aborted', 0, 'client gone');
      clientClosed(ex, this.hooks.onFinish);
      return;
    }
    if (err instanceof RetryMarker) {
      this.release('error', err.status, `status ${err.status}`);
      this.hooks.onRetry(ex, this.target, `status ${err.status}`);
      attempt(ex, this.hooks, this.target);
      return;
    }
    const failure = classify(err, this.requestStarted);
    if (ex.error === undefined) ex.error = err;
    this.release('error', 0, failure.reason);
    if (ex.responded) {
      // Headers already went out: the only honest signal left is to cut the connection.
      ex.res.destroy();
      finish(ex, this.hooks.onFinish);
      return;
    }
    if (ex.finished) return;
    if (err instanceof BodyTooLarge) {
      answerError(ex, 'SY_ERR_BODY_TOO_LARGE', this.hooks.onFinish, { close: true });
      return;
    }
    if (err instanceof PluginFailure) {
      ex.plugin = (err as Error & { plugin?: string }).plugin;
      this.hooks.onPluginFailure?.(ex, err);
      answerError(ex, 'SY_ERR_PLUGIN_FAILED', this.hooks.onFinish);
      return;
    }
    // Retry once elsewhere when nothing reached the upstream (any method), or
    // when the connection reset before any response on an idempotent request:
    // RFC 9110 §9.2.2 lets a client repeat those automatically, and it is what
    // keeps a killed target invisible to clients. Timeouts are never retried
    // (a slow upstream must not receive the same work twice).
    const resetBeforeResponse = failure.code === 'SY_ERR_UPSTREAM_RESET' && !this.headersDone && IDEMPOTENT.has(ex.method);
    const limit = failure.notSent ? Math.max(1, ex.route.retry.attempts) : resetBeforeResponse ? 1 : 0;
    // A retry of a request that never reached the upstream adds no load to the
    // fleet, so it does not spend the retry budget.
    // A reset before any response is most often a pooled connection the
    // upstream had just closed (the keep-alive race): that one is repeated
    // even in a one-target pool, on a fresh connection (nginx does the same
    // for cached connections).
    // release() above has already told passive health: this failure may just
    // have ejected the target, so "is there somewhere else to go" is asked
    // of the eligible set without it, not of its size (13.5).
    if (ex.attempts <= limit && replayable(ex) && (resetBeforeResponse || otherTarget(ex.route.upstream.eligible, this.target)) && (failure.notSent || ex.route.upstream.retryBudget.tryAcquire())) {
      this.hooks.onRetry(ex, this.target, failure.reason);
      attempt(ex, this.hooks, this.target);
      return;
    }
    answerError(ex, failure.code, this.hooks.onFinish, { fields: { upstream: ex.upstream } });
  }

  /**
   * abort stops the attempt because the client went away; onResponseError
   * then finishes the exchange. An attempt still waiting for a connection has
   * nothing to cancel yet: the exchange is finished now (the access log does
   * not wait for a free connection), and onRequestStart cancels the attempt.
   */
  abort(): void {
    if (this.done) return;
    if (this.controller !== undefined) this.controller.abort(new ClientGone());
    else clientClosed(this.ex, this.hooks.onFinish);
  }

  private release(outcome: AttemptOutcome, status: number, reason: string | undefined): void {
    deadlines.disarm(this);
    this.target.inflight--;
    this.hooks.onAttemptEnd(this.ex, this.target, outcome, status, reason, performance.now() - this.t0);
  }
}

/**
 * otherTarget tells whether `eligible` holds a target other than `failed`:
 * whether a retry has somewhere else to go. It holds whether or not the
 * failed attempt's outcome has already ejected `failed` (then the set is
 * smaller by one, and counting its size would miss the healthy rest). Runs
 * only on failures; pools are small.
 */
function otherTarget(eligible: readonly Target[], failed: Target): boolean {
  for (let i = 0; i < eligible.length; i++) if (eligible[i]!.id !== failed.id) return true;
  return false;
}

/** replayable tells whether the request body can be sent again (none, or buffered). */
function replayable(ex: Exchange): boolean {
  return ex.body === null || Buffer.isBuffer(ex.body);
}

const kAttempt = Symbol('switchyard.attempt');

/**
 * onClientClose aborts the upstream attempt of a response whose client went
 * away (one shared function, no closure per request). After a complete
 * response the attempt is done and this does nothing; `writableFinished`
 * cannot tell, as HTTP/2's compatibility response reports true for a stream
 * the client cancelled.
 */
function onClientClose(this: { [kAttempt]?: Attempt }): void {
  this[kAttempt]?.abort();
}

/** onClientDrain resumes the attempt a stalled client held back (one shared function, no closure per stall). */
function onClientDrain(this: { [kAttempt]?: Attempt }): void {
  this[kAttempt]?.drained();
}

/**
 * attempt picks a target (not `exclude` when another exists) and dispatches
 * the exchange to it. With no eligible target it answers 503 at once.
 */
export function attempt(ex: Exchange, hooks: ForwardHooks, exclude?: Target): void {
  // The client may have left while a plugin or the body read was pending, before anyone listened for its close.
  if (ex.attempts === 0 && clientLeft(ex.res)) return clientClosed(ex, hooks.onFinish);
  const upstream = ex.route.upstream;
  const target = upstream.sticky === undefined ? upstream.pick(ex.clientIp, exclude) : chooseTarget(upstream.sticky, ex, upstream, exclude);
  if (target === undefined) {
    answerError(ex, 'SY_ERR_UPSTREAM_UNAVAILABLE', hooks.onFinish, { headers: { 'retry-after': '5' }, fields: { upstream: upstream.name } });
    return;
  }
  if (ex.attempts === 0) {
    upstream.retryBudget.request();
    ex.res.once('close', onClientClose);
  }
  ex.attempts++;
  ex.target = target;
  target.inflight++;
  target.requests++;
  const handler = new Attempt(ex, target, hooks);
  (ex.res as unknown as { [kAttempt]?: Attempt })[kAttempt] = handler;
  const settings = upstream.settings;
  const headers = upstreamHeaders(
    ex.headers,
    {
      peer: ex.peer,
      trustedPeer: ex.trustedPeer,
      proto: ex.secure ? 'https' : 'http',
      host: ex.headers.host,
      requestId: ex.id,
      upstreamHost: settings.hostHeader === 'target' ? target.hostPort : settings.hostHeader === 'client' ? (ex.headers.host ?? target.hostPort) : settings.hostHeader,
      strip: ex.route.chain.ownedHeaders,
      removed: ex.removed,
      invalidHeaders: ex.runtime.invalidHeaders,
      traceparent: ex.traceparent,
      tracestate: ex.tracestate,
    },
    ex.extraHeaders,
  );
  ex.upstreamStartedAt = performance.now();
  target.pool.dispatch(
    {
      path: ex.upstreamPath(),
      method: ex.method,
      headers,
      body: ex.body as Buffer | null,
      // Off: the attempt enforces route.responseTimeoutMs and idleTimeoutMs itself (deadlines.ts says why).
      headersTimeout: 0,
      bodyTimeout: 0,
      // Non-idempotent requests are never pipelined behind others.
      idempotent: IDEMPOTENT.has(ex.method),
    },
    handler,
  );
}
