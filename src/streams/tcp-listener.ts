/**
 * A TCP stream listener (`protocol: tcp` or `tls-passthrough`). Per
 * connection: admit it (maxConnections), read the PROXY header when the peer
 * must send one, read the ClientHello's SNI (tls-passthrough; the bytes are
 * kept and sent on, never decrypted), pick the route, connect to a target
 * (one retry elsewhere), send the PROXY header the upstream wants, then
 * splice the two sockets until both sides are done. The client socket stays
 * paused until the upstream is connected (and the upstream until the splice),
 * so bytes wait in the kernel, not in the gateway. Each connection ends in one access-log line.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { normalizeIp } from '../http/client-ip.js';
import { once } from 'node:events';
import type { Logger } from 'pino';
import { claimedSource, readProxyHeader, V2_SIGNATURE, type ProxyEndpoint } from '../proxy-protocol/index.js';
import type { Target } from '../upstream/target.js';
import type { Upstream } from '../upstream/upstream.js';
import { acceptFrozen } from '../process/accept.js';
import { LinkedSet, type LinkedNode } from '../process/linked-set.js';
import { parseClientHello } from './client-hello.js';
import { connectStream } from './connect.js';
import type { ListenerRoutes, StreamRoute } from './route-table.js';
import type { ListenerSettings } from './settings.js';
import { IdleSweep } from './idle-sweep.js';
import type { Relay } from './relay.js';
import { splice, type Splice } from './splice.js';
import { STREAM_ERRORS, type StreamContext, type StreamRecord } from './context.js';

/** ListenerState is one configuration's view of a listener: its settings and routes (a reload swaps it). */
export interface ListenerState {
  readonly settings: ListenerSettings;
  readonly routes: ListenerRoutes;
}

/** A fatal TLS alert `unrecognized_name` (RFC 6066): the client learns no route takes its name. */
const ALERT_UNRECOGNIZED_NAME = Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x70]);

/** Front is what a connection's first bytes decided: its route, the bytes already read (a ClientHello), and the address it connected to. */
interface Front {
  readonly route: StreamRoute;
  readonly first: Buffer | undefined;
  /** destination is the address the client connected to (a PROXY header's when one named it; else the socket's, read only when asked: a getsockname per connection otherwise). */
  readonly destination: () => ProxyEndpoint;
}

/** Admission is a connection being admitted: its place among the listener's pending sockets, and whether the client has gone meanwhile. */
interface Admission {
  readonly place: LinkedNode<Socket>;
  gone: boolean;
}

/** Conn is one open, spliced connection. */
interface Conn {
  readonly upstream: Upstream;
  readonly splice: Splice;
  drainTimer: NodeJS.Timeout | undefined;
}

/** allowHalfOpen: a client's FIN is passed on and the answer still comes back. pauseOnConnect: nothing is read before it can be sent on. */
const SERVER_OPTIONS = { allowHalfOpen: true, pauseOnConnect: true, noDelay: true } as const;

/** TcpStreamListener accepts and forwards the connections of one tcp or tls-passthrough listener. */
export class TcpStreamListener {
  private readonly server: Server;
  /** conns are the spliced connections; pending are sockets still being admitted (hello, connect). Linked sets, not Sets: see process/linked-set.ts. */
  private readonly conns = new LinkedSet<Conn>();
  private readonly pending = new LinkedSet<Socket>();
  /** idle counts the idle timeout of every spliced connection from one timer. */
  private readonly idle = new IdleSweep();
  private closing = false;

  constructor(
    /** state is read once per connection, so a reload applies to the next one. */
    public state: ListenerState,
    private readonly ctx: StreamContext,
  ) {
    this.server = createServer(SERVER_OPTIONS, (socket) => this.accept(socket));
  }

  /** listen binds the listener; resolves with the port. */
  async listen(): Promise<number> {
    const { host, port } = this.state.settings;
    this.server.listen({ host, port });
    await Promise.race([once(this.server, 'listening'), once(this.server, 'error').then(([err]) => Promise.reject(err as Error))]);
    acceptFrozen(this.server);
    return this.port;
  }

  /** port is the bound port (0 before listen). */
  get port(): number {
    const a = this.server.address();
    return a !== null && typeof a === 'object' ? a.port : 0;
  }

  /** open counts connections admitted and not yet closed. */
  get open(): number {
    return this.conns.size + this.pending.size;
  }

  /**
   * drainRetired gives every connection on a pool the new configuration no
   * longer uses `drainTimeout` to finish, then cuts it; connections on pools
   * that carried over stay as they are.
   */
  drainRetired(live: ReadonlySet<Upstream>): void {
    for (const c of this.conns.values()) if (!live.has(c.upstream)) this.drainLater(c, 'drained');
  }

  private drainLater(c: Conn, reason: 'drained' | 'shutdown', capMs = Infinity): void {
    if (c.drainTimer !== undefined) return;
    const ms = Math.min(this.state.settings.drainTimeoutMs, capMs);
    if (ms === 0) c.splice.cut(reason);
    else c.drainTimer = setTimeout(() => c.splice.cut(reason), ms);
  }

