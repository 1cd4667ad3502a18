/**
 * Short, log-safe reasons for probe errors: the syscall and error code
 * (`connect ECONNREFUSED`), never a message with addresses or a stack.
 */

/** UNDICI_REASONS names undici's own error codes; anything else falls back to `error <code>`. */
const UNDICI_REASONS: Record<string, string> = {
  UND_ERR_CONNECT_TIMEOUT: 'connect timeout',
  UND_ERR_HEADERS_TIMEOUT: 'headers timeout',
  UND_ERR_BODY_TIMEOUT: 'body timeout',
  UND_ERR_SOCKET: 'socket closed',
  UND_ERR_CLOSED: 'client closed',
  UND_ERR_DESTROYED: 'client destroyed',
  UND_ERR_ABORTED: 'aborted',
  UND_ERR_INFO: 'invalid response',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'content-length mismatch',
};

interface ErrnoLike {
  code?: unknown;
  syscall?: unknown;
  name?: unknown;
  cause?: unknown;
}

/** errorReason turns any thrown value into a short reason such as `connect ECONNREFUSED` or `tls CERT_HAS_EXPIRED`. */
export function errorReason(err: unknown): string {
  if (typeof err !== 'object' || err === null) return 'error';
  const e = err as ErrnoLike;
  // undici wraps socket errors; the cause carries the errno that says more.
  if (e.code === 'UND_ERR_SOCKET' && typeof e.cause === 'object' && e.cause !== null && typeof (e.cause as ErrnoLike).code === 'string') {
    return errorReason(e.cause);
  }
  if (typeof e.code === 'string') {
    if (typeof e.syscall === 'string') return `${e.syscall} ${e.code}`;
    const known = UNDICI_REASONS[e.code];
    if (known !== undefined) return known;
    if (/CERT|TLS|SSL|SIGNATURE/.test(e.code)) return `tls ${e.code}`;
    return `error ${e.code}`;
  }
  if (e.cause !== undefined && e.cause !== err) return errorReason(e.cause);
  return typeof e.name === 'string' && e.name !== 'Error' ? `error ${e.name}` : 'error';
}
