/**
 * Admission: what every request and every WebSocket upgrade goes through
 * before the gateway does any work for it. The peer and whether it is a
 * trusted proxy, the request id, the checks that refuse it before routing,
 * path normalisation, routing, the exchange and its span (admit), then the
 * plugin chain (runChain). A request refused before routing is answered bare,
 * with no plugin run, and reported to `onRejected` (refuse).
 *
 * Upgrades differ on purpose, and only here:
 * - they skip the request-only checks: URL length (414), header count
 *   (431), TRACE (405), a fragment in the query and Transfer-Encoding (an
 *   upgrade carries no body to re-frame);
 * - they need `Upgrade: websocket` and a route with `websocket: true` (404);
 * - every refusal closes the connection (it is not reused after an upgrade);
 * - they keep a client's X-Request-Id only from a trusted proxy, and only
 *   when given trustRequestId (the gateway does not: an upgrade gets its own);
 * - they run the chain's upgrade hooks, with `upgrade` set.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Runtime } from './runtime.js';
import { normalizePath } from '../routing/normalize-path.js';
import { runRequestHooks } from '../plugins/chain.js';
import type { Answer } from '../plugins/types.js';
import type { ClientIpResolver } from '../http/client-ip.js';
import { peerAddress } from '../http/peer-address.js';
import { badHost, hostOf } from '../http/host.js';
import { invalidHeaderName } from '../http/header-names.js';
import { startSpan } from '../http/trace-context.js';
import { ERRORS, type ErrorCode } from '../errors.js';
import { Exchange } from './exchange.js';
import type { ProxyHooks, RejectedHook } from './hooks.js';
import { answerPlugin, writeBare } from './respond.js';
import { answerPluginFailure } from './plugin-failure.js';

/** AdmissionDeps is what admission needs from the gateway, for requests and upgrades alike. */
export interface AdmissionDeps {
  /** current returns the active configuration. */
  current(): Runtime;
  ips: ClientIpResolver;
  hooks: ProxyHooks;
  /** secure is true for a TLS listener. */
  secure?: boolean;
  /** trustRequestId keeps a client's well-formed X-Request-Id (gateway.yaml `trustRequestId`). */
  trustRequestId?: boolean;
  /** trustProxyConfigured: with trustProxy set, client request ids are kept only from trusted proxies. */
  trustProxyConfigured?: boolean;
  /** limits are the request-only limits; absent, they are not checked (upgrades). */
  limits?: RequestLimits;
  /** onRejected observes requests answered before routing (metrics, access log, trace export). */
  onRejected?: RejectedHook;
}

/** RequestLimits are the limits a request is held to before routing. */
export interface RequestLimits {
  maxUrlLength: number;
  /** maxHeaders caps the number of request headers (431 over; node would silently drop the rest). */
  maxHeaders: number;
}

/** Proceed continues an exchange the plugins let through: read the body and forward it, or dial the upgrade. */
export type Proceed = (ex: Exchange) => void;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** requestIdFor keeps a trusted, well-formed client id or makes a new one. */
export function requestIdFor(req: IncomingMessage, trust: boolean): string {
  if (trust) {
    const given = req.headers['x-request-id'];
    if (typeof given === 'string' && REQUEST_ID.test(given)) return given;
  }
  return randomUUID();
}

/**
 * admit checks, normalises and routes a request or an upgrade (see the top
 * of this file for how they differ). It returns the admitted exchange, its
 * span started, or undefined when it answered a refusal.
 */
