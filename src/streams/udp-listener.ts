/**
 * A UDP stream listener: a session per client address:port, whose target the
 * balancer picks once (ip-hash on the client address, least-connections on
 * open sessions). Each session has its own upstream socket, so replies are
 * told apart by the socket they arrive on and sent back to that client. A
 * session with no datagram either way for sessionIdleTimeout ends (one
 * access-log line); datagrams over maxDatagramSize, either way, are dropped
 * and counted, as are those that find the session table full.
 *
 * PROXY protocol in (gateway.yaml `proxyProtocol.accept`): v2 only (v1 cannot
 * express UDP), with a DGRAM (udp4/udp6) or LOCAL header at the start of a
 * datagram from a listed peer, which is stripped. The first datagram of a
 * session must carry one (it names the client: ip-hash, access log); later
 * ones may (it must name the same client) or may not, so a sender that heads
 * every datagram and one that heads only a flow's first both work. Replies go
 * back to the peer (the balancer), which maps them to its client. A datagram
 * breaking these rules is dropped and counted (`reason="proxy_header"`), as
 * is one from an unlisted peer that starts with the v2 signature: nobody
 * else can claim an address.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { normalizeIp } from '../http/client-ip.js';
import { claimedSource, parseV2, V2_SIGNATURE, type ProxyEndpoint } from '../proxy-protocol/index.js';
import type { Target } from '../upstream/target.js';
import type { Upstream } from '../upstream/upstream.js';
import { STREAM_ERRORS, type StreamContext, type StreamRecord } from './context.js';
import type { StreamRoute } from './route-table.js';
import type { ListenerState } from './tcp-listener.js';

interface Session {
  readonly route: StreamRoute;
  readonly target: Target;
  readonly socket: Socket;
  readonly record: StreamRecord;
  readonly timer: NodeJS.Timeout;
  bytesIn: number;
  bytesOut: number;
  drainTimer: NodeJS.Timeout | undefined;
}

/** UdpStreamListener forwards the datagrams of one udp listener. */
export class UdpStreamListener {
  private readonly socket: Socket;
  private readonly sessions = new Map<string, Session>();

  constructor(
    /** state is read per new session, so a reload applies to the next one. */
    public state: ListenerState,
    private readonly ctx: StreamContext,
  ) {
    this.socket = createSocket({ type: state.settings.host.includes(':') ? 'udp6' : 'udp4' });
    this.socket.on('message', (msg, rinfo) => this.fromClient(msg, rinfo));
    this.socket.on('error', (err) => this.ctx.log.warn({ err, listener: state.settings.name }, 'udp listener error'));
  }

  /** listen binds the socket; resolves with the port. */
  async listen(): Promise<number> {
    const { host, port } = this.state.settings;
    this.socket.bind({ address: host, port });
    await Promise.race([once(this.socket, 'listening'), once(this.socket, 'error').then(([err]) => Promise.reject(err as Error))]);
    return this.port;
  }

  /** port is the bound port (0 before listen). */
  get port(): number {
    try {
      return this.socket.address().port;
    } catch {
      return 0;
    }
  }

  /** open counts live sessions. */
  get open(): number {
    return this.sessions.size;
  }

  /** drainRetired ends, after drainTimeout, the sessions on pools the new configuration no longer uses. */
  drainRetired(live: ReadonlySet<Upstream>): void {
    for (const [key, s] of this.sessions) {
      if (live.has(s.route.upstream) || s.drainTimer !== undefined) continue;
      s.drainTimer = setTimeout(() => this.end(key, 'drained'), this.state.settings.drainTimeoutMs);
    }
  }

