/**
 * The public request handler: normalize, route, run the plugin chain, then
 * forward. It reads the active Runtime once, so a request is served wholly by
 * one configuration version even if a reload lands mid-request.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Runtime } from './runtime.js';
import { normalizePath } from '../routing/normalize-path.js';
import type { RequestView } from '../routing/route-match.js';
import { runRequestHooks, PluginFailure } from '../plugins/chain.js';
import type { Answer } from '../plugins/types.js';
import { normalizeIp, type ClientIpResolver } from '../http/client-ip.js';
import { Exchange } from './exchange.js';
import { attempt, type ForwardHooks } from './forward.js';
import { answerError, answerPlugin, writeBare } from './respond.js';
import { ERRORS, type ErrorCode } from '../errors.js';
import { BodyTooLarge, LimitStream, readBody, readStart } from './body.js';
import { startSpan } from '../http/trace-context.js';
import { invalidHeaderName } from '../http/header-names.js';

/** HandlerDeps is what the handler needs from the gateway. */
export interface HandlerDeps {
  /** current returns the active configuration. */
  current(): Runtime;
  ips: ClientIpResolver;
  trustRequestId: boolean;
  /** trustProxyConfigured: with trustProxy set, client request ids are kept only from trusted proxies. */
  trustProxyConfigured: boolean;
  maxUrlLength: number;
  /** maxHeaders caps the number of request headers (431 over; node would silently drop the rest). */
  maxHeaders: number;
  /** defaultBodyLimit applies to routes without their own bodyLimit. */
  hooks: ForwardHooks;
  log: Logger;
  /** secure is true for a TLS listener. */
  secure: boolean;
  /** onRejected observes requests answered before routing (metrics, access log, trace export). */
  onRejected?: RejectedHook;
}

/** RejectedHook observes a request answered before routing (metrics, access log, trace export). */
export type RejectedHook = (method: string, path: string, status: number, id: string, ip: string, ms: number, req: IncomingMessage, code: ErrorCode) => void;

/** refuseBare answers a request refused before routing (no plugin runs) and reports it to `onRejected`; upgrades are refused the same way. */
export function refuseBare(req: IncomingMessage, res: ServerResponse, code: ErrorCode, id: string, peer: string, t0: number, close: boolean, onRejected: RejectedHook | undefined): void {
  writeBare(res, code, id, close);
  onRejected?.(req.method ?? '', (req.url ?? '').slice(0, 256), ERRORS[code].status, id, peer, performance.now() - t0, req, code);
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** HOST is `uri-host [":" port]` (RFC 9110 §7.2): a reg-name or an IP literal, nothing else (no path, userinfo or spaces). */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~!$&'()*+,;=%-]+)(?::[0-9]{0,5})?$/;

/** badHost tells whether a request carries more than one Host header or a malformed one (RFC 9112 §3.2: 400). */
export function badHost(req: IncomingMessage): boolean {
  const host = req.headers.host;
  if (host === undefined) return false; // HTTP/1.0; node refuses a missing Host in HTTP/1.1
  if (!HOST.test(host)) return true;
  const raw = req.rawHeaders;
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 4 && name.toLowerCase() === 'host' && ++n > 1) return true;
  }
  return false;
}

/** requestIdFor keeps a trusted, well-formed client id or makes a new one. */
export function requestIdFor(req: IncomingMessage, trust: boolean): string {
  if (trust) {
    const given = req.headers['x-request-id'];
    if (typeof given === 'string' && REQUEST_ID.test(given)) return given;
  }
  return randomUUID();
}

/** hostOf lower-cases a Host header and drops its port. */
export function hostOf(host: string | undefined): string {
  if (host === undefined) return '';
  let h = host;
  if (h.charCodeAt(0) === 91 /* [ */) {
    const end = h.indexOf(']');
    return (end === -1 ? h : h.slice(0, end + 1)).toLowerCase();
  }
  const colon = h.indexOf(':');
  if (colon !== -1) h = h.slice(0, colon);
  return h.toLowerCase();
}

