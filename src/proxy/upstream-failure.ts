/**
 * Upstream transport failures and how the client hears of them: every
 * undici/node error is mapped to a catalogued 502, 503 or 504
 * (SY_ERR_UPSTREAM_*), the original kept as the exchange's `error` for the
 * logs and never shown to the client. Also the reasons the gateway aborts an
 * attempt with, named so classify() reads them like undici's own.
 * Shared by forwarded requests (forward.ts) and upgrades (websocket.ts).
 */
import type { ErrorCode } from '../errors.js';
import type { Exchange } from './exchange.js';
import type { ProxyHooks } from './hooks.js';
import { answerError } from './respond.js';

/** Failure is a classified upstream failure. */
export interface Failure {
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

/** ClientGone aborts an attempt whose client went away. */
export class ClientGone extends Error {
  override name = 'ClientGone';
}

/** CLIENT_GONE is the reason an attempt abandoned by its client reports (it says nothing about the target). */
export const CLIENT_GONE = 'client gone';

/** BadStatus aborts an attempt whose response status is outside 100-599. */
export class BadStatus extends Error {
  readonly code = 'SY_BAD_STATUS';
  constructor(status: number) {
    super(`invalid response status ${status}`);
  }
}

/** UpstreamTimeout aborts an attempt past its response or idle timeout; its code is undici's, so classify() reads it the same. */
export class UpstreamTimeout extends Error {
  constructor(readonly code: 'UND_ERR_HEADERS_TIMEOUT' | 'UND_ERR_BODY_TIMEOUT') {
    super(code === 'UND_ERR_HEADERS_TIMEOUT' ? 'upstream response timeout' : 'upstream idle timeout');
    this.name = 'UpstreamTimeout';
  }
}

/** NotUpgraded ends an upgrade the upstream answered with another status than 101 (classified as a bad response). */
export class NotUpgraded extends Error {
  readonly code = 'SY_NOT_UPGRADED';
  constructor(status: number) {
    super(`upstream answered the upgrade with ${status}`);
  }
}

/** answerUpstreamFailure answers an exchange whose upstream failed (502/504), naming the upstream in the body. */
export function answerUpstreamFailure(ex: Exchange, failure: Failure, hooks: ProxyHooks): void {
  answerError(ex, failure.code, hooks.onFinish, { fields: { upstream: ex.upstream } });
}

/** answerNoTarget answers an exchange whose upstream has no eligible target (503, retry in 5 s). */
export function answerNoTarget(ex: Exchange, hooks: ProxyHooks): void {
  answerError(ex, 'SY_ERR_UPSTREAM_UNAVAILABLE', hooks.onFinish, { headers: { 'retry-after': '5' }, fields: { upstream: ex.upstream } });
}
