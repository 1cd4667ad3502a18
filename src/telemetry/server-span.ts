/**
 * The gateway's SERVER span of one request, as recorded when the request
 * finishes: a flat record of the values the export needs, copied from the
 * exchange so the exchange (and its sockets) can be collected at once. Only
 * sampled traces are recorded; everything derived (names, attribute lists,
 * unix nanoseconds, JSON) is computed later, off the request path, by the
 * encoder (otlp-encode.ts).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { ErrorCode } from '../errors.js';
import type { Exchange } from '../proxy/exchange.js';
import { parseTraceparent, randomHex } from '../http/trace-context.js';
import type { CompiledRoute } from '../proxy/runtime.js';
import type { Refusal } from '../proxy/hooks.js';

/**
 * SpanRecord is one finished request's span, before encoding. Built by
 * exchangeSpan and rejectedSpan as literals with the same keys in the same
 * order, so every record has one hidden class.
 */
export interface SpanRecord {
  readonly traceId: string;
  readonly spanId: string;
  /** parentId is the incoming traceparent's parent id ('' for a trace the gateway started). */
  readonly parentId: string;
  /** traceState is the tracestate sent upstream ('' when none). */
  readonly traceState: string;
  readonly method: string;
  /** route is undefined for requests refused before routing. */
  readonly route: CompiledRoute | undefined;
  /** path is the normalised path (the raw one for requests refused before routing). */
  readonly path: string;
  readonly secure: boolean;
  /** host is the Host header (or :authority) as sent ('' when absent). */
  readonly host: string;
  readonly clientIp: string;
  /** httpVersion is node's `req.httpVersion` ("1.1", "2.0"). */
  readonly httpVersion: string;
  /** status is the response status (0 when none was sent). */
  readonly status: number;
  /** startMs and endMs are performance.now() times. */
  readonly startMs: number;
  readonly endMs: number;
  readonly upstream: string;
  /** split is the leg's upstream name when a split route served the request ('' otherwise). */
  readonly split: string;
  /** target is the id (origin) of the last target tried ('' when none). */
  readonly target: string;
  readonly attempts: number;
  readonly requestId: string;
  /** code is the catalog code the gateway answered with. */
  readonly code: ErrorCode | undefined;
  /** failure is the cause when the request failed without a catalogued answer (a response cut after its headers). */
  readonly failure: unknown;
  readonly websocket: boolean;
}

/** SpanSink receives finished requests (the OTLP exporter). */
export interface SpanSink {
  /** finished records an exchange's span when its trace is sampled. */
  finished(ex: Exchange, ms: number): void;
  /** rejected records the span of a request refused before routing; returns its trace id when recorded. */
  rejected(refusal: Refusal): string | undefined;
}

/**
 * sampledFlag tells whether a traceparent's flags have the sampled bit: the
 * last hex digit is odd. One character read, no parse.
 */
export function sampledFlag(traceparent: string): boolean {
  const c = traceparent.charCodeAt(traceparent.length - 1);
  // '0'-'9' are 48-57 (odd code = odd digit); 'a'-'f' are 97-102 (even code = odd digit).
  return c <= 57 ? (c & 1) === 1 : (c & 1) === 0;
}

/** authority is the host the client asked for: Host, or HTTP/2's :authority. */
function authority(headers: IncomingHttpHeaders): string {
  return headers.host ?? (headers[':authority'] as string | undefined) ?? '';
}

/** exchangeSpan records a finished exchange (its trace is sampled: the caller checked). */
export function exchangeSpan(ex: Exchange, ms: number): SpanRecord {
  // A response cut after its headers leaves an error without a catalogued answer.
  const failure = ex.code === undefined && ex.error !== undefined ? ex.error : undefined;
  return {
    traceId: ex.traceId!,
    spanId: ex.spanId!,
    parentId: ex.parentId ?? '',
    traceState: ex.tracestate ?? '',
    method: ex.method,
    route: ex.route,
    path: ex.path,
    secure: ex.secure,
    host: authority(ex.headers),
    clientIp: ex.clientIp,
    httpVersion: ex.req.httpVersion,
    status: ex.status,
    startMs: ex.startedAt,
    endMs: ex.startedAt + ms,
    upstream: ex.upstream,
    split: ex.split ?? '',
    target: ex.target?.id ?? '',
    attempts: ex.attempts,
    requestId: ex.id,
    code: ex.code,
    failure,
    websocket: ex.status === 101,
  };
}

/**
 * rejectedSpan records a request refused before routing (400, 404, 414, 431):
 * it has no exchange and no upstream, so its ids are made here, continuing a
 * valid incoming trace like startSpan does. Undefined when not sampled.
 */
export function rejectedSpan(r: Refusal, sampled: boolean): SpanRecord | undefined {
  const req = r.req;
  const parent = parseTraceparent(req.headers.traceparent);
  if (parent === undefined ? !sampled : !sampledFlag(parent.flags)) return undefined;
  const end = performance.now();
  const q = r.path.indexOf('?');
  return {
    traceId: parent?.traceId ?? randomHex(16),
    spanId: randomHex(8),
    parentId: parent?.parentId ?? '',
    traceState: '',
    method: r.method,
    route: undefined,
    path: q === -1 ? r.path : r.path.slice(0, q),
    secure: (req.socket as TLSSocket | null)?.encrypted === true,
    host: authority(req.headers),
    clientIp: r.ip,
    httpVersion: req.httpVersion,
    status: r.status,
    startMs: end - r.ms,
    endMs: end,
    upstream: '',
    split: '',
    target: '',
    attempts: 0,
    requestId: r.requestId,
    code: r.code,
    failure: undefined,
    websocket: false,
  };
}