  /** close stops accepting, lets open connections run up to drainTimeout (at most `capMs`: shutdownTimeout), then cuts them; resolves when all are closed. */
  async close(capMs = Infinity, reason: 'drained' | 'shutdown' = 'shutdown'): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.pending.values()) s.destroy();
    const all = this.conns.values().map((c) => {
      this.drainLater(c, reason, capMs);
      return c.splice.done;
    });
    await Promise.all([closed, ...all]);
  }

  /**
   * accept admits one connection and forwards it. Callbacks, not awaits, on
   * the common path (a tcp listener that reads no PROXY header): a short
   * connection's own cost is what bounds connections per second and the
   * latency under load (bench/README.md, journal "Issue 18 (2026-12-06, night)").
   */
  private accept(client: Socket): void {
    const { settings, routes } = this.state;
    const started = performance.now();
    // A connection reset before it was accepted has no peer address left (getpeername fails): nobody to serve or to log.
    if (client.remoteAddress === undefined) {
      client.destroy();
      return;
    }
    const record: StreamRecord = { listener: settings.name, client: normalizeIp(client.remoteAddress), clientPort: client.remotePort ?? 0, started };
    if (this.closing || (settings.maxConnections > 0 && this.open >= settings.maxConnections)) {
      client.destroy();
      this.ctx.refused(record, 'limit', STREAM_ERRORS.limit, 'connection limit reached');
      return;
    }
    const watch: Admission = { place: this.pending.add(client), gone: false };
    client.on('error', () => (watch.gone = true));
    client.once('close', () => (watch.gone = true));
    if (settings.protocol === 'tcp' && !this.ctx.proxyAccept?.required(record.client)) {
      const front = this.route(client, record, routes, undefined);
      if (front === undefined) this.pending.delete(watch.place);
      else this.forward(client, record, settings, front, watch);
      return;
    }
    this.front(client, record, settings, routes).then(
      (front) => {
        if (front === undefined) this.pending.delete(watch.place);
        else this.forward(client, record, settings, front, watch);
      },
      (err: unknown) => {
        this.pending.delete(watch.place);
        client.destroy();
        this.ctx.log.error({ err, listener: settings.name }, 'stream accept failed');
      },
    );
  }

  /** forward connects the routed connection to a target of its pool and splices the two; the record becomes its access-log line. */
  private forward(client: Socket, record: StreamRecord, settings: ListenerSettings, front: Front, watch: Admission): void {
    const { route } = front;
    record.route = route.id;
    record.upstream = route.upstream.name;
    const upstreamName = route.upstream.name;
    const onFailed = (t: Target) => this.ctx.metrics.connectFailed(settings.name, upstreamName, t.id);
    connectStream(route.upstream, record.client, settings.connectTimeoutMs, onFailed, (connected) => {
      // Admitted either way: joined to an upstream below, or refused.
      this.pending.delete(watch.place);
      if (!connected.ok) {
        client.destroy();
        record.target = connected.target?.id;
        const code = connected.failure === 'unavailable' ? STREAM_ERRORS.unavailable : connected.failure === 'timeout' ? STREAM_ERRORS.timeout : STREAM_ERRORS.connect;
        this.ctx.refused(record, connected.failure, code, connected.reason);
        return;
      }
      const { socket: upstream, relay, target } = connected;
      record.target = target.id;
      this.join(client, upstream, relay, target, record, settings, front, watch);
    });
  }

  /** join splices a connected client and upstream (or ends it when the client left meanwhile); the stream's end writes its access-log line. */
  private join(client: Socket, upstream: Socket, relay: Relay, target: Target, record: StreamRecord, settings: ListenerSettings, front: Front, watch: Admission): void {
    const { route, first, destination } = front;
    if (watch.gone) {
      upstream.destroy();
      target.inflight--;
      this.ctx.refused(record, 'client_gone', STREAM_ERRORS.clientClosed, 'client closed before the upstream answered');
      return;
    }
    let s: Splice;
    try {
      const header = route.proxyProtocol === undefined ? undefined : this.ctx.proxyHeader(route, { address: record.client, port: record.clientPort }, destination());
      if (header !== undefined) upstream.write(header);
      // A client outside proxyProtocol.accept.from cannot claim an address: a stream that opens with a PROXY header is cut (tls-passthrough refuses it as a non-TLS first record).
      const guard = this.ctx.proxyAccept !== undefined && record.peer === undefined && settings.protocol === 'tcp' ? (chunk: Buffer) => !startsWithProxyHeader(chunk) : undefined;
      s = splice(client, upstream, relay, first, settings.idleTimeoutMs, { guardFirst: guard, sweep: this.idle });
    } catch (err) {
      // Nothing here should throw (a callback, not a promise, runs this): if it does, this connection ends and the gateway carries on.
      client.destroy();
      upstream.destroy();
      target.inflight--;
      this.ctx.log.error({ err, listener: settings.name }, 'stream splice failed');
      return;
    }
    const conn: Conn = { upstream: route.upstream, splice: s, drainTimer: undefined };
    const place = this.conns.add(conn);
    this.ctx.metrics.opened(settings.name, route.id);
    void s.done.then((result) => {
      if (result.end === 'refused') record.reason = 'a PROXY protocol header from a peer not in proxyProtocol.accept.from';
      if (conn.drainTimer !== undefined) clearTimeout(conn.drainTimer);
      this.conns.delete(place);
      target.inflight--;
      this.ctx.finished(record, result);
    });
  }

  /**
   * front settles what the first bytes decide, before any upstream is
   * chosen: the PROXY header of a listed peer (who the client is, where it
   * connected), then for tls-passthrough the ClientHello's SNI; and so the
   * route. A refusal is logged here and gives undefined.
   */
  private async front(client: Socket, record: StreamRecord, settings: ListenerSettings, routes: ListenerRoutes): Promise<Front | undefined> {
    let destination: (() => ProxyEndpoint) | undefined;
    const accept = this.ctx.proxyAccept;
    if (accept?.required(record.client)) {
      try {
        const header = await readProxyHeader(client, { versions: accept.versions, timeoutMs: accept.timeoutMs });
        const source = claimedSource(header);
        if (source !== undefined) {
          record.peer = record.client;
          record.client = normalizeIp(source.address);
          record.clientPort = source.port;
          const claimed = header.destination;
          if (claimed !== undefined) destination = () => claimed;
        }
      } catch (err) {
        client.destroy();
        this.ctx.refused(record, 'proxy_header', STREAM_ERRORS.proxyHeader, (err as Error).message);
        return undefined;
      }
    }
    if (settings.protocol !== 'tls-passthrough') return this.route(client, record, routes, destination);
    const hello = await readHello(client, settings);
    if (!hello.ok) {
      client.destroy();
      this.ctx.refused(record, 'client_hello', STREAM_ERRORS.clientHello, hello.reason);
      return undefined;
    }
    record.sni = hello.sni;
    const route = routes.table.match(hello.sni);
    if (route === undefined) {
      client.end(ALERT_UNRECOGNIZED_NAME);
      this.ctx.refused(record, 'no_route', STREAM_ERRORS.noRoute, `no route for SNI ${hello.sni === undefined ? '(none)' : `"${hello.sni}"`}`);
      return undefined;
    }
    return { route, first: hello.data, destination: destination ?? socketDestination(client) };
  }

  /** route picks a tcp listener's route (no SNI); undefined (logged) when it has none. `destination` defaults to the socket's own address. */
  private route(client: Socket, record: StreamRecord, routes: ListenerRoutes, destination: (() => ProxyEndpoint) | undefined): Front | undefined {
    const route = routes.table.match(undefined);
    if (route === undefined) {
      client.destroy();
      this.ctx.refused(record, 'no_route', STREAM_ERRORS.noRoute, 'no stream route on this listener');
      return undefined;
    }
    return { route, first: undefined, destination: destination ?? socketDestination(client) };
  }
}

