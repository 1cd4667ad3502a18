/**
 * One server of an upstream pool at run time: its connection pool, its load
 * (in-flight requests and WebSockets) and its health as the checkers report it.
 * A Target outlives reloads that do not change it, so its connections, health
 * and counters carry over.
 */
import { Pool } from '../http/undici.js';
import { socketHost } from '../http/host.js';
import type { Balanceable } from '../balancing/balancer.js';
import type { InstanceStatus } from '../discovery/provider.js';

/** TargetPoolOptions configures the connection pool to one target. */
export interface TargetPoolOptions {
  connections: number;
  pipelining: number;
  keepAliveMs: number;
  connectTimeoutMs: number;
  tls: { verify: boolean; ca?: string | Buffer; servername?: string };
}

/** TargetState is a target's place in the rotation; `down` is a discovered instance its source says takes no traffic (Eureka DOWN, STARTING). */
export type TargetState = 'healthy' | 'unhealthy' | 'ejected' | 'draining' | 'down';

/**
 * targetId is a target URL's identity in its pool: its origin, and for
 * tcp:// and udp:// (whose URL origin is "null") scheme://host:port.
 */
export function targetId(url: URL): string {
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : `${url.protocol}//${url.host}`;
}

/** Target is one server of a pool, shared by every configuration version that names it unchanged. */
export class Target implements Balanceable {
  /** id is the target URL's origin (scheme://host:port, see targetId), unique within its pool. */
  readonly id: string;
  readonly url: URL;
  /** hostPort is what the upstream sees as Host when the pool sends the target's host. */
  readonly hostPort: string;
  /** dialHost and dialPort are what a stream connects (or sends datagrams) to, worked out once, not per connection. */
  readonly dialHost: string;
  readonly dialPort: number;
  private readonly httpPool: Pool | undefined = undefined;
  /** stream is true for tcp:// and udp:// targets (stream routes), which have no HTTP pool. */
  readonly stream: boolean;
  /** index is the target's position in its pool's `targets` list (admin API addresses targets by it). */
  index: number;
  weight: number;
  /** inflight counts requests in progress and open WebSockets. */
  inflight = 0;
  /** openWebSockets counts upgraded connections (also included in inflight). */
  openWebSockets = 0;
  /** activeHealthy is the verdict of active health checks (true when none are configured). */
  activeHealthy = true;
  /** ejectedUntil is the epoch ms until which passive detection keeps it out (0 = not ejected). */
  ejectedUntil = 0;
  /** draining targets take no new requests but finish their in-flight ones. */
  draining = false;
  /** readySince is when it last entered the rotation (slow start measures from here). */
  readySince = 0;
  /** source says where a discovered target came from ("registry ORDERS i-1, lease 3s"); undefined for a configured one. */
  source: string | undefined = undefined;
  /** sourceStatus is the status its discovery source reports (`up` for configured targets); only `up` takes new requests. */
  sourceStatus: InstanceStatus = 'up';
  /** retiring marks a target discovery removed: draining until its in-flight requests end, then closed and dropped. */
  retiring = false;
  /** Counters for the admin API and metrics. */
  requests = 0;
  failures = 0;

  constructor(
    url: URL,
    weight: number,
    index: number,
    /** poolKey identifies the pool options, so a reload that changes them rebuilds the target. */
    readonly poolKey: string,
    options: TargetPoolOptions,
  ) {
    this.url = url;
    this.id = targetId(url);
    this.hostPort = url.host;
    this.dialHost = socketHost(url);
    this.dialPort = Number(url.port);
    this.weight = weight;
    this.index = index;
    this.stream = url.protocol === 'tcp:' || url.protocol === 'udp:';
    if (this.stream) return;
    this.httpPool = new Pool(url.origin, {
      connections: options.connections,
      pipelining: options.pipelining,
      keepAliveTimeout: options.keepAliveMs,
      keepAliveMaxTimeout: options.keepAliveMs,
      // Front door: never trust a server hint to hold idle sockets longer than configured.
      keepAliveTimeoutThreshold: 1000,
      connect: {
        timeout: options.connectTimeoutMs,
        rejectUnauthorized: options.tls.verify,
        ...(options.tls.ca ? { ca: options.tls.ca } : {}),
        ...(options.tls.servername ? { servername: options.tls.servername } : {}),
      },
      // Responses are streamed, never buffered: no size cap here, the client's pace rules.
      strictContentLength: true,
    });
  }

  /**
   * pool is the keep-alive connection pool to an HTTP target. A stream target
   * (tcp://, udp://) has none: each client connection gets its own upstream
   * connection (src/streams/).
   */
  get pool(): Pool {
    if (this.httpPool === undefined) throw new Error(`target ${this.id} is a stream target: it has no HTTP connection pool`);
    return this.httpPool;
  }

  /** state summarizes the target for the admin API. */
  state(now: number): TargetState {
    if (this.draining || this.sourceStatus === 'draining') return 'draining';
    if (this.sourceStatus === 'down') return 'down';
    if (!this.activeHealthy) return 'unhealthy';
    if (this.ejectedUntil > now) return 'ejected';
    return 'healthy';
  }

  /** eligible tells whether it may take new requests now. */
  eligible(now: number): boolean {
    return this.inRotation() && this.activeHealthy && this.ejectedUntil <= now;
  }

  /** inRotation tells whether it may take new requests at all, health aside: not drained (by an operator or its source), not down. */
  inRotation(): boolean {
    return !this.draining && this.sourceStatus === 'up';
  }

  /** close closes its connections (after in-flight requests end). */
  async close(): Promise<void> {
    await this.httpPool?.close().catch(() => undefined);
  }
}
