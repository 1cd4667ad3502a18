/**
 * The public listener: the server clients connect to, plain HTTP/1.1 or TLS
 * (tls.ts, with HTTP/2 next to HTTP/1.1), with the front-door limits baked in
 * when it is built (they wait for a restart: restart-required.ts), the cap on
 * open connections, the raw-socket answer to requests node's parser refuses,
 * the PROXY protocol gate (proxy-protocol-gate.ts), the plain-HTTP listener
 * that redirects to HTTPS, and the bounded shutdown
 * that closes them all.
 *
 * The request path comes in as three functions (ListenerHandlers), so the
 * front door never sees routing, plugins or upstreams.
 */
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import { parseDuration } from '../config/duration.js';
import type { LoadedConfig } from '../config/load.js';
import { acceptFrozen } from '../process/accept.js';
import { LinkedSet } from '../process/linked-set.js';
import type { MetricsSink } from '../telemetry/observer.js';
import { capConnections } from './connection-cap.js';
import { CLOSE_GRACE_MS } from './close-grace.js';
import { createRedirectServer, type RedirectOptions } from './https-redirect.js';
import { bind } from './listen-error.js';
import { gateConnections } from './proxy-protocol-gate.js';
import type { TlsFront, TlsServer } from './tls.js';

/** ListenerHandlers is the request path as the public listener calls it. */
export interface ListenerHandlers {
  /** handler answers a request, `Expect: 100-continue` ones included. */
  handler(req: IncomingMessage, res: ServerResponse): void;
  /** onUpgrade takes over a connection that asks for a WebSocket. */
  onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void;
  /** onClientError answers, on the raw socket, a request node's parser refused. */
  onClientError(err: Error & { code?: string; rawPacket?: Buffer }, socket: Socket): void;
}

/** PublicListenerOptions is what the public listener needs from the gateway. */
export interface PublicListenerOptions extends ListenerHandlers {
  /** loaded is the configuration the listener is built from: listen, limits, reload.debounce (and lines for bind errors). */
  loaded: LoadedConfig;
  /** current returns the active configuration: the redirect listener allows its route hosts. */
  current: RedirectOptions['current'];
  log: Logger;
  /** metrics counts the connections dropped at limits.maxConnections. */
  metrics: Pick<MetricsSink, 'count'>;
}

/**
 * PublicListener owns the public server, its TLS certificates, its open
 * connections and the redirect listener: `create` builds it, `listen` binds,
 * `close` shuts it down.
 */
export class PublicListener {
  /** sockets are the open client connections, cut when a shutdown runs out of time (a linked set: process/linked-set.ts says why not a Set). */
  readonly sockets = new LinkedSet<Socket>();
  /** redirect is the plain-HTTP listener answering 308 to HTTPS (listen.redirectHttp). */
  private redirect: Server | undefined;

  private constructor(
    readonly server: Server | TlsServer,
    /** tls owns the certificates when the listener terminates TLS. */
    readonly tls: TlsFront | undefined,
    private readonly opts: PublicListenerOptions,
  ) {}

  /** create builds the public server (loading the certificates first, rejecting with the file at fault); it does not bind. */
  static async create(opts: PublicListenerOptions): Promise<PublicListener> {
    const { loaded, log, handler } = opts;
    const g = loaded.gateway;
    const limits = g.limits!;
    const tlsDoc = g.listen.tls;
    let tls: TlsFront | undefined;
    let server: Server | TlsServer;
    if (tlsDoc !== undefined) {
      // tls.ts (node:https, node:http2, certificates, HTTP/2 sessions) is imported only by a listener that terminates TLS.
      const { TlsFront } = await import('./tls.js');
      tls = await TlsFront.create({ doc: tlsDoc, baseDir: loaded.baseDir, limits, log, debounceMs: parseDuration(g.reload.debounce), handler });
      server = tls.server;
    } else server = http.createServer(
      {
        requestTimeout: parseDuration(limits.requestTimeout),
        headersTimeout: parseDuration(limits.headerTimeout),
        keepAliveTimeout: parseDuration(limits.keepAliveTimeout),
        maxHeaderSize: limits.maxHeaderSize,
        // Reject ambiguous framing (CL+TE, obs-fold, bare LF) instead of guessing.
        insecureHTTPParser: false,
        requireHostHeader: true,
        connectionsCheckingInterval: 1000,
      },
      handler,
    );
    const listener = new PublicListener(server, tls, opts);
    // First, before any other 'connection' listener: the header is read before TLS or HTTP see a byte.
    if (g.proxyProtocol !== undefined) listener.gate(server, tls !== undefined, 'public');
    server.on('upgrade', opts.onUpgrade);
    capConnections(server, limits.maxConnections, () => listener.dropped('public'));
    // node stops parsing headers past this count (and the handler answers 431), instead of storing 2000.
    (server as { maxHeadersCount: number | null }).maxHeadersCount = limits.maxHeaders + 1;
    server.on('clientError', opts.onClientError);
    // `Expect: 100-continue` requests go through the same handler, which sends the 100 only once the
    // request is accepted (routed, authorized, within the body limit): refused ones never upload their body.
    server.on('checkContinue', handler);
    server.on('connection', (s: Socket) => {
      const place = listener.sockets.add(s);
      s.once('close', () => listener.sockets.delete(place));
    });
    return listener;
  }

