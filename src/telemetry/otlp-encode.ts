/**
 * OTLP/HTTP JSON encoding of the gateway's spans (opentelemetry-proto's
 * ExportTraceServiceRequest in its JSON mapping: resourceSpans → scopeSpans →
 * spans; trace and span ids as lower-case hex, times as decimal strings of
 * unix nanoseconds, enums as numbers). Runs on the export timer, never on the
 * request path. The JSON is written as strings: the resource and scope parts
 * once per exporter, each span as one concatenation, instead of building an
 * object tree per span for JSON.stringify.
 *
 * Attributes follow the OpenTelemetry HTTP server semantic conventions
 * (http.request.method, url.path, url.scheme, http.route,
 * http.response.status_code, server.address, client.address,
 * network.protocol.version, error.type) plus switchyard.* for what the
 * gateway alone knows.
 */
import { classify } from '../proxy/upstream-failure.js';
import { hostOf } from '../http/host.js';
import type { CompiledRoute } from '../proxy/runtime.js';
import type { SpanRecord } from './server-span.js';

/** SPAN_KIND_SERVER is opentelemetry-proto's Span.SpanKind for a server span. */
const SPAN_KIND_SERVER = 2;
/** STATUS_CODE_ERROR is opentelemetry-proto's Status.StatusCode for an error. */
const STATUS_CODE_ERROR = 2;
/** SPAN_FLAGS_HAS_IS_REMOTE / SPAN_FLAGS_IS_REMOTE say whether the parent came from another process (the client). */
const SPAN_FLAGS_HAS_IS_REMOTE = 0x100;
const SPAN_FLAGS_IS_REMOTE = 0x200;
/** SAMPLED is the W3C sampled trace flag: only sampled spans are recorded. */
const SAMPLED = 0x01;

/** SAFE matches strings JSON can carry between quotes as they are (printable ASCII without `"` and `\\`). */
const SAFE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
/** q quotes a string for JSON; the common case (a plain path, an address) skips JSON.stringify. */
const q = (s: string) => (SAFE.test(s) ? `"${s}"` : JSON.stringify(s));

/** str and int open a string or integer KeyValue; the caller appends the value and END. */
const str = (key: string) => `,{"key":"${key}","value":{"stringValue":`;
const int = (key: string) => `,{"key":"${key}","value":{"intValue":`;
const END = '}}';
// Attribute openings, built once (the first one without its leading comma).
const A_METHOD = str('http.request.method').slice(1);
const A_PATH = str('url.path');
const A_SCHEME_HTTP = `${str('url.scheme')}"http"${END}`;
const A_SCHEME_HTTPS = `${str('url.scheme')}"https"${END}`;
const A_VERSION = str('network.protocol.version');
const A_CLIENT = str('client.address');
const A_REQUEST_ID = str('switchyard.request_id');
const A_SERVER = str('server.address');
const A_STATUS = int('http.response.status_code');
const A_TARGET = str('switchyard.target');
const A_UPSTREAM = str('switchyard.upstream');
/** A_SPLIT is the leg of a canary split that served the request (its upstream). */
const A_SPLIT = str('switchyard.split');
const A_ATTEMPTS = int('switchyard.attempts');
const A_ERROR_TYPE = str('error.type');
const A_WEBSOCKET = ',{"key":"switchyard.websocket","value":{"boolValue":true}}';

/** unixNanos turns a performance.now() time into decimal unix nanoseconds (exact to the double's ~0.25 µs). */
export function unixNanos(perfMs: number): string {
  const ms = performance.timeOrigin + perfMs;
  let whole = Math.floor(ms);
  let ns = Math.round((ms - whole) * 1e6);
  if (ns >= 1e6) {
    whole += 1;
    ns -= 1e6;
  }
  // 1e18 and more are beyond a double's integers: the milliseconds and the nanoseconds within them are joined as text.
  return `${whole}${String(ns).padStart(6, '0')}`;
}

/**
 * RouteParts are a route's constant attributes, rendered once per route:
 * http.route is the path as written in the route file (`/api/users/*`), a
 * template, never the request's path.
 */
interface RouteParts {
  attrs: string;
  /** upstream is the switchyard.upstream attribute of the route's own pool (a split's leg replaces it). */
  upstream: string;
  /** names holds the span name by method (`GET users-api`). */
  names: Map<string, string>;
}
const routeParts = new WeakMap<CompiledRoute, RouteParts>();
function partsOf(route: CompiledRoute): RouteParts {
  let p = routeParts.get(route);
  if (p === undefined) {
    const { prefix, exact } = route.match;
    const pattern = exact ? prefix : prefix === '/' ? '/*' : `${prefix}/*`;
    p = {
      attrs: `${str('http.route')}${q(pattern)}${END}${str('switchyard.route')}${q(route.id)}${END}`,
      upstream: `${A_UPSTREAM}${q(route.upstream.name)}${END}`,
      names: new Map(),
    };
    routeParts.set(route, p);
  }
  return p;
}