/** createHandler builds the function mounted on the public server's 'request' event. */
export function createHandler(deps: HandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { hooks, ips } = deps;
  const onPluginError = (ex: Exchange, err: unknown) => {
    ex.error = err;
    const plugin = err instanceof PluginFailure ? err.plugin : undefined;
    ex.plugin = plugin;
    deps.log.error({ err: err instanceof PluginFailure ? err.cause : err, plugin, route: ex.routeId, reqId: ex.id, trace: ex.traceId }, 'plugin failed');
    answerError(ex, 'SY_ERR_PLUGIN_FAILED', hooks.onFinish);
  };
  const proceed = (ex: Exchange, answer: Answer | undefined) => {
    if (answer) return answerPlugin(ex, answer, hooks.onFinish);
    prepareBody(ex, hooks);
  };

  const reject = (req: IncomingMessage, res: ServerResponse, code: ErrorCode, id: string, peer: string, t0: number, close = false) =>
    refuseBare(req, res, code, id, peer, t0, close, deps.onRejected);

  return function handle(req: IncomingMessage, res: ServerResponse): void {
    const t0 = performance.now();
    const runtime = deps.current();
    const peer = normalizeIp(req.socket.remoteAddress ?? '');
    const trusted = ips.trusted(peer);
    const id = requestIdFor(req, deps.trustRequestId && (trusted || !deps.trustProxyConfigured));
    const url = req.url ?? '/';
    if (url.length > deps.maxUrlLength) return reject(req, res, 'SY_ERR_URL_TOO_LONG', id, peer, t0, true);
    if (req.rawHeaders.length > deps.maxHeaders * 2) return reject(req, res, 'SY_ERR_HEADERS_TOO_LARGE', id, peer, t0, true);
    if (badHost(req)) return reject(req, res, 'SY_ERR_BAD_REQUEST', id, peer, t0, true);
    // `X.User.Id: admin`: refused before routing when the gateway is told to (limits.invalidHeaders: reject; header-names.ts).
    if (runtime.invalidHeaders === 'reject' && invalidHeaderName(req.headers) !== undefined) return reject(req, res, 'SY_ERR_BAD_REQUEST', id, peer, t0, true);
    // TRACE echoes the request as the upstream got it (identity, session and forwarding headers) back to the client: never at the front door (nginx refuses it too).
    if (req.method === 'TRACE') return reject(req, res, 'SY_ERR_METHOD_NOT_ALLOWED', id, peer, t0);
    const q = url.indexOf('?');
    const rawPath = q === -1 ? url : url.slice(0, q);
    const rawQuery = q === -1 ? '' : url.slice(q + 1);
    // A fragment in the query would end it early for upstreams that strip one (routes may match on the query).
    if (q !== -1 && rawQuery.includes('#')) return reject(req, res, 'SY_ERR_BAD_REQUEST', id, peer, t0, true);
    const norm = normalizePath(rawPath);
    if (!norm.ok) {
      deps.log.debug({ reqId: id, reason: norm.reason }, 'bad request path');
      return reject(req, res, 'SY_ERR_BAD_REQUEST', id, peer, t0, true);
    }
    const headers = req.headers;
    // Only plain `chunked` is a transfer coding the gateway re-frames; any
    // other list (`gzip, chunked`, `identity, chunked`, duplicates) or any
    // Transfer-Encoding in HTTP/1.0 is ambiguous framing (RFC 9112 §6.1).
    const te = headers['transfer-encoding'];
    if (te !== undefined && ((req.httpVersionMajor === 1 && req.httpVersionMinor === 0) || (te !== 'chunked' && te.toLowerCase() !== 'chunked'))) {
      deps.log.debug({ reqId: id, te }, 'refused transfer-encoding');
      return reject(req, res, 'SY_ERR_BAD_REQUEST', id, peer, t0, true);
    }
    const view: RequestView = { method: req.method!, host: hostOf(headers.host), headers, rawQuery, memo: {} };
    const route = runtime.router.match(norm.path, view);
    if (route === undefined) return reject(req, res, 'SY_ERR_ROUTE_NOT_FOUND', id, peer, t0);
    const clientIp = ips.clientIp(peer, headers['x-forwarded-for'] as string | undefined);
    const ex = new Exchange(req, res, runtime, route, id, norm.path, rawQuery, clientIp, peer, trusted, deps.secure);
    // Read from the request's runtime: a reload changes tracing for the next request.
    const trace = runtime.trace;
    if (trace !== undefined) startSpan(ex, trace);
    const chain = route.chain.request;
    if (chain.length === 0) return prepareBody(ex, hooks);
    let result: Answer | undefined | Promise<Answer | undefined>;
    try {
      result = runRequestHooks(chain, ex, false);
    } catch (err) {
      return onPluginError(ex, err);
    }
    if (result instanceof Promise) {
      result.then(
        (answer) => proceed(ex, answer),
        (err: unknown) => onPluginError(ex, err),
      );
    } else proceed(ex, result);
  };
}

