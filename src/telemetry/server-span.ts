/**
 * The gateway's SERVER span of one request, as recorded when the request
 * finishes: a flat record of the values the export needs, copied from the
 * exchange so the exchange (and its sockets) can be collected at once. Only
 * sampled traces are recorded; everything derived (names, attribute lists,
 * unix nanoseconds, JSON) is computed later, off the request path, by the
 * encoder (otlp-encode.ts).
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { ErrorCode } from '../errors.js';
import type { Exchange } from '../proxy/exchange.js';
import { parseTraceparent, randomHex } from '../http/trace-context.js';
import type { CompiledRoute } from '../proxy/runtime.js';

/** SpanRecord is one finished request's span, before encoding. */
export class SpanRecord {
  constructor(
    readonly traceId: string,
    readonly spanId: string,
    /** parentId is the incoming traceparent's parent id ('' for a trace the gateway started). */
    readonly parentId: string,
    /** traceState is the tracestate sent upstream ('' when none). */
    readonly traceState: string,
    readonly method: string,
    /** route is undefined for requests refused before routing. */
    readonly route: CompiledRoute | undefined,
    /** path is the normalised path (the raw one for requests refused before routing). */
    readonly path: string,
    readonly secure: boolean,
    /** host is the Host header (or :authority) as sent ('' when absent). */
    readonly host: string,
    readonly clientIp: string,
    /** httpVersion is node's `req.httpVersion` ("1.1", "2.0"). */
    readonly httpVersion: string,
    /** status is the response status (0 when none was sent). */
    readonly status: number,
    /** startMs and endMs are performance.now() times. */
    readonly startMs: number,
    readonly endMs: number,
    readonly upstream: string,
    /** target is the id (origin) of the last target tried ('' when none). */
    readonly target: string,
    readonly attempts: number,
    readonly requestId: string,
    /** code is the catalog code the gateway answered with. */
    readonly code: ErrorCode | undefined,
    /** failure is the cause when the request failed without a catalogued answer (a response cut after its headers). */
    readonly failure: unknown,
    readonly websocket: boolean,
  ) {}
}

/** SpanSink receives finished requests (the OTLP exporter). */
export interface SpanSink {
  /** finished records an exchange's span when its trace is sampled. */
  finished(ex: Exchange, ms: number): void;
  /** rejected records the span of a request refused before routing; returns its trace id when recorded. */
  rejected(req: IncomingMessage, path: string, status: number, id: string, ip: string, ms: number, code: ErrorCode): string | undefined;
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
  const req = ex.req;
  // A response cut after its headers leaves an error without a catalogued answer.
  const failure = ex.code === undefined && ex.error !== undefined ? ex.error : undefined;
  return new SpanRecord(
    ex.traceId!,
    ex.spanId!,
    ex.parentId ?? '',
    ex.tracestate ?? '',
    ex.method,
    ex.route,
    ex.path,
    ex.secure,
    authority(ex.headers),
    ex.clientIp,
    req.httpVersion,
    ex.status,
    ex.startedAt,
    ex.startedAt + ms,
    ex.upstream,
    ex.target?.id ?? '',
    ex.attempts,
    ex.id,
    ex.code,
    failure,
    ex.status === 101,
  );
}

/**
 * rejectedSpan records a request refused before routing (400, 404, 414, 431):
 * it has no exchange and no upstream, so its ids are made here, continuing a
 * valid incoming trace like startSpan does. Undefined when not sampled.
 */
export function rejectedSpan(req: IncomingMessage, path: string, status: number, id: string, ip: string, ms: number, code: ErrorCode, sampled: boolean): SpanRecord | undefined {
  const parent = parseTraceparent(req.headers.traceparent);
  if (parent === undefined ? !sampled : !sampledFlag(parent.flags)) return undefined;
  const end = performance.now();
  const q = path.indexOf('?');
  return new SpanRecord(
    parent?.traceId ?? randomHex(16),
    randomHex(8),
    parent?.parentId ?? '',
    '',
    req.method ?? '',
    undefined,
    q === -1 ? path : path.slice(0, q),
    (req.socket as TLSSocket | null)?.encrypted === true,
    authority(req.headers),
    ip,
    req.httpVersion,
    status,
    end - ms,
    end,
    '',
    '',
    0,
    id,
    code,
    undefined,
    false,
  );
}