/** protocolVersion maps node's httpVersion to network.protocol.version ("2.0" is "2" in the conventions). */
const protocolVersion = (v: string) => (v === '2.0' ? '"2"' : v === '1.1' ? '"1.1"' : q(v));

/** encodeSpan writes one span object. */
export function encodeSpan(s: SpanRecord): string {
  const route = s.route;
  let attrs = A_METHOD + q(s.method) + END + A_PATH + q(s.path) + END + (s.secure ? A_SCHEME_HTTPS : A_SCHEME_HTTP) + A_VERSION + protocolVersion(s.httpVersion) + END;
  attrs += A_CLIENT + q(s.clientIp) + END + A_REQUEST_ID + q(s.requestId) + END;
  const host = hostOf(s.host);
  if (host !== '') attrs += A_SERVER + q(host) + END;
  if (s.status > 0) attrs += A_STATUS + s.status + END;
  let name = s.method;
  if (route !== undefined) {
    const parts = partsOf(route);
    attrs += parts.attrs;
    // A split request names the pool that served it in both (as the access log's upstream and split do).
    attrs += s.split === '' ? parts.upstream : A_UPSTREAM + q(s.split) + END + A_SPLIT + q(s.split) + END;
    if (s.target !== '') attrs += A_TARGET + q(s.target) + END;
    attrs += A_ATTEMPTS + s.attempts + END;
    name = parts.names.get(s.method) ?? '';
    if (name === '') parts.names.set(s.method, (name = q(`${s.method} ${route.id}`)));
  } else name = q(name);
  if (s.websocket) attrs += A_WEBSOCKET;
  // The catalog code names what went wrong, never an address or errno: a cut response is classified like any upstream failure.
  const errorCode = s.code ?? (s.failure !== undefined ? classify(s.failure, true).code : undefined);
  const errorType = errorCode ?? (s.status >= 500 ? String(s.status) : undefined);
  if (errorType !== undefined) attrs += A_ERROR_TYPE + q(errorType) + END;
  // Server spans: 5xx and failures are errors; a 4xx is the client's problem and leaves the status unset (HTTP conventions).
  // A client that went away before its response was complete is an error too (error.type SY_ERR_CLIENT_CLOSED): the
  // response was not delivered, which the conventions count as an error whatever the status sent, and Envoy marks its
  // spans of a downstream disconnect as errors as well.
  const failed = s.status >= 500 || s.failure !== undefined || s.code === 'SY_ERR_CLIENT_CLOSED';
  const status = failed ? `,"status":{"code":${STATUS_CODE_ERROR}${errorType !== undefined ? `,"message":${q(errorType)}` : ''}}` : '';
  const flags = SAMPLED | (s.parentId !== '' ? SPAN_FLAGS_HAS_IS_REMOTE | SPAN_FLAGS_IS_REMOTE : SPAN_FLAGS_HAS_IS_REMOTE);
  return (
    `{"traceId":"${s.traceId}","spanId":"${s.spanId}"` +
    (s.parentId !== '' ? `,"parentSpanId":"${s.parentId}"` : '') +
    (s.traceState !== '' ? `,"traceState":${q(s.traceState)}` : '') +
    `,"flags":${flags},"name":${name},"kind":${SPAN_KIND_SERVER}` +
    `,"startTimeUnixNano":"${unixNanos(s.startMs)}","endTimeUnixNano":"${unixNanos(s.endMs)}"` +
    `,"attributes":[${attrs}]${status}}`
  );
}

/** Envelope is the constant part of every export request: the resource and the instrumentation scope. */
export interface Envelope {
  head: string;
  tail: string;
}

/** envelope renders the resource (service.name, service.version, host.name, ...) and scope once per exporter. */
export function envelope(resource: Readonly<Record<string, string>>, scope: { name: string; version: string }): Envelope {
  const attrs = Object.entries(resource).map(([k, v]) => `{"key":${q(k)},"value":{"stringValue":${q(v)}}}`);
  return {
    head: `{"resourceSpans":[{"resource":{"attributes":[${attrs.join(',')}]},"scopeSpans":[{"scope":{"name":${JSON.stringify(scope.name)},"version":${JSON.stringify(scope.version)}},"spans":[`,
    tail: ']}]}]}',
  };
}

/** encodeRequest writes one ExportTraceServiceRequest holding `spans`. */
export function encodeRequest(env: Envelope, spans: readonly SpanRecord[]): string {
  let body = env.head;
  for (let i = 0; i < spans.length; i++) body += (i === 0 ? '' : ',') + encodeSpan(spans[i]!);
  return body + env.tail;
}
