/**
 * One client request on its way through the gateway: what routing decided,
 * what plugins see (it implements PluginRequest), and the bookkeeping for the
 * access log. One object per request; everything else is looked up.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { PluginRequest } from '../plugins/types.js';
import type { CompiledRoute, Runtime } from './runtime.js';
import type { Target } from '../upstream/target.js';
import type { Upstream } from '../upstream/upstream.js';
import { parseCookies } from '../routing/route-match.js';
import type { ErrorCode } from '../errors.js';
import { foldHeaderName } from '../http/header-names.js';

/** kExchange is where a response keeps its exchange (exchangeOf). */
const kExchange = Symbol('switchyard.exchange');

/**
 * exchangeOf returns the exchange a response belongs to: the parser's refusal
 * of a request whose body broke the framing (client-error.ts) finishes that
 * request's exchange instead of logging a second, unrelated request.
 */
export function exchangeOf(res: ServerResponse): Exchange | undefined {
  return (res as ServerResponse & { [kExchange]?: Exchange })[kExchange];
}

/**
 * ExchangeInit is what admission knows of a request it admits: the fields
 * the constructor copies (admission.ts builds the one literal of this shape,
 * so it keeps one hidden class).
 */
export type ExchangeInit = Pick<Exchange, 'req' | 'res' | 'runtime' | 'route' | 'id' | 'path' | 'rawQuery' | 'clientIp' | 'peer' | 'trustedPeer' | 'secure' | 'startedAt'>;