/** socketDestination reads the address a client connected to from its socket, when asked (a getsockname). */
const socketDestination =
  (client: Socket) =>
  (): ProxyEndpoint => ({ address: client.localAddress ?? '', port: client.localPort ?? 0 });

const V1_PREFIX = Buffer.from('PROXY ', 'latin1');

/** startsWithProxyHeader tells whether a first chunk opens with a PROXY protocol signature (v1 or v2). */
function startsWithProxyHeader(chunk: Buffer): boolean {
  const n = Math.min(chunk.length, V2_SIGNATURE.length);
  if (n >= 5 && chunk.compare(V2_SIGNATURE, 0, n, 0, n) === 0) return true;
  return chunk.length >= V1_PREFIX.length && chunk.compare(V1_PREFIX, 0, V1_PREFIX.length, 0, V1_PREFIX.length) === 0;
}

type Hello = { ok: true; data: Buffer; sni: string | undefined } | { ok: false; reason: string };

/** readHello reads until the ClientHello is complete, bounded in size and time; the bytes read are returned to be sent on. */
function readHello(socket: Socket, settings: ListenerSettings): Promise<Hello> {
  return new Promise((resolve) => {
    let data: Buffer = Buffer.alloc(0);
    const done = (r: Hello) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.pause();
      resolve(r);
    };
    const timer = setTimeout(() => done({ ok: false, reason: `no complete ClientHello within ${settings.clientHelloTimeoutMs}ms` }), settings.clientHelloTimeoutMs);
    const onEnd = () => done({ ok: false, reason: 'client closed before its ClientHello was complete' });
    const onData = (chunk: Buffer) => {
      data = data.length === 0 ? chunk : Buffer.concat([data, chunk]);
      const r = parseClientHello(data);
      if (r.kind === 'done') done({ ok: true, data, sni: r.sni });
      else if (r.kind === 'invalid') done({ ok: false, reason: r.reason });
      else if (data.length >= settings.maxClientHello) done({ ok: false, reason: `ClientHello larger than maxClientHello (${settings.maxClientHello} bytes)` });
    };
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('close', onEnd);
    socket.resume();
  });
}
