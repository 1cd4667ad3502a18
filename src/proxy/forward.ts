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
import type { Target } from '../upstream/target.js';
import { BodyTooLarge } from './body.js';
import type { Exchange } from './exchange.js';
import { responseHeaders } from './headers.js';
import { withoutHopByHop } from '../http/hop-by-hop.js';
import { locationRewriter } from './location.js';
import { answerError, clientClosed, clientLeft, finish } from './respond.js';
import { clientSendTimer, type SendTimer } from './send-timeout.js';
import { deadlines, type Timed } from './deadlines.js';
import type { AttemptEnd, AttemptOutcome, ProxyHooks } from './hooks.js';
import { idempotent, retryOnFailure, retryOnStatus } from './retry.js';
import { BadStatus, CLIENT_GONE, ClientGone, UpstreamTimeout, answerNoTarget, answerUpstreamFailure, classify } from './upstream-failure.js';
import { claimTarget, pickTarget, upstreamRequestHeaders } from './upstream-request.js';
import { answerPluginFailure } from './plugin-failure.js';

/** RetryMarker aborts an attempt whose response status asked for a retry. */
class RetryMarker extends Error {
  constructor(readonly status: number) {
    super(`retry on status ${status}`);
  }
}

/**
 * Attempt is the undici dispatch handler for one try at one target.
 * Callbacks of an attempt that was abandoned (client gone, retried) are ignored.
 * It is its own AttemptEnd record: reporting its outcome allocates nothing.
 */
class Attempt implements Dispatcher.DispatchHandler, Timed, AttemptEnd {
  controller: Dispatcher.DispatchController | undefined = undefined;
  requestStarted = false;
  headersDone = false;
  done = false;
  // The AttemptEnd fields, set by release().
  outcome: AttemptOutcome = 'ok';
  status = 0;
  reason: string | undefined = undefined;
  ms = 0;
  // The response and idle timeouts (see deadlines.ts: undici's own timers are off for proxied requests).
  deadline = 0;
  timedArmed = false;
  timedPrev: Timed | null = null;
  timedNext: Timed | null = null;

  /** @param t0 is when the attempt was dispatched (the exchange's upstreamStartedAt: one clock reading for both). */
  constructor(
    readonly ex: Exchange,
    readonly target: Target,
    readonly hooks: ProxyHooks,
    private readonly t0: number,
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
  private idle(now?: number): void {
    const ms = this.ex.route.idleTimeoutMs;
    if (ms > 0) deadlines.arm(this, ms, now);
    else deadlines.disarm(this);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[]>): void {
    if (statusCode < 200) return; // 1xx informational: not forwarded
    // RFC 9110 §15 defines 100-599; anything else is a broken upstream, not an answer to relay.
    if (statusCode > 599) return controller.abort(new BadStatus(statusCode));
    const ex = this.ex;
    this.headersDone = true;
    // One clock reading per event: the idle deadline and the upstream's time to headers.
    const now = performance.now();
    this.idle(now);
    if (retryOnStatus(ex, this.target, statusCode)) {
      controller.abort(new RetryMarker(statusCode));
      return;
    }
    ex.upstreamMs = now - this.t0;
    const chain = ex.route.chain.response;
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
    if (ex.cohortCookie !== undefined) flat.push('set-cookie', ex.cohortCookie);
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
    // One clock reading for the attempt's time and the exchange's (the access log's `ms`).
    const now = performance.now();
    ex.endedAt = now;
    this.release(ex.status < 500 ? 'ok' : 'error', ex.status, undefined, now);
    finish(ex, this.hooks.onFinish);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    if (this.done) return;
    this.done = true;
    this.send?.stop();
    const ex = this.ex;
    // The client's close may reach undici first as a broken request body: either way the client left, the target did nothing wrong.
    if (err instanceof ClientGone || clientLeft(ex.res)) {
      this.release('aborted', 0, CLIENT_GONE);
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
      answerPluginFailure(ex, err, 'response', this.hooks);
      return;
    }
    // release() above has already told passive health: this failure may just
    // have ejected the target, which retryOnFailure allows for (13.5).
    if (retryOnFailure(ex, this.target, failure, this.headersDone)) {
      this.hooks.onRetry(ex, this.target, failure.reason);
      attempt(ex, this.hooks, this.target);
      return;
    }
    answerUpstreamFailure(ex, failure, this.hooks);
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

  /** release frees the target and reports how the attempt ended. */
  private release(outcome: AttemptOutcome, status: number, reason: string | undefined, now: number = performance.now()): void {
    deadlines.disarm(this);
    this.target.inflight--;
    this.outcome = outcome;
    this.status = status;
    this.reason = reason;
    this.ms = now - this.t0;
    this.hooks.onAttemptEnd(this);
  }
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
export function attempt(ex: Exchange, hooks: ProxyHooks, exclude?: Target): void {
  // The client may have left while a plugin or the body read was pending, before anyone listened for its close.
  if (ex.attempts === 0 && clientLeft(ex.res)) return clientClosed(ex, hooks.onFinish);
  const target = pickTarget(ex, exclude);
  if (target === undefined) return answerNoTarget(ex, hooks);
  if (ex.attempts === 0) {
    ex.pool.retryBudget.request();
    ex.res.once('close', onClientClose);
  }
  claimTarget(ex, target);
  const startedAt = performance.now();
  const handler = new Attempt(ex, target, hooks, startedAt);
  (ex.res as unknown as { [kAttempt]?: Attempt })[kAttempt] = handler;
  const headers = upstreamRequestHeaders(ex, target);
  ex.upstreamStartedAt = startedAt;
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
      idempotent: idempotent(ex.method),
    },
    handler,
  );
}
