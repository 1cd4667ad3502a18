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
import { classify } from '../proxy/forward.js';
import { hostOf } from '../proxy/handler.js';
import type { CompiledRoute } from './runtime.js';
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

/** stringAttr is one string KeyValue. */
const stringAttr = (key: string, value: string) => `{"key":"${key}","value":{"stringValue":${JSON.stringify(value)}}}`;
/** intAttr is one integer KeyValue (int64 as a JSON number: proto3 JSON accepts both forms). */
const intAttr = (key: string, value: number) => `{"key":"${key}","value":{"intValue":${value}}}`;
const boolAttr = (key: string, value: boolean) => `{"key":"${key}","value":{"boolValue":${value}}}`;

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

/** routePattern renders a route's path as written in its file (`/api/users/*`): http.route is a template, never the request's path. */
const patterns = new WeakMap<CompiledRoute, string>();
function routePattern(route: CompiledRoute): string {
  let p = patterns.get(route);
  if (p === undefined) {
    const { prefix, exact } = route.match;
    p = exact ? prefix : prefix === '/' ? '/*' : `${prefix}/*`;
    patterns.set(route, p);
  }
  return p;
}

/** protocolVersion maps node's httpVersion to network.protocol.version ("2.0" is "2" in the conventions). */
const protocolVersion = (v: string) => (v === '2.0' ? '2' : v);

/** encodeSpan writes one span object. */
export function encodeSpan(s: SpanRecord): string {
  const route = s.route;
  const attrs: string[] = [
    stringAttr('http.request.method', s.method),
    stringAttr('url.path', s.path),
    stringAttr('url.scheme', s.secure ? 'https' : 'http'),
    stringAttr('network.protocol.version', protocolVersion(s.httpVersion)),
    stringAttr('client.address', s.clientIp),
    stringAttr('switchyard.request_id', s.requestId),
  ];
  const host = hostOf(s.host);
  if (host !== '') attrs.push(stringAttr('server.address', host));
  if (s.status > 0) attrs.push(intAttr('http.response.status_code', s.status));
  if (route !== undefined) {
    attrs.push(stringAttr('http.route', routePattern(route)), stringAttr('switchyard.route', route.id), stringAttr('switchyard.upstream', s.upstream));
    if (s.target !== '') attrs.push(stringAttr('switchyard.target', s.target));
    attrs.push(intAttr('switchyard.attempts', s.attempts));
  }
  if (s.websocket) attrs.push(boolAttr('switchyard.websocket', true));
  // The catalog code names what went wrong, never an address or errno: a cut response is classified like any upstream failure.
  const errorCode = s.code ?? (s.failure !== undefined ? classify(s.failure, true).code : undefined);
  const errorType = errorCode ?? (s.status >= 500 ? String(s.status) : undefined);
  if (errorType !== undefined) attrs.push(stringAttr('error.type', errorType));
  // Server spans: 5xx and failures are errors; a 4xx is the client's problem and leaves the status unset (HTTP conventions).
  const failed = s.status >= 500 || s.failure !== undefined;
  const status = failed ? `,"status":{"code":${STATUS_CODE_ERROR}${errorType !== undefined ? `,"message":${JSON.stringify(errorType)}` : ''}}` : '';
  const flags = SAMPLED | (s.parentId !== '' ? SPAN_FLAGS_HAS_IS_REMOTE | SPAN_FLAGS_IS_REMOTE : SPAN_FLAGS_HAS_IS_REMOTE);
  const name = route === undefined ? s.method : `${s.method} ${route.id}`;
  return (
    `{"traceId":"${s.traceId}","spanId":"${s.spanId}"` +
    (s.parentId !== '' ? `,"parentSpanId":"${s.parentId}"` : '') +
    (s.traceState !== '' ? `,"traceState":${JSON.stringify(s.traceState)}` : '') +
    `,"flags":${flags},"name":${JSON.stringify(name)},"kind":${SPAN_KIND_SERVER}` +
    `,"startTimeUnixNano":"${unixNanos(s.startMs)}","endTimeUnixNano":"${unixNanos(s.endMs)}"` +
    `,"attributes":[${attrs.join(',')}]${status}}`
  );
}

/** Envelope is the constant part of every export request: the resource and the instrumentation scope. */
export interface Envelope {
  head: string;
  tail: string;
}

/** envelope renders the resource (service.name, service.version, host.name, ...) and scope once per exporter. */
export function envelope(resource: Readonly<Record<string, string>>, scope: { name: string; version: string }): Envelope {
  const attrs = Object.entries(resource).map(([k, v]) => `{"key":${JSON.stringify(k)},"value":{"stringValue":${JSON.stringify(v)}}}`);
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
