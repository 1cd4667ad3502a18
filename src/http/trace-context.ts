/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) at the front door.
 * The gateway is one hop of the trace: a valid incoming `traceparent` is
 * continued (same trace id, the gateway's own new span id as the parent the
 * upstream sees, flags kept), an absent or malformed one starts a new trace,
 * and `tracestate` travels with a valid parent only. Validation is strict
 * (version 00 only, lower-case hex, no all-zero ids): a gateway that passed on
 * whatever clients send would let one bad client corrupt every service's traces.
 *
 * Ids come from a pooled random buffer refilled 4 KiB at a time, so a request
 * costs a slice of memory, not a getrandom() syscall.
 */
import { randomFillSync } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** POOL_BYTES is the random pool size: one refill serves ~170 requests (24 bytes each). */
const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

/** randomHex returns `bytes` random bytes as lower-case hex, never all zeros. */
export function randomHex(bytes: number): string {
  for (;;) {
    if (offset + bytes > POOL_BYTES) {
      randomFillSync(pool);
      offset = 0;
    }
    const start = offset;
    offset += bytes;
    // All-zero ids are invalid (trace-context §3.2.2.3/§3.2.2.4); 2^-64 odds, but cheap to exclude.
    for (let i = start; i < offset; i++) if (pool[i] !== 0) return pool.toString('hex', start, offset);
  }
}

/** TRACEPARENT matches version 00: `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`. */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';

/** ParsedParent is a valid incoming traceparent. */
export interface ParsedParent {
  traceId: string;
  parentId: string;
  flags: string;
}

/**
 * parseTraceparent validates a traceparent header strictly; undefined when it
 * is absent, repeated (node joins repeats with ", ", which fails the length),
 * of another version, or malformed.
 */
export function parseTraceparent(value: string | string[] | undefined): ParsedParent | undefined {
  if (typeof value !== 'string' || value.length !== 55) return undefined;
  const m = TRACEPARENT.exec(value);
  if (m === null) return undefined;
  const traceId = m[1]!;
  const parentId = m[2]!;
  if (traceId === ZERO_TRACE || parentId === ZERO_SPAN) return undefined;
  return { traceId, parentId, flags: m[3]! };
}

/** MAX_TRACESTATE is the longest tracestate passed on (the spec's propagation minimum). */
export const MAX_TRACESTATE = 512;
/** MAX_MEMBERS is the most list members a tracestate may carry (trace-context §3.3.1.1). */
const MAX_MEMBERS = 32;
/** MEMBER is one `key=value` list member: simple or multi-tenant (`tenant@system`) key, printable value without `,` or `=`. */
const MEMBER = /^(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/**
 * validTracestate returns the tracestate to pass on, or undefined when it is
 * absent, longer than MAX_TRACESTATE, or not a valid list (repeated headers,
 * which node joins with ", ", form one valid list per the spec).
 */
export function validTracestate(value: string | string[] | undefined): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_TRACESTATE) return undefined;
  let members = 0;
  const keys = new Set<string>();
  for (const raw of value.split(',')) {
    const member = raw.trim();
    if (member === '') continue; // empty list members are allowed and ignored
    if (++members > MAX_MEMBERS || !MEMBER.test(member)) return undefined;
    const key = member.slice(0, member.indexOf('='));
    if (keys.has(key)) return undefined; // a key appears at most once
    keys.add(key);
  }
  return members === 0 ? undefined : value;
}

/** Traced is what tracing writes on an exchange. */
export interface Traced {
  readonly headers: IncomingHttpHeaders;
  /** traceId is the W3C trace id (access log). */
  traceId: string | undefined;
  /** spanId is the gateway's span: the parent id the upstream sees. */
  spanId: string | undefined;
  /** parentId is the incoming traceparent's parent id when the trace was continued (the gateway span's parent). */
  parentId: string | undefined;
  /** traceparent is the header value sent upstream. */
  traceparent: string | undefined;
  /** tracestate is the header value sent upstream, when there is one. */
  tracestate: string | undefined;
}

/** TraceOptions is gateway.yaml's `tracing` block, compiled. */
export interface TraceOptions {
  /** sampled is the sampled flag of traces the gateway starts. */
  sampled: boolean;
}

/**
 * startSpan continues the request's trace (or starts one) and records the ids
 * and the headers to send upstream on `ex`.
 */
export function startSpan(ex: Traced, options: TraceOptions): void {
  const parent = parseTraceparent(ex.headers.traceparent);
  const spanId = randomHex(8);
  ex.spanId = spanId;
  if (parent === undefined) {
    const traceId = randomHex(16);
    ex.traceId = traceId;
    ex.traceparent = `00-${traceId}-${spanId}-${options.sampled ? '01' : '00'}`;
    ex.tracestate = undefined; // a tracestate belongs to the trace it came with
    return;
  }
  ex.traceId = parent.traceId;
  ex.parentId = parent.parentId;
  ex.traceparent = `00-${parent.traceId}-${spanId}-${parent.flags}`;
  ex.tracestate = validTracestate(ex.headers.tracestate);
}
