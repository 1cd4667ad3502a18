/**
 * Keeping traces whole across east–west calls: given the request a service
 * is handling (`from`), an outgoing call carries the same trace id with a new
 * span id of its own (the call is a child of the incoming span, W3C Trace
 * Context), the incoming `tracestate` when the parent is valid, and the
 * incoming `X-Request-Id`, so logs of every hop can be joined. Parsing and
 * ids are the gateway's (src/http/trace-context.ts): an invalid incoming
 * traceparent is dropped, not passed on, as at the front door.
 *
 * Without `from`, nothing is added: a library does not start traces on its
 * own (the caller's tracer, if any, sets `traceparent` in `headers`, which
 * always wins).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { parseTraceparent, randomHex, validTracestate } from '../http/trace-context.js';

/** OutgoingHeaders is a request's headers as undici takes them. */
export type OutgoingHeaders = Record<string, string | string[]>;

/** HeadersInit is what callers may pass as headers: a plain object (undefined values dropped) or a WHATWG Headers. */
export type HeadersInput = Readonly<Record<string, string | readonly string[] | number | undefined>> | Headers;

/** IncomingLike is the part of an incoming request propagation reads (a node IncomingMessage, a fastify request, or `{ headers }`). */
export interface IncomingLike {
  readonly headers: IncomingHttpHeaders | Readonly<Record<string, string | string[] | undefined>>;
}

/** toHeaders copies caller headers into a fresh object with lower-case names (the caller's object is never changed). */
export function toHeaders(input: HeadersInput | undefined): OutgoingHeaders {
  const out: OutgoingHeaders = {};
  if (input === undefined) return out;
  if (input instanceof Headers) {
    input.forEach((v, k) => (out[k] = v));
    return out;
  }
  for (const [k, v] of Object.entries(input)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = typeof v === 'number' ? String(v) : Array.isArray(v) ? [...(v as string[])] : (v as string);
  }
  return out;
}

/** first reads a header that may be repeated as its first value. */
function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/**
 * propagate adds the trace and request-id headers of `from` to `headers`
 * (in place), unless the caller set them. Returns the traceparent sent, for
 * logs and tests.
 */
export function propagate(headers: OutgoingHeaders, from: IncomingLike | undefined): string | undefined {
  if (from === undefined) return first(headers.traceparent);
  const incoming = from.headers;
  const requestId = first(incoming['x-request-id']);
  if (requestId !== undefined && headers['x-request-id'] === undefined) headers['x-request-id'] = requestId;
  if (headers.traceparent !== undefined) return first(headers.traceparent);
  const parent = parseTraceparent(incoming.traceparent);
  if (parent === undefined) return undefined;
  const traceparent = `00-${parent.traceId}-${randomHex(8)}-${parent.flags}`;
  headers.traceparent = traceparent;
  const state = validTracestate(incoming.tracestate);
  if (state !== undefined && headers.tracestate === undefined) headers.tracestate = state;
  return traceparent;
}
