/**
 * The TLS front door: the public listener terminates TLS with certificates
 * chosen by SNI, offers HTTP/2 next to HTTP/1.1 via ALPN, and swaps its
 * certificates when their files change, without a restart and without
 * dropping a connection (each handshake reads the current set).
 *
 * One node:http2 secure server with `allowHTTP1` serves both protocols, so
 * HTTP/1.1 clients (and WebSocket upgrades) get node's HTTP/1.1 server with
 * the same limits as the plain listener, and HTTP/2 clients get the same
 * request handler through node's compatibility API. The handler only needs
 * the Host header that HTTP/2 carries as `:authority`.
 */
import http from 'node:http';
import https from 'node:https';
import http2, { type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import type { GatewayDoc, LimitsDoc } from '../config/schema.js';
import { parseDuration } from '../config/duration.js';
import { CertificateSet, certificateSources, watchCertificates } from './certificates.js';
import { H2Sessions } from './h2-sessions.js';

type TlsDoc = NonNullable<GatewayDoc['listen']['tls']>;

/** TlsServer is the public TLS listener, with the connection lifecycle of an http.Server on both protocols. */
export type TlsServer = (Http2SecureServer | https.Server) & {
  /** closeIdleConnections closes idle HTTP/1.1 connections and asks every HTTP/2 session to finish (GOAWAY). */
  closeIdleConnections(): void;
  /** closeAllConnections cuts every connection. */
  closeAllConnections(): void;
};

/** TlsFrontOptions is what the TLS listener needs from the gateway. */
export interface TlsFrontOptions {
  doc: TlsDoc;
  baseDir: string;
  limits: LimitsDoc;
  log: Logger;
  /** debounceMs is the quiet time after a certificate file event. */
  debounceMs: number;
  handler(req: http.IncomingMessage, res: http.ServerResponse): void;
}

/**
 * MAX_CONCURRENT_STREAMS caps parallel requests per HTTP/2 connection (node's
 * default is unlimited; 128 is nginx's and keeps one client from holding
 * thousands of upstream requests open).
 */
const MAX_CONCURRENT_STREAMS = 128;

/**
 * TlsFront owns the TLS listener and its certificates: `server` is what the
 * gateway listens with; `stop` ends certificate watching.
 */
export class TlsFront {
  private constructor(
    readonly server: TlsServer,
    private set: CertificateSet,
    private readonly watcher: { check(): Promise<boolean>; stop(): void },
  ) {}

  /** certificates is the set new handshakes use. */
  get certificates(): CertificateSet {
    return this.set;
  }

  /** reloadCertificates re-reads the certificate files now; resolves true when a new set was installed. */
  reloadCertificates(): Promise<boolean> {
    return this.watcher.check();
  }

  /** stop ends certificate watching (the server is closed by its owner). */
  stop(): void {
    this.watcher.stop();
  }

  /** create loads the certificates (rejecting with the file at fault) and builds the listener. */
  static async create(opts: TlsFrontOptions): Promise<TlsFront> {
    const { doc, limits, log } = opts;
    const sources = certificateSources(doc, opts.baseDir);
    const minVersion = doc.minVersion;
    const initial = await CertificateSet.load(sources, minVersion);
    log.info({ certificates: initial.describe(), http2: doc.http2 }, 'TLS certificates loaded');
    initial.warnExpiring(log);
    let front: TlsFront | undefined;
    // Each handshake asks the current set, so a swap applies to the next connection.
    const SNICallback = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => cb(null, (front?.set ?? initial).pick(servername).context);
    const tlsOptions = { cert: initial.default.pem.cert, key: initial.default.pem.key, minVersion, SNICallback };
    const http1 = {
      requestTimeout: parseDuration(limits.requestTimeout),
      headersTimeout: parseDuration(limits.headerTimeout),
      keepAliveTimeout: parseDuration(limits.keepAliveTimeout),
      maxHeaderSize: limits.maxHeaderSize,
      // Reject ambiguous framing (CL+TE, obs-fold, bare LF) instead of guessing, as on the plain listener.
      insecureHTTPParser: false,
      requireHostHeader: true,
      connectionsCheckingInterval: 1000,
    };
    const server = doc.http2 ? createHttp2Server(tlsOptions, http1, limits, opts.handler) : (https.createServer({ ...tlsOptions, ...http1, ALPNProtocols: ['http/1.1'] }, opts.handler) as TlsServer);
    const watcher = watchCertificates(initial, {
      sources,
      minVersion,
      log,
      debounceMs: opts.debounceMs,
      recheckMs: parseDuration(doc.recheck),
      onChange: (next) => {
        front!.set = next;
        // The default context serves clients that send no SNI (e.g. connecting by IP).
        server.setSecureContext({ cert: next.default.pem.cert, key: next.default.pem.key, minVersion });
      },
    });
    front = new TlsFront(server, initial, watcher);
    return front;
  }
}

/** createHttp2Server builds the HTTP/2 + HTTP/1.1 server and gives it http.Server's connection lifecycle. */
function createHttp2Server(
  tlsOptions: http2.SecureServerOptions,
  http1: Record<string, number | boolean>,
  limits: LimitsDoc,
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): TlsServer {
  const server = http2.createSecureServer({
    ...tlsOptions,
    allowHTTP1: true,
    // Any count the header-size limit lets through (an HPACK entry costs at least 32 bytes, RFC 7541 §4.1),
    // so the handler answers 431 over maxHeaders as on HTTP/1.1, instead of nghttp2 refusing the stream (ENHANCE_YOUR_CALM).
    maxHeaderListPairs: Math.max(limits.maxHeaders, Math.ceil(limits.maxHeaderSize / 32)) + 8,
    settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS, maxHeaderListSize: limits.maxHeaderSize },
  });
  // The HTTP/1.1 fallback reads these from the server, like http.Server's own options.
  Object.assign(server, http1);
  // Sessions get HTTP/1.1's limits (idle, request body, send, headers) and are never left open by a broken peer (h2-sessions.ts).
  const sessions = new H2Sessions(server, {
    headerMs: parseDuration(limits.headerTimeout),
    requestMs: parseDuration(limits.requestTimeout),
    keepAliveMs: parseDuration(limits.keepAliveTimeout),
    sendMs: parseDuration(limits.sendTimeout),
  });
  server.on('request', (req: Http2ServerRequest | http.IncomingMessage, res: Http2ServerResponse | http.ServerResponse) => {
    if (req.httpVersionMajor === 2) {
      const h = req.headers;
      // HTTP/2 names the host in :authority (RFC 9113 §8.3.1); routing and forwarding read Host.
      const authority = h[':authority'];
      if (authority !== undefined) h.host = authority as string;
      sessions.timeRequest(req as Http2ServerRequest, res as Http2ServerResponse);
    }
    // The compatibility API objects offer what the handler uses of IncomingMessage/ServerResponse.
    handler(req as http.IncomingMessage, res as http.ServerResponse);
  });
  // Http2SecureServer has closeIdleConnections for its HTTP/1.1 connections (allowHTTP1); the types lack it.
  const closeIdleHttp1 = (server as unknown as { closeIdleConnections(): void }).closeIdleConnections.bind(server);
  const lifecycle = {
    closeIdleConnections() {
      closeIdleHttp1();
      // GOAWAY: in-flight streams finish, no new ones start, then the session closes.
      sessions.closeIdle();
    },
    closeAllConnections() {
      sessions.closeAll();
      // HTTP/1.1 connections: http.Server's own method works on the fallback's connection list.
      http.Server.prototype.closeAllConnections.call(server as unknown as http.Server);
    },
  };
  return Object.assign(server, lifecycle) as unknown as TlsServer;
}
