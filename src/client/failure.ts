/**
 * What a failed attempt means for retrying: which catalog code it maps to,
 * and whether any byte of the request can have reached the instance.
 *
 * The gateway makes the same decision in src/proxy/forward.ts (classify);
 * the client cannot import the request path (the dependency rule keeps the
 * library on the building blocks only), and the two differ in what they can
 * observe: the proxy sees undici's dispatch callbacks, the client sees the
 * rejection of `request()` plus the one callback it taps (onConnect: the
 * request was handed to a connected socket). Keep the two tables in step:
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

/** SendState is what one attempt learns about itself while undici runs it. */
export interface SendState {
  /** sent turns true when undici hands the request to a connected socket (its first byte is about to be written). */
  sent: boolean;
}

type RequestApi = (this: { dispatch: Dispatcher['dispatch'] }, opts: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;
type OnConnect = (abort: (err?: Error) => void, context?: object) => void;

// undici's own request() (the function mixed into every dispatcher), run against a dispatch that taps onConnect.
const requestApi = (Pool.prototype as unknown as { request: RequestApi }).request;

/**
 * send runs undici's `request()` on `pool` and records in `state` whether the
 * request reached a socket. undici's request handler reports that through
 * onConnect; the tap wraps that one callback and changes nothing else, so the
 * response is undici's own (statusCode, headers, streamed body).
 */
export function send(pool: Dispatcher, opts: Dispatcher.RequestOptions, state: SendState): Promise<Dispatcher.ResponseData> {
  const dispatch: Dispatcher['dispatch'] = (o, handler) => {
    const h = handler as { onConnect?: OnConnect };
    const onConnect = h.onConnect;
    if (onConnect !== undefined) {
      h.onConnect = (abort, context) => {
        state.sent = true;
        onConnect.call(h, abort, context);
      };
    }
    return pool.dispatch(o, handler);
  };
  return requestApi.call({ dispatch }, opts);
}
