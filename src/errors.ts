/**
 * The error catalog: every error a client can see is named here, with its
 * status and the message clients get. Causes (addresses, errno, stacks) are
 * kept for logs and never shown to clients. SY_ERR_CLIENT_CLOSED is the one
 * code no client ever receives: it names, in logs, metrics and spans, a
 * request whose client went away before its response was complete (status
 * 499, nginx's "client closed request"). test/errors/catalog.test.ts keeps
 * the catalog exact: every SY_ERR_* code in src/ is here, and every code here
 * is sent somewhere.
 */

/** ErrorCode lists the stable codes clients and logs see. */
export const ERRORS = {
  SY_ERR_ROUTE_NOT_FOUND: { status: 404, message: 'No route matches this request.' },
  SY_ERR_METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed on this route.' },
  SY_ERR_UPSTREAM_UNAVAILABLE: { status: 503, message: 'No healthy server is available for this service.' },
  SY_ERR_UPSTREAM_CONNECT: { status: 502, message: 'The service could not be reached.' },
  SY_ERR_UPSTREAM_RESET: { status: 502, message: 'The service closed the connection.' },
  SY_ERR_UPSTREAM_BAD_RESPONSE: { status: 502, message: 'The service sent an invalid response.' },
  SY_ERR_UPSTREAM_TIMEOUT: { status: 504, message: 'The service did not answer in time.' },
  SY_ERR_REQUEST_TIMEOUT: { status: 408, message: 'The request was not received in time.' },
  SY_ERR_BODY_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  SY_ERR_URL_TOO_LONG: { status: 414, message: 'The request URL is too long.' },
  SY_ERR_HEADERS_TOO_LARGE: { status: 431, message: 'The request headers are too large.' },
  SY_ERR_BAD_REQUEST: { status: 400, message: 'The request is malformed.' },
  SY_ERR_PLUGIN_FAILED: { status: 500, message: 'The gateway failed to process the request.' },
  SY_ERR_INTERNAL: { status: 500, message: 'The gateway failed to process the request.' },
  SY_ERR_AUTH_REQUIRED: { status: 401, message: 'Authentication is required.' },
  SY_ERR_AUTH_INVALID: { status: 401, message: 'The credentials are invalid.' },
  SY_ERR_FORBIDDEN: { status: 403, message: 'Access is forbidden.' },
  SY_ERR_AUTH_UNAVAILABLE: { status: 503, message: 'Credentials cannot be checked right now; try again shortly.' },
  SY_ERR_CORS_REJECTED: { status: 403, message: 'This cross-origin request is not allowed.' },
  SY_ERR_WEBSOCKET_ORIGIN: { status: 403, message: 'WebSocket connections from this origin are not allowed.' },
  SY_ERR_RATE_LIMITED: { status: 429, message: 'Too many requests.' },
  SY_ERR_STORE_UNAVAILABLE: { status: 503, message: 'A backing store is unavailable; try again shortly.' },
  SY_ERR_ADMIN_NOT_FOUND: { status: 404, message: 'No such admin endpoint, upstream or target.' },
  SY_ERR_REGISTRY_BAD_REQUEST: { status: 400, message: 'The registry request is malformed.' },
  SY_ERR_REGISTRY_TARGET_REFUSED: { status: 400, message: 'The registered address is not an allowed target.' },
  SY_ERR_REGISTRY_METADATA_TOO_LARGE: { status: 413, message: 'The instance metadata is too large.' },
  SY_ERR_REGISTRY_NOT_FOUND: { status: 404, message: 'No such application or instance in the registry.' },
  SY_ERR_REGISTRY_FULL: { status: 429, message: 'The registry holds as many instances as it allows.' },
  SY_ERR_REGISTRY_NOT_ACCEPTABLE: { status: 406, message: 'The registry answers JSON only: send Accept: application/json.' },
  SY_ERR_REGISTRY_UNAVAILABLE: { status: 503, message: 'The registry store is unavailable; try again shortly.' },
  // Thrown by the client library (switchyard-gateway/client), never sent by the gateway.
  SY_ERR_LB_OPTIONS: { status: 500, message: 'The client options are invalid.' },
  SY_ERR_LB_DISCOVERY: { status: 503, message: 'The instances of an application cannot be discovered.' },
  SY_ERR_LB_CLOSED: { status: 500, message: 'The client is closed.' },
  SY_ERR_LB_REGISTRATION: { status: 503, message: 'The instance cannot be registered with the registry.' },
  // Layer-4 streams: never sent (there is no HTTP answer on a stream); they name, in logs and metrics, why a connection was refused.
  SY_ERR_STREAM_NO_ROUTE: { status: 404, message: 'No stream route takes this connection.' },
  SY_ERR_STREAM_CLIENT_HELLO: { status: 400, message: 'The TLS ClientHello is malformed, too large or too slow.' },
  SY_ERR_STREAM_LIMIT: { status: 503, message: 'The stream listener holds as many connections as it allows.' },
  SY_ERR_STREAM_DATAGRAM_TOO_LARGE: { status: 413, message: 'The datagram is larger than the listener allows.' },
  SY_ERR_CLIENT_CLOSED: { status: 499, message: 'The client closed the connection before the response was complete.' },
} as const satisfies Record<string, { status: number; message: string }>;

/** ErrorCode is one of the catalog's codes. */
export type ErrorCode = keyof typeof ERRORS;

/** GatewayError is a catalogued failure; `cause` is for logs only. */
export class GatewayError extends Error {
  /** status is the HTTP status the client gets. */
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    options?: { cause?: unknown; detail?: string },
  ) {
    super(options?.detail ?? ERRORS[code].message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.status = ERRORS[code].status;
  }
}

/**
 * errorBody renders the JSON body a client sees. Only catalog text and the
 * request id go out; `extra` carries safe fields such as an upstream's name.
 */
export function errorBody(code: ErrorCode, requestId: string, extra?: Record<string, string | number>): string {
  const e = ERRORS[code];
  return JSON.stringify({ error: { code, status: e.status, message: e.message, requestId, ...extra } });
}

/** ERROR_HEADERS go with every error body the gateway's own servers (admin API, registry) send: JSON, never cached, never sniffed. */
export const ERROR_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};