  /** port is the public listener's port (0 before it is bound). */
  get port(): number {
    return (this.server.address() as AddressInfo | null)?.port ?? 0;
  }

  /** listen binds the public listener, then the redirect listener when configured; resolves with their ports. */
  async listen(): Promise<{ port: number; redirectPort?: number }> {
    const { loaded } = this.opts;
    const listen = loaded.gateway.listen;
    await bind(this.server, listen.port, listen.host, loaded, ['listen', 'port']);
    // Client connections that come and go leave nothing for a full GC (process/accept.ts says why net's accept does).
    acceptFrozen(this.server as Server);
    const port = this.port;
    if (this.tls === undefined || listen.redirectHttp === undefined) return { port };
    return { port, redirectPort: await this.listenRedirect(this.tls, listen.redirectHttp, listen.publicHttpsPort ?? port) };
  }

  /** listenRedirect starts the plain-HTTP listener that answers 308 to HTTPS; resolves with its port. */
  private async listenRedirect(tls: TlsFront, port: number, httpsPort: number): Promise<number> {
    const { loaded } = this.opts;
    const limits = loaded.gateway.limits!;
    const redirect = createRedirectServer({
      current: this.opts.current,
      covered: (host) => tls.certificates.covers(host),
      httpsPort: () => httpsPort,
      maxUrlLength: limits.maxUrlLength,
      headersTimeoutMs: parseDuration(limits.headerTimeout),
      requestTimeoutMs: parseDuration(limits.requestTimeout),
      keepAliveTimeoutMs: parseDuration(limits.keepAliveTimeout),
      maxHeaderSize: limits.maxHeaderSize,
    });
    if (loaded.gateway.proxyProtocol !== undefined) this.gate(redirect, false, 'redirect');
    capConnections(redirect, limits.maxConnections, () => this.dropped('redirect'));
    this.redirect = redirect;
    await bind(redirect, port, loaded.gateway.listen.host, loaded, ['listen', 'redirectHttp']);
    acceptFrozen(redirect);
    return (redirect.address() as AddressInfo).port;
  }

  /** gate puts the PROXY protocol gate (proxyProtocol.accept) in front of a listener's connection handling. */
  private gate(server: Server | TlsServer, tls: boolean, listener: 'public' | 'redirect'): void {
    const { loaded, log, metrics } = this.opts;
    gateConnections(server as Server, { doc: loaded.gateway.proxyProtocol!, tls, listener, log, metrics, linesPerSecond: () => loaded.gateway.log.refusalLinesPerSecond });
  }

  /** dropped counts a connection closed on arrival because `listener` was at limits.maxConnections. */
  private dropped(listener: 'public' | 'redirect'): void {
    this.opts.metrics.count('connection_dropped', { result: listener });
    this.opts.log.debug({ listener }, 'connection dropped: limits.maxConnections reached');
  }

  /**
   * close stops accepting connections and watching certificates, closes the
   * redirect listener, and lets requests in flight finish for up to
   * `timeoutMs` (idle keep-alive connections close at once); then every
   * connection is cut. Resolves when the server has closed, or gave up
   * waiting for a socket that never reported.
   */
  async close(timeoutMs: number): Promise<void> {
    const server = this.server;
    this.tls?.stop();
    this.redirect?.close();
    this.redirect?.closeAllConnections();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // Past shutdownTimeout every connection is cut, whatever state it is in
    // (an HTTP/2 session can wait for ever for a write to a vanished peer);
    // a moment later close() stops waiting even if a socket never reported.
    const timer = setTimeout(() => {
      server.closeAllConnections();
      for (const s of this.sockets.values()) s.destroy();
    }, timeoutMs);
    timer.unref();
    const gaveUp = new Promise<'gave up'>((resolve) => {
      const t = setTimeout(() => resolve('gave up'), timeoutMs + CLOSE_GRACE_MS);
      t.unref();
      void closed.then(() => clearTimeout(t));
    });
    if ((await Promise.race([closed, gaveUp])) === 'gave up') this.opts.log.warn({ open: this.sockets.size }, 'connections still open after shutdownTimeout; stopping anyway');
    clearTimeout(timer);
    for (const s of this.sockets.values()) s.destroy();
  }
}