  /** close stops receiving and ends every session. */
  async close(_capMs?: number, reason: 'drained' | 'shutdown' = 'shutdown'): Promise<void> {
    for (const key of [...this.sessions.keys()]) this.end(key, reason);
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  private fromClient(msg: Buffer, rinfo: RemoteInfo): void {
    const { settings } = this.state;
    if (msg.length > settings.maxDatagramSize) {
      // Counted, not written to the access log: a client can send these at will.
      this.ctx.metrics.dropped(settings.name, 'too_large');
      this.ctx.log.debug({ listener: settings.name, client: rinfo.address, size: msg.length, code: STREAM_ERRORS.datagramTooLarge }, 'udp datagram dropped');
      return;
    }
    const key = `${rinfo.address}\0${rinfo.port}`;
    let s = this.sessions.get(key);
    const inbound = this.proxyHeader(msg, rinfo, s);
    if (inbound === undefined) return;
    msg = inbound.payload;
    if (s === undefined) {
      s = this.startSession(key, rinfo, inbound.client);
      if (s === undefined) return;
    }
    s.timer.refresh();
    s.bytesIn += msg.length;
    s.socket.send(msg, s.target.dialPort, s.target.dialHost);
  }

  /**
   * proxyHeader applies `proxyProtocol.accept` to one datagram (see the file
   * comment): the payload without its header and the client it names
   * (undefined: the real peer), or undefined when the datagram is dropped.
   */
  private proxyHeader(msg: Buffer, rinfo: RemoteInfo, session: Session | undefined): { payload: Buffer; client: ProxyEndpoint | undefined } | undefined {
    const accept = this.ctx.proxyAccept;
    const peer = normalizeIp(rinfo.address);
    const signed = msg.length >= V2_SIGNATURE.length && msg.compare(V2_SIGNATURE, 0, V2_SIGNATURE.length, 0, V2_SIGNATURE.length) === 0;
    if (accept === undefined || !accept.required(peer)) {
      if (accept !== undefined && signed) return this.dropHeader(rinfo, 'a PROXY protocol header from a peer not in proxyProtocol.accept.from');
      return { payload: msg, client: undefined };
    }
    if (!signed) {
      // A flow whose first datagram named its client goes on without a header.
      if (session !== undefined && session.record.peer !== undefined) return { payload: msg, client: undefined };
      return this.dropHeader(rinfo, 'no PROXY protocol v2 header on the first datagram of a session from a listed peer');
    }
    if (!accept.versions.includes('v2')) return this.dropHeader(rinfo, 'PROXY protocol v2 is not in proxyProtocol.accept.versions (v1 cannot carry UDP)');
    let parsed;
    try {
      parsed = parseV2(msg);
    } catch (err) {
      return this.dropHeader(rinfo, (err as Error).message);
    }
    if (parsed === undefined) return this.dropHeader(rinfo, 'a PROXY protocol v2 header cut short by the datagram');
    const { header, length } = parsed;
    if (header.command === 'proxy' && header.transport !== 'udp4' && header.transport !== 'udp6') return this.dropHeader(rinfo, `a PROXY protocol v2 header for ${header.transport} on a udp listener (DGRAM expected)`);
    const client = claimedSource(header);
    if (session !== undefined && client !== undefined && (normalizeIp(client.address) !== session.record.client || client.port !== session.record.clientPort)) {
      return this.dropHeader(rinfo, `a PROXY protocol header naming ${client.address}:${client.port} on the session of ${session.record.client}:${session.record.clientPort}`);
    }
    return { payload: msg.subarray(length), client };
  }

  private dropHeader(rinfo: RemoteInfo, reason: string): undefined {
    const { name } = this.state.settings;
    // Counted, and logged at debug only: a client can send these at will.
    this.ctx.metrics.dropped(name, 'proxy_header');
    this.ctx.log.debug({ listener: name, client: rinfo.address, code: STREAM_ERRORS.proxyHeader, reason }, 'udp datagram dropped');
    return undefined;
  }

  /** startSession starts a session: route, pick a target, open its upstream socket. `claimed` is the client a PROXY header named. */
  private startSession(key: string, rinfo: RemoteInfo, claimed?: ProxyEndpoint): Session | undefined {
    const { settings, routes } = this.state;
    const record: StreamRecord = { listener: settings.name, client: rinfo.address, clientPort: rinfo.port, started: performance.now() };
    if (claimed !== undefined) {
      record.peer = normalizeIp(rinfo.address);
      record.client = normalizeIp(claimed.address);
      record.clientPort = claimed.port;
    } else if (this.ctx.proxyAccept?.required(normalizeIp(rinfo.address))) record.peer = normalizeIp(rinfo.address); // a LOCAL header: the peer stands for itself
    if (settings.maxConnections > 0 && this.sessions.size >= settings.maxConnections) {
      this.ctx.metrics.dropped(settings.name, 'limit');
      return undefined;
    }
    const route = routes.table.match(undefined);
    if (route === undefined) {
      this.ctx.refused(record, 'no_route', STREAM_ERRORS.noRoute, 'no stream route on this listener');
      return undefined;
    }
    record.route = route.id;
    record.upstream = route.upstream.name;
    const target = route.upstream.pick(record.client);
    if (target === undefined) {
      this.ctx.refused(record, 'unavailable', STREAM_ERRORS.unavailable, 'no eligible target');
      return undefined;
    }
    record.target = target.id;
    target.inflight++;
    target.requests++;
    const socket = createSocket({ type: target.url.hostname.startsWith('[') ? 'udp6' : 'udp4' });
    const timer = setTimeout(() => this.end(key, 'idle-timeout'), settings.sessionIdleTimeoutMs);
    const session: Session = { route, target, socket, record, timer, bytesIn: 0, bytesOut: 0, drainTimer: undefined };
    socket.on('message', (reply) => {
      if (reply.length > this.state.settings.maxDatagramSize) {
        this.ctx.metrics.dropped(settings.name, 'too_large');
        return;
      }
      timer.refresh();
      session.bytesOut += reply.length;
      this.socket.send(reply, rinfo.port, rinfo.address);
    });
    socket.on('error', (err) => {
      route.upstream.outcome(target, false, `udp ${(err as NodeJS.ErrnoException).code ?? err.message}`);
      this.end(key, 'upstream-reset');
    });
    this.sessions.set(key, session);
    this.ctx.metrics.opened(settings.name, route.id);
    return session;
  }

  private end(key: string, end: 'idle-timeout' | 'drained' | 'shutdown' | 'upstream-reset'): void {
    const s = this.sessions.get(key);
    if (s === undefined) return;
    this.sessions.delete(key);
    clearTimeout(s.timer);
    if (s.drainTimer !== undefined) clearTimeout(s.drainTimer);
    s.socket.close();
    s.target.inflight--;
    this.ctx.finished(s.record, { end, bytesIn: s.bytesIn, bytesOut: s.bytesOut });
  }
}
