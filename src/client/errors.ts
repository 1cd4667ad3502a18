/**
 * The client library's errors, one class per way a call can fail, so a
 * caller can `instanceof` (or switch on `code`) instead of parsing messages.
 * Transport failures reuse the gateway's catalog codes and statuses
 * (SY_ERR_UPSTREAM_CONNECT, _RESET, _TIMEOUT, _BAD_RESPONSE, _UNAVAILABLE):
 * a service that answers its own clients with the status of a failed
 * east–west call says the same thing the gateway would. The codes that only
 * a library caller can meet (bad options, discovery down, closed client,
 * failed registration) are SY_ERR_LB_* (the client-side load balancer) and
 * live here, not in the catalog, which lists what HTTP clients of the
 * gateway see (its SY_ERR_CLIENT_CLOSED is an HTTP client that went away).
 */
import { ERRORS, type ErrorCode } from '../errors.js';
import type { ConfigError } from '../config/errors.js';

/** ClientErrorCode names every failure of the client library. */
export type ClientErrorCode =
  | 'SY_ERR_LB_OPTIONS'
  | 'SY_ERR_LB_DISCOVERY'
  | 'SY_ERR_LB_CLOSED'
  | 'SY_ERR_LB_REGISTRATION'
  | Extract<ErrorCode, 'SY_ERR_UPSTREAM_UNAVAILABLE' | 'SY_ERR_UPSTREAM_CONNECT' | 'SY_ERR_UPSTREAM_RESET' | 'SY_ERR_UPSTREAM_TIMEOUT' | 'SY_ERR_UPSTREAM_BAD_RESPONSE'>;

/** ClientError is the base of every error the client library throws; `cause` keeps the underlying error for logs. */
export class ClientError extends Error {
  /** status is the HTTP status a service would answer its own caller with (502, 503, 504; 500 for programming errors). */
  readonly status: number;

  constructor(
    /** code is stable: switch on it, never on the message. */
    readonly code: ClientErrorCode,
    message: string,
    options: { cause?: unknown; status?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ClientError';
    this.status = options.status ?? (code in ERRORS ? ERRORS[code as ErrorCode].status : 500);
  }
}

/** InvalidOptionsError says createClient or registerInstance was given options that do not validate; `errors` lists each problem. */
export class InvalidOptionsError extends ClientError {
  constructor(
    /** errors are the validation problems, worded (and with "did you mean") as for route files. */
    readonly errors: readonly ConfigError[],
  ) {
    super('SY_ERR_LB_OPTIONS', errors.map((e) => e.format()).join('\n'));
    this.name = 'InvalidOptionsError';
  }
}

/** DiscoveryUnavailableError says an application's instances could not be learnt: the registry (or DNS) failed before its first answer, and no fallback is configured. */
export class DiscoveryUnavailableError extends ClientError {
  constructor(
    readonly app: string,
    reason: string,
  ) {
    super('SY_ERR_LB_DISCOVERY', `cannot discover the instances of ${app}: ${reason}`, { status: 503 });
    this.name = 'DiscoveryUnavailableError';
  }
}

/** NoInstancesError says an application has no instance that takes requests now (none registered, all down or draining, or all ejected): it is thrown at once, never after a wait. */
export class NoInstancesError extends ClientError {
  constructor(
    readonly app: string,
    reason: string,
  ) {
    super('SY_ERR_UPSTREAM_UNAVAILABLE', `no instance of ${app} is available: ${reason}`);
    this.name = 'NoInstancesError';
  }
}

/** UpstreamError says the last attempt at an instance failed (connect, reset, timeout, bad response) and no retry was allowed; `instance` is its url. */
export class UpstreamError extends ClientError {
  constructor(
    code: 'SY_ERR_UPSTREAM_CONNECT' | 'SY_ERR_UPSTREAM_RESET' | 'SY_ERR_UPSTREAM_TIMEOUT' | 'SY_ERR_UPSTREAM_BAD_RESPONSE',
    readonly app: string,
    readonly instance: string,
    /** reason is short and safe to log: `ECONNREFUSED`, `response timeout`. */
    readonly reason: string,
    /** attempts counts the tries made, retries included. */
    readonly attempts: number,
    cause: unknown,
  ) {
    super(code, `${app} call failed at ${instance} after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${reason}`, { cause });
    this.name = 'UpstreamError';
  }
}

/** ClientClosedError says a call was made after client.close(). */
export class ClientClosedError extends ClientError {
  constructor() {
    super('SY_ERR_LB_CLOSED', 'the client is closed');
    this.name = 'ClientClosedError';
  }
}

/** RegistrationError says the registry refused or could not be reached for a registration. */
export class RegistrationError extends ClientError {
  constructor(
    readonly app: string,
    reason: string,
    cause?: unknown,
  ) {
    super('SY_ERR_LB_REGISTRATION', `cannot register ${app}: ${reason}`, { cause, status: 503 });
    this.name = 'RegistrationError';
  }
}
