/**
 * What a failed attempt means for retrying, and how the client learns what
 * the rejection of `request()` cannot tell. The table itself is shared with
 * the gateway's request path (src/http/transport-failure.ts); what differs is
 * what each can observe: the proxy sees undici's dispatch callbacks, the
 * client sees the rejection of `request()` plus what its Tap sees (onConnect:
 * the request was handed to a connected socket).
 */
import type { Dispatcher } from 'undici';
import { classifyTransportFailure, type TransportFailure, type TransportFailureCode } from '../http/transport-failure.js';
import { Pool } from '../http/undici.js';

/** FailureCode is the catalog code of a failed attempt. */
export type FailureCode = TransportFailureCode;

/** Failure classifies one failed attempt. */
export type Failure = TransportFailure;

/** classifyFailure maps an undici/node error to a Failure; `sent` tells whether the request was handed to a connected socket. */
export const classifyFailure: (err: unknown, sent: boolean) => Failure = classifyTransportFailure;

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