/** unframedBody tells an HTTP/2 request whose body follows its headers without a declared length. */
function unframedBody(req: IncomingMessage): boolean {
  return req.httpVersionMajor === 2 && (req as unknown as { stream: { endAfterHeaders: boolean } }).stream.endAfterHeaders === false;
}

/** continueIfAsked sends `100 Continue` to a client waiting for it before sending its body (node leaves it to us: see gateway.ts). */
function continueIfAsked(ex: Exchange): void {
  const expect = ex.headers.expect;
  if (expect !== undefined && expect.toLowerCase() === '100-continue' && !ex.res.headersSent) ex.res.writeContinue();
}

/** prepareBody checks the body against the route's limit, buffers it when it is small, then forwards. */
function prepareBody(ex: Exchange, hooks: ForwardHooks): void {
  const h = ex.headers;
  const te = h['transfer-encoding'];
  const cl = h['content-length'];
  const limit = ex.route.bodyLimit;
  // An HTTP/2 body without content-length is framed by DATA frames: like chunked, it streams, counted.
  if (te === undefined && (cl !== undefined || !unframedBody(ex.req))) {
    if (cl === undefined || cl === '0') {
      ex.body = null;
      return attempt(ex, hooks);
    }
    const length = Number(cl);
    if (length > limit) return answerError(ex, 'SY_ERR_BODY_TOO_LARGE', hooks.onFinish, { close: true });
    continueIfAsked(ex);
    if (length <= ex.route.retry.bufferBody) {
      readBody(ex.req, length).then(
        (buf) => {
          ex.body = buf;
          attempt(ex, hooks);
        },
        (err: unknown) => {
          ex.error = err;
          answerError(ex, 'SY_ERR_BAD_REQUEST', hooks.onFinish, { close: true });
        },
      );
      return;
    }
    ex.body = ex.req;
    return attempt(ex, hooks);
  }
  // Length unknown (chunked): buffer up to the replay size first, then count as it streams.
  continueIfAsked(ex);
  readStart(ex.req, ex.route.retry.bufferBody, limit).then(
    (start) => {
      if (start.complete) {
        ex.body = start.body;
        return attempt(ex, hooks);
      }
      const counted = new LimitStream(limit);
      counted.write(start.head);
      ex.body = ex.req.pipe(counted);
      ex.req.on('error', (err) => counted.destroy(err));
      attempt(ex, hooks);
    },
    (err: unknown) => {
      ex.error = err;
      answerError(ex, err instanceof BodyTooLarge ? 'SY_ERR_BODY_TOO_LARGE' : 'SY_ERR_BAD_REQUEST', hooks.onFinish, { close: true });
    },
  );
}
