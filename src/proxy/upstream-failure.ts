/**
 * Upstream transport failures and how the client hears of them: every
 * undici/node error is mapped to a catalogued 502, 503 or 504
 * (SY_ERR_UPSTREAM_*), the original kept as the exchange's `error` for the
 * logs and never shown to the client. Also the reasons the gateway aborts an
 * attempt with, named so classify() reads them like undici's own.
 * Shared by forwarded requests (forward.ts) and upgrades (websocket.ts).
 */
import { classifyTransportFailure, type TransportFailure } from '../http/transport-failure.js';
import type { Exchange } from './exchange.js';
import type { ProxyHooks } from './hooks.js';
import { answerError } from './respond.js';

/** Failure is a classified upstream failure (the one table in src/http/transport-failure.ts). */
export type Failure = TransportFailure;

/** classify maps an undici/node error to a catalogued failure; `requestStarted` tells whether any byte can have been written. */
export const classify: (err: unknown, requestStarted: boolean) => Failure = classifyTransportFailure;

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