export function admit(req: IncomingMessage, res: ServerResponse, deps: AdmissionDeps, upgrade: boolean): Exchange | undefined {
  const t0 = performance.now();
  const runtime = deps.current();
  const peer = peerAddress(req.socket);
  const trusted = deps.ips.trusted(peer);
  const trustedOnly = upgrade || deps.trustProxyConfigured === true;
  const id = requestIdFor(req, deps.trustRequestId === true && (trusted || !trustedOnly));
  const url = req.url ?? '/';
  const limits = deps.limits;
  if (limits !== undefined) {
    if (url.length > limits.maxUrlLength) return refuse(req, res, deps, 'SY_ERR_URL_TOO_LONG', true, id, t0);
    if (req.rawHeaders.length > limits.maxHeaders * 2) return refuse(req, res, deps, 'SY_ERR_HEADERS_TOO_LARGE', true, id, t0);
  }
  if (upgrade && (req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return refuse(req, res, deps, 'SY_ERR_BAD_REQUEST', true, id, t0);
  if (badHost(req)) return refuse(req, res, deps, 'SY_ERR_BAD_REQUEST', true, id, t0);
  // `X.User.Id: admin`: refused before routing when the gateway is told to (limits.invalidHeaders: reject; header-names.ts).
  if (runtime.invalidHeaders === 'reject' && invalidHeaderName(req.headers) !== undefined) return refuse(req, res, deps, 'SY_ERR_BAD_REQUEST', true, id, t0);
  // TRACE echoes the request as the upstream got it (identity, session and forwarding headers) back to the client: never at the front door (nginx refuses it too).
  if (!upgrade && req.method === 'TRACE') return refuse(req, res, deps, 'SY_ERR_METHOD_NOT_ALLOWED', false, id, t0);
  const q = url.indexOf('?');
  const rawQuery = q === -1 ? '' : url.slice(q + 1);
  // A fragment in the query would end it early for upstreams that strip one (routes may match on the query).
  if (!upgrade && q !== -1 && rawQuery.includes('#')) return refuse(req, res, deps, 'SY_ERR_BAD_REQUEST', true, id, t0);
  const norm = normalizePath(q === -1 ? url : url.slice(0, q));
  if (!norm.ok) {
    deps.hooks.log.debug({ reqId: id, reason: norm.reason }, 'bad request path');
    return refuse(req, res, deps, 'SY_ERR_BAD_REQUEST', true, id, t0);
  }
  const headers = req.headers;
  if (!upgrade && ambiguousFraming(req)) {
    deps.hooks.log.debug({ reqId: id, te: headers['transfer-encoding'] }, 'refused transfer-encoding');
    return refuse(req, res, deps, 'SY_ERR_BAD_REQUEST', true, id, t0);
  }
  // Explicit routes first; the automatic ones (discovery.autoRoutes) only when none matched.
  const route = runtime.router.match(norm.path, { method: req.method!, host: hostOf(headers.host), headers, rawQuery, memo: {} }) ?? runtime.autoRoutes?.match(norm.path);
  if (route === undefined || (upgrade && !route.websocket)) return refuse(req, res, deps, 'SY_ERR_ROUTE_NOT_FOUND', upgrade, id, t0);
  const clientIp = deps.ips.clientIp(peer, headers['x-forwarded-for'] as string | undefined);
  const ex = new Exchange({ req, res, runtime, route, id, path: norm.path, rawQuery, clientIp, peer, trustedPeer: trusted, secure: deps.secure === true, startedAt: t0 });
  // Read from the request's runtime: a reload changes tracing for the next request.
  const trace = runtime.trace;
  if (trace !== undefined) startSpan(ex, trace);
  return ex;
}

/**
 * ambiguousFraming tells a request whose Transfer-Encoding the gateway will
 * not re-frame: only plain `chunked` is; any other list (`gzip, chunked`,
 * `identity, chunked`, duplicates) or any Transfer-Encoding in HTTP/1.0 is
 * ambiguous framing (RFC 9112 §6.1).
 */
function ambiguousFraming(req: IncomingMessage): boolean {
  const te = req.headers['transfer-encoding'];
  return te !== undefined && ((req.httpVersionMajor === 1 && req.httpVersionMinor === 0) || (te !== 'chunked' && te.toLowerCase() !== 'chunked'));
}

/**
 * refuse answers a request refused before routing (no plugin runs) and
 * reports it to `onRejected`. Returns undefined: admit's "not admitted".
 */
function refuse(req: IncomingMessage, res: ServerResponse, deps: AdmissionDeps, code: ErrorCode, close: boolean, requestId: string, t0: number): undefined {
  // Read before the answer: a closed socket forgets its address.
  const ip = peerAddress(req.socket);
  writeBare(res, code, requestId, close);
  deps.onRejected?.({ req, method: req.method ?? '', path: (req.url ?? '').slice(0, 256), status: ERRORS[code].status, code, requestId, ip, ms: performance.now() - t0 });
  return undefined;
}

/**
 * runChain runs an admitted exchange's request hooks (its upgrade hooks for
 * an upgrade), then `next` unless a plugin answered or failed. Synchronous
 * chains cost no allocation; only a pending hook makes two callbacks.
 */
export function runChain(ex: Exchange, upgrade: boolean, hooks: ProxyHooks, next: Proceed): void {
  const chain = upgrade ? ex.route.chain.upgrade : ex.route.chain.request;
  if (chain.length === 0) return next(ex);
  let result: Answer | undefined | Promise<Answer | undefined>;
  try {
    result = runRequestHooks(chain, ex, upgrade);
  } catch (err) {
    return answerPluginFailure(ex, err, upgrade ? 'upgrade' : 'request', hooks);
  }
  if (result instanceof Promise) {
    result.then(
      (answer) => proceed(ex, answer, hooks, next),
      (err: unknown) => answerPluginFailure(ex, err, upgrade ? 'upgrade' : 'request', hooks),
    );
  } else proceed(ex, result, hooks, next);
}

/** proceed sends a plugin's answer, or goes on with the exchange when none answered. */
function proceed(ex: Exchange, answer: Answer | undefined, hooks: ProxyHooks, next: Proceed): void {
  if (answer) return answerPlugin(ex, answer, hooks.onFinish);
  next(ex);
}
