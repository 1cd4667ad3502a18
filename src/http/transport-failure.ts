/**
 * What a failed upstream attempt means, from the undici/node error it ended
 * with: which catalogued code it maps to, whether any byte of the request can
 * have reached the target (safe to repeat for any method), and whether it was
 * a timeout (never repeated: a slow target must not get the work twice).
 *
 * One table for the gateway's request path (src/proxy/upstream-failure.ts)
 * and the client library (src/client/failure.ts): the two used to keep
 * copies in step by hand.
 */

/** TransportFailureCode is the catalog code (src/errors.ts) of a failed attempt. */
export type TransportFailureCode = 'SY_ERR_UPSTREAM_CONNECT' | 'SY_ERR_UPSTREAM_RESET' | 'SY_ERR_UPSTREAM_TIMEOUT' | 'SY_ERR_UPSTREAM_BAD_RESPONSE';

/** TransportFailure classifies one failed attempt. */
export interface TransportFailure {
  code: TransportFailureCode;
  /** notSent is true when no byte of the request reached the target: safe to repeat for any method. */
  notSent: boolean;
  /** timeout is true for a response or idle timeout: never repeated. */
  timeout: boolean;
  /** reason is short and safe to log (an error code, never a message from the peer when a code exists). */
  reason: string;
}

/** TLS_FAILURE matches the codes of failed TLS handshakes (OpenSSL verification errors and node's ERR_TLS_/ERR_SSL_): nothing was sent. */
const TLS_FAILURE = /^(?:ERR_TLS_|ERR_SSL_|DEPTH_ZERO_SELF_SIGNED_CERT$|SELF_SIGNED_CERT_IN_CHAIN$|UNABLE_TO_|CERT_|HOSTNAME_MISMATCH$)/;

const failure = (code: TransportFailureCode, notSent: boolean, reason: string, timeout = false): TransportFailure => ({ code, notSent, timeout, reason });

/** classifyTransportFailure maps an undici/node error to a TransportFailure; `sent` tells whether the request was handed to a connected socket. */
export function classifyTransportFailure(err: unknown, sent: boolean): TransportFailure {
  const code = (err as { code?: string } | null)?.code ?? '';
  switch (code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return failure('SY_ERR_UPSTREAM_CONNECT', true, code);
    case 'UND_ERR_CONNECT_TIMEOUT':
      return failure('SY_ERR_UPSTREAM_TIMEOUT', true, 'connect timeout');
    case 'UND_ERR_HEADERS_TIMEOUT':
      return failure('SY_ERR_UPSTREAM_TIMEOUT', false, 'response timeout', true);
    case 'UND_ERR_BODY_TIMEOUT':
      return failure('SY_ERR_UPSTREAM_TIMEOUT', false, 'idle timeout', true);
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
      // A reset before the request was written (a stale pooled socket) is safe to repeat.
      return failure('SY_ERR_UPSTREAM_RESET', !sent, code);
    default:
      if (TLS_FAILURE.test(code)) return failure('SY_ERR_UPSTREAM_CONNECT', true, `tls ${code}`);
      // HPE_* (a response undici could not parse), content-length mismatches and the rest: the target answered badly.
      return failure('SY_ERR_UPSTREAM_BAD_RESPONSE', false, code || String((err as Error | null)?.message ?? err));
  }
}
