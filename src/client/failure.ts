/**
 * What a failed attempt means for retrying: which catalog code it maps to,
 * and whether any byte of the request can have reached the instance.
 *
 * The gateway makes the same decision in src/proxy/forward.ts (classify);
 * the client cannot import the request path (the dependency rule keeps the
 * library on the building blocks only), and the two differ in what they can
 * observe: the proxy sees undici's dispatch callbacks, the client sees the
 * rejection of `request()` plus what its Tap sees (onConnect: the request
 * was handed to a connected socket). Keep the two tables in step:
 * test/client/failure.test.ts pins the client's.
 */
import type { Dispatcher } from 'undici';
import { Pool } from '../http/undici.js';

/** FailureCode is the catalog code of a failed attempt. */
export type FailureCode = 'SY_ERR_UPSTREAM_CONNECT' | 'SY_ERR_UPSTREAM_RESET' | 'SY_ERR_UPSTREAM_TIMEOUT' | 'SY_ERR_UPSTREAM_BAD_RESPONSE';

/** Failure classifies one failed attempt. */
export interface Failure {
  code: FailureCode;
  /** notSent is true when no byte of the request reached the instance: safe to repeat for any method. */
  notSent: boolean;
  /** timeout is true for a response or idle timeout: never retried (a slow instance must not get the work twice). */
  timeout: boolean;
  /** reason is short and safe to log. */
  reason: string;
}

/** TLS_FAILURE matches the codes of failed TLS handshakes: nothing was sent. */
const TLS_FAILURE = /^(?:ERR_TLS_|ERR_SSL_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_|CERT_|HOSTNAME_MISMATCH$)/;

/** classifyFailure maps an undici/node error to a Failure; `sent` tells whether the request was handed to a connected socket. */
export function classifyFailure(err: unknown, sent: boolean): Failure {
  const code = (err as { code?: string } | null)?.code ?? '';
  const f = (c: FailureCode, notSent: boolean, reason: string, timeout = false): Failure => ({ code: c, notSent, timeout, reason });
  switch (code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return f('SY_ERR_UPSTREAM_CONNECT', true, code);
    case 'UND_ERR_CONNECT_TIMEOUT':
      return f('SY_ERR_UPSTREAM_TIMEOUT', true, 'connect timeout');
    case 'UND_ERR_HEADERS_TIMEOUT':
      return f('SY_ERR_UPSTREAM_TIMEOUT', false, 'response timeout', true);
    case 'UND_ERR_BODY_TIMEOUT':
      return f('SY_ERR_UPSTREAM_TIMEOUT', false, 'idle timeout', true);
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      // A reset before the request was written (a stale pooled socket) is safe to repeat.
      return f('SY_ERR_UPSTREAM_RESET', !sent, code);
    default:
      if (TLS_FAILURE.test(code)) return f('SY_ERR_UPSTREAM_CONNECT', true, `tls ${code}`);
      return f('SY_ERR_UPSTREAM_BAD_RESPONSE', false, code || String((err as Error | null)?.message ?? err));
  }
}

/** OldStyleHandler is the handler undici's request() builds (onConnect, onHeaders, onData, onComplete, onError). */
interface OldStyleHandler {
  onConnect(abort: (err?: Error) => void, context?: object): void;
  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean;
  onData(chunk: Buffer): boolean;
  onComplete(trailers: Buffer[] | null): void;
  onError(err: Error): void;
}

/**
 * Tap sits between undici's request() handler and the connection pool for
 * one attempt, as the handler undici calls. It learns two things the
 * rejection of request() cannot tell: whether the request was handed to a
 * connected socket (onConnect: `sent`), and when the exchange is over
 * (onComplete, or onError, also when the caller destroys the body), which is
 * when the instance stops counting as in flight (least-connections).
 */
export class Tap implements OldStyleHandler {
  /** sent turns true when undici hands the request to a connected socket (its first byte is about to be written). */
  sent = false;
  private released = false;
  private inner: OldStyleHandler | undefined;

  constructor(
    /** onDone runs once, when the exchange is over (or release() is called first). */
    private readonly onDone: () => void,
  ) {}

  /** wrap is the dispatch-time hook: undici's handler goes inside, the Tap goes to the pool. */
  wrap(handler: OldStyleHandler): this {
    this.inner = handler;
    return this;
  }

  /** release ends the in-flight count now (a response abandoned for a retry); idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.onDone();
  }

  onConnect(abort: (err?: Error) => void, context?: object): void {
    this.sent = true;
    this.inner!.onConnect(abort, context);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    return this.inner!.onHeaders(statusCode, rawHeaders, resume, statusText);
  }

  onData(chunk: Buffer): boolean {
    return this.inner!.onData(chunk);
  }

  onComplete(trailers: Buffer[] | null): void {
    this.release();
    this.inner!.onComplete(trailers);
  }

  onError(err: Error): void {
    this.release();
    this.inner!.onError(err);
  }
}

type RequestApi = (this: { dispatch: Dispatcher['dispatch'] }, opts: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;

// undici's own request() (the function mixed into every dispatcher), run against a dispatch that inserts the Tap.
const requestApi = (Pool.prototype as unknown as { request: RequestApi }).request;

/**
 * send runs undici's `request()` on `pool` with `tap` between its handler and
 * the pool; the response is undici's own (statusCode, headers, streamed body).
 */
export function send(pool: Dispatcher, opts: Dispatcher.RequestOptions, tap: Tap): Promise<Dispatcher.ResponseData> {
  const dispatch: Dispatcher['dispatch'] = (o, handler) => pool.dispatch(o, tap.wrap(handler as unknown as OldStyleHandler) as unknown as Dispatcher.DispatchHandler);
  return requestApi.call({ dispatch }, opts);
}
