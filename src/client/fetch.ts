/**
 * `client.fetch('lb://users/users/42', init)`: WHATWG fetch over the client,
 * as Spring's `lb://` URIs: the host of the URL is the application name
 * (case-insensitive), the rest is the path and query sent to the instance the
 * balancer picks. Anything but `lb:` goes to the global fetch unchanged, so a
 * service can pass client.fetch wherever a fetch function is expected.
 *
 * The request body is read into memory first (a fetch body may be a stream,
 * a Blob, form data...): that makes it replayable, so the retry rules are the
 * same as client.request's with bytes. The response body is streamed.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { ClientResponse, RequestOptions } from './call.js';
import type { IncomingLike } from './propagation.js';

/** Requester is client.request. */
export type Requester = (app: string, options: RequestOptions) => Promise<ClientResponse>;

/** LB_PROTOCOL is the scheme that names an application instead of a host. */
export const LB_PROTOCOL = 'lb:';

/** NULL_BODY_STATUSES cannot carry a body in a WHATWG Response. */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/** parseLbUrl splits `lb://users/users/42?x=1` into the application and the path; undefined for other schemes. */
export function parseLbUrl(url: string): { app: string; path: string } | undefined {
  const m = /^lb:\/\/([^/?#]+)([^#]*)/i.exec(url);
  if (m === null) return undefined;
  const rest = m[2]!;
  return { app: decodeURIComponent(m[1]!).toUpperCase(), path: rest === '' ? '/' : rest.startsWith('/') ? rest : `/${rest}` };
}

/** responseHeaders turns undici's header object into WHATWG Headers (repeated headers appended). */
function responseHeaders(raw: ClientResponse['headers']): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(raw)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const one of v) h.append(k, one);
    else h.append(k, v);
  }
  return h;
}

/** lbFetch runs fetch `input`/`init` through `request` when the URL is lb://, else through the global fetch. */
export async function lbFetch(request: Requester, input: string | URL | Request, init: (RequestInit & { from?: IncomingLike }) | undefined): Promise<Response> {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const lb = parseLbUrl(url);
  if (lb === undefined) {
    const { from: _from, ...rest } = init ?? {};
    return globalThis.fetch(input, rest);
  }
  // A Request carries method, headers and body; init overrides them, as fetch does.
  const req = new Request(`http://lb.invalid${lb.path}`, input instanceof Request ? new Request(input, init) : init);
  const body = req.body === null ? undefined : new Uint8Array(await req.arrayBuffer());
  const headers: Record<string, string> = {};
  req.headers.forEach((v, k) => (headers[k] = v));
  const res = await request(lb.app, {
    method: req.method,
    path: lb.path,
    headers,
    ...(body === undefined ? {} : { body }),
    ...(init?.from === undefined ? {} : { from: init.from }),
    ...(init?.signal ? { signal: init.signal } : {}),
  });
  const nullBody = NULL_BODY_STATUSES.has(res.statusCode) || req.method === 'HEAD';
  if (nullBody) res.body.dump().catch(() => undefined);
  const stream = nullBody ? null : (Readable.toWeb(res.body) as WebReadableStream<Uint8Array> as unknown as ReadableStream<Uint8Array>);
  return new Response(stream, { status: res.statusCode, statusText: res.statusText ?? '', headers: responseHeaders(res.headers) });
}
