/**
 * Test helpers exported by the package (`switchyard-gateway/testing`): start real
 * upstream servers on loopback ports and a gateway in-process, then talk to
 * both over real sockets. Used by Switchyard's own tests and by plugin authors.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { createGateway, type Gateway, type GatewayOptions } from '../gateway/gateway.js';

/** RecordedRequest is what a test upstream saw. */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

/** TestUpstream is a real HTTP server on a loopback port that records requests. */
export interface TestUpstream {
  readonly url: string;
  readonly port: number;
  readonly name: string;
  readonly server: http.Server;
  /** requests lists every request received (bodies buffered unless the handler consumes them). */
  readonly requests: RecordedRequest[];
  /** hits counts requests (including health checks unless filtered by the caller). */
  hits(filter?: (r: RecordedRequest) => boolean): number;
  /** setHandler replaces the response behaviour. */
  setHandler(h: UpstreamHandler): void;
  /** close stops the server, cutting open connections. */
  close(): Promise<void>;
}

/** UpstreamHandler answers a request; the body has been read when `body` is given. */
export type UpstreamHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer, self: TestUpstream) => void;

/** echoHandler answers JSON naming the upstream and echoing method, url and headers. */
export const echoHandler: UpstreamHandler = (req, res, body, self) => {
  if (req.url === '/healthz') {
    res.writeHead(200).end('ok');
    return;
  }
  const out = JSON.stringify({ upstream: self.name, method: req.method, url: req.url, headers: req.headers, bodyLength: body.length });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) }).end(out);
};

/** startUpstream starts a recording upstream; `stream: true` leaves the body unread for the handler. */
export async function startUpstream(name: string, handler: UpstreamHandler = echoHandler, opts: { stream?: boolean } = {}): Promise<TestUpstream> {
  let current = handler;
  const requests: RecordedRequest[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    const rec: RecordedRequest = { method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, body: Buffer.alloc(0) };
    requests.push(rec);
    if (opts.stream) {
      current(req, res, rec.body, self);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      rec.body = Buffer.concat(chunks);
      current(req, res, rec.body, self);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const self: TestUpstream = {
    url: `http://127.0.0.1:${port}`,
    port,
    name,
    server,
    requests,
    hits: (filter) => (filter ? requests.filter(filter).length : requests.length),
    setHandler: (h) => (current = h),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  return self;
}

/** TestGateway is an in-process gateway with its base URLs. */
export interface TestGateway {
  /**
   * gateway is the concrete gateway, internals included (runtime, observer,
   * metricsText): Switchyard's own tests read them. Plugin tests should need
   * only `url`; what embedders may rely on is the Gateway interface of the main entry.
   */
  readonly gateway: Gateway;
  /** url is the public listener's base URL (`http://127.0.0.1:<port>`). */
  readonly url: string;
  /** port is the public listener's port. */
  readonly port: number;
  /** adminUrl is the admin API's base URL. */
  readonly adminUrl: string;
  /** close shuts the gateway down (in-flight requests finish first). */
  close(): Promise<void>;
}

/**
 * startGateway starts a gateway in-process on ephemeral ports. Pass inline
 * docs (`gateway`, `routeFiles`) or a `configFile`; listen/admin ports default to 0.
 */
export async function startGateway(options: GatewayOptions & { logger?: Logger }): Promise<TestGateway> {
  const opts: GatewayOptions = { logger: pino({ level: process.env.SWITCHYARD_TEST_LOG ?? 'silent' }), ...options };
  if (!('configFile' in opts) || opts.configFile === undefined) {
    const g = (opts as { gateway?: Record<string, unknown> | string }).gateway ?? {};
    if (typeof g === 'string') {
      // YAML text keeps its line numbers: ephemeral ports are appended, unless the text sets its own.
      let text = g.endsWith('\n') ? g : g + '\n';
      if (!/^listen:/m.test(text)) text += 'listen: { host: 127.0.0.1, port: 0 }\n';
      if (!/^admin:/m.test(text)) text += 'admin: { host: 127.0.0.1, port: 0 }\n';
      (opts as { gateway?: string }).gateway = text;
    } else {
      (opts as { gateway?: Record<string, unknown> }).gateway = {
        ...g,
        listen: { host: '127.0.0.1', port: 0, ...(g.listen as object) },
        admin: { host: '127.0.0.1', port: 0, ...(g.admin as object) },
      };
    }
  }
  const gateway = await createGateway(opts);
  const { port, adminPort } = await gateway.listen();
  return {
    gateway,
    port,
    url: `http://127.0.0.1:${port}`,
    adminUrl: `http://127.0.0.1:${adminPort ?? 0}`,
    close: () => gateway.close(),
  };
}

/** waitFor polls a condition until it holds or the deadline passes (no fixed sleeps in tests). */
export async function waitFor<T>(check: () => T | Promise<T>, { timeout = 5000, interval = 10, message = 'condition' } = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout}ms waiting for ${message}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}