/** Exchange is the per-request state. */
export class Exchange implements PluginRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** runtime is the configuration version that serves the whole request. */
  readonly runtime: Runtime;
  readonly route: CompiledRoute;
  /** id is the request id (X-Request-Id both ways). */
  readonly id: string;
  /** path is the normalised path (routing/normalize-path.ts). */
  readonly path: string;
  /** rawQuery is the query as sent, without its `?` ('' when none). */
  readonly rawQuery: string;
  /** clientIp is the client's address: the peer, or what trusted proxies say in X-Forwarded-For. */
  readonly clientIp: string;
  /** peer is the socket peer's address. */
  readonly peer: string;
  /** trustedPeer tells whether the peer is a trusted proxy (trustProxy). */
  readonly trustedPeer: boolean;
  /** secure is true on a TLS listener. */
  readonly secure: boolean;
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
  readonly routeId: string;
  /**
   * pool is the upstream pool serving the request: the route's, or the leg a
   * split chose (proxy/split.ts). Target choice, sticky cookies, retries,
   * passive health, the Host sent and Location rewriting read it, never
   * `route.upstream`.
   */
  pool: Upstream;
  /** upstream is the pool's name (logs, metrics). */
  upstream: string;
  /** split is the leg's upstream name when a split route served the request (access log `split`, per-leg metrics). */
  split: string | undefined = undefined;
  /** cohortCookie is the Set-Cookie line of a new client's cohort (split without `by`). */
  cohortCookie: string | undefined = undefined;
  /** startedAt is when the request arrived, in ms (performance.now(); admission's own reading). */
  readonly startedAt: number;
  /** endedAt is when the response ended, in ms (performance.now()), set by whoever read the clock then; 0 until. */
  endedAt = 0;
  /** upstreamStartedAt is when the last attempt was dispatched (0 before). */
  upstreamStartedAt = 0;
  upstreamMs = 0;
  target: Target | undefined = undefined;
  attempts = 0;
  status = 0;
  /** responded is true once response headers went to the client. */
  responded = false;
  finished = false;
  /** body is the request body to send: null, a buffered Buffer (replayable) or the client stream. */
  body: Buffer | IncomingMessage | NodeJS.ReadableStream | null = null;
  /** extraHeaders holds upstream headers set by plugins as a flat list. */
  extraHeaders: string[] | undefined = undefined;
  /** removed holds client headers plugins dropped or replaced, folded (header-names.ts): every spelling of them is dropped. */
  removed: Set<string> | undefined = undefined;
  /** traceId is the W3C trace id propagated upstream (set by tracing). */
  traceId: string | undefined = undefined;
  /** spanId is the gateway's span id, the parent id the upstream sees (set by tracing). */
  spanId: string | undefined = undefined;
  /** parentId is the incoming traceparent's parent id when the trace was continued (set by tracing). */
  parentId: string | undefined = undefined;
  /** traceparent and tracestate are the trace headers sent upstream (set by tracing; client copies are replaced). */
  traceparent: string | undefined = undefined;
  tracestate: string | undefined = undefined;
  /** stickyCookie is the sticky-routing Set-Cookie line the response must carry (set when a target is chosen). */
  stickyCookie: string | undefined = undefined;
  /** error is the cause of a failure (logged, never sent). */
  error: unknown = undefined;
  /** code is the catalog code of the error the gateway or a plugin answered with (access log, trace export). */
  code: ErrorCode | undefined = undefined;
  /** plugin names the plugin that answered the request itself, or that failed (access log). */
  plugin: string | undefined = undefined;
  /** mirrored is true once a shadow copy of this request was sent (mirror.ts; access log). */
  mirrored = false;
  /** sent counts the response body bytes handed to the client connection (access log `bytes`). */
  sent = 0;
  private cookies: Map<string, string> | undefined = undefined;
  private localsBag: Record<string, unknown> | undefined = undefined;

  constructor(init: ExchangeInit) {
    const req = init.req;
    this.req = req;
    this.res = init.res;
    this.runtime = init.runtime;
    this.route = init.route;
    this.id = init.id;
    this.path = init.path;
    this.rawQuery = init.rawQuery;
    this.clientIp = init.clientIp;
    this.peer = init.peer;
    this.trustedPeer = init.trustedPeer;
    this.secure = init.secure;
    this.method = req.method!;
    this.headers = req.headers;
    this.routeId = init.route.id;
    this.pool = init.route.upstream;
    this.upstream = init.route.upstream.name;
    this.startedAt = init.startedAt;
    (init.res as ServerResponse & { [kExchange]?: Exchange })[kExchange] = this;
  }

  /** cookie returns a request cookie by name. */
  cookie(name: string): string | undefined {
    return (this.cookies ??= parseCookies(this.headers.cookie)).get(name);
  }

  /** rawHeaders are the request headers as received. */
  get rawHeaders(): readonly string[] {
    return this.req.rawHeaders;
  }

  /** locals is per-request scratch space shared by plugins. */
  get locals(): Record<string, unknown> {
    return (this.localsBag ??= {});
  }

  /** setUpstreamHeader sets a header on the upstream request, replacing any client copy. */
  setUpstreamHeader(name: string, value: string): void {
    const n = name.toLowerCase();
    if (/[\r\n\0]/.test(value)) throw new Error(`refusing header ${n}: control characters in value`);
    // Folded: a client's `x_tenant` must not pass next to the `x-tenant` a plugin sets (header-names.ts).
    (this.removed ??= new Set()).add(foldHeaderName(n));
    const list = (this.extraHeaders ??= []);
    for (let i = 0; i < list.length; i += 2) {
      if (list[i] === n) {
        list[i + 1] = value;
        return;
      }
    }
    list.push(n, value);
  }

  /** removeUpstreamHeader drops a client header before proxying. */
  removeUpstreamHeader(name: string): void {
    const n = name.toLowerCase();
    (this.removed ??= new Set()).add(foldHeaderName(n));
    const list = this.extraHeaders;
    if (list) for (let i = 0; i < list.length; i += 2) if (list[i] === n) list.splice(i, 2);
  }

  /** upstreamPath is the path and query sent upstream (after stripPrefix). */
  upstreamPath(): string {
    let p = this.path;
    const strip = this.route.stripLength;
    if (strip > 0) p = p.length > strip ? p.slice(strip) : '/';
    if (p.charCodeAt(0) !== 47) p = '/' + p;
    return this.rawQuery === '' ? p : p + '?' + this.rawQuery;
  }

  /** elapsedMs is the time from the request's arrival to its end (to now when the end was not timed). */
  elapsedMs(): number {
    return (this.endedAt === 0 ? performance.now() : this.endedAt) - this.startedAt;
  }
}
