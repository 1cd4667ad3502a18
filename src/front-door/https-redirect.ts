/**
 * The plain-HTTP listener that sends clients to HTTPS (`listen.redirectHttp`).
 * It answers 308 (method and body kept) to the same host and path, but only
 * for a host the gateway serves: one named by a route's host condition or by
 * a certificate. Any other Host gets 400, so the listener can never be used
 * to bounce a client to an arbitrary site (an open redirect).
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { errorBody, ERRORS } from '../errors.js';
import { hostOf } from '../http/host.js';
import type { Runtime } from '../proxy/runtime.js';

/** RedirectOptions is what the redirect listener needs. */
export interface RedirectOptions {
  /** current returns the active configuration (its routes' hosts are allowed). */
  current(): Runtime;
  /** covered tells whether a host is one of the certificates' names. */
  covered(host: string): boolean;
  /** httpsPort is the port written in the Location (443 is left out). */
  httpsPort(): number;
  maxUrlLength: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxHeaderSize: number;
}

/** RouteHosts is one configuration's route hosts, compiled once per version. */
interface RouteHosts {
  exact: Set<string>;
  suffixes: string[];
}

const compiled = new WeakMap<Runtime, RouteHosts>();

function routeHosts(rt: Runtime): RouteHosts {
  let hosts = compiled.get(rt);
  if (hosts === undefined) {
    hosts = { exact: new Set(), suffixes: [] };
    for (const r of rt.routes) {
      const h = r.match.host;
      if (h?.exact !== undefined) hosts.exact.add(h.exact);
      else if (h?.suffix !== undefined) hosts.suffixes.push(h.suffix);
    }
    compiled.set(rt, hosts);
  }
  return hosts;
}

/** allowedHost tells whether the redirect may name `host`: a route's host condition (exact or wildcard) or a certificate name. */
export function allowedHost(host: string, rt: Runtime, covered: (host: string) => boolean): boolean {
  if (host === '') return false;
  const hosts = routeHosts(rt);
  if (hosts.exact.has(host)) return true;
  for (const s of hosts.suffixes) if (host.length > s.length && host.endsWith(s)) return true;
  return covered(host);
}

function refuse(res: ServerResponse): void {
  const body = errorBody('SY_ERR_BAD_REQUEST', '-');
  res.writeHead(ERRORS.SY_ERR_BAD_REQUEST.status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}

/** createRedirectServer builds the redirect listener (not yet listening). */
export function createRedirectServer(opts: RedirectOptions): http.Server {
  const server = http.createServer(
    {
      requestTimeout: opts.requestTimeoutMs,
      headersTimeout: opts.headersTimeoutMs,
      keepAliveTimeout: opts.keepAliveTimeoutMs,
      maxHeaderSize: opts.maxHeaderSize,
      insecureHTTPParser: false,
      requireHostHeader: true,
    },
    (req: IncomingMessage, res: ServerResponse) => {
      const url = req.url ?? '';
      const host = hostOf(req.headers.host);
      // Origin-form only: an absolute-form target would let the client choose the destination.
      if (url.charCodeAt(0) !== 47 /* / */ || url.length > opts.maxUrlLength || !allowedHost(host, opts.current(), opts.covered)) return refuse(res);
      const port = opts.httpsPort();
      res.writeHead(308, { location: `https://${host}${port === 443 ? '' : `:${port}`}${url}`, 'content-length': 0 });
      res.end();
    },
  );
  server.on('clientError', (_err, socket) => socket.destroy());
  return server;
}
