/**
 * The stream listeners of a gateway, by name: started at listen(), given each
 * new configuration on reload, stopped at close(). A reload swaps each
 * listener's routes and settings for the next connection; connections on a
 * pool the new configuration no longer uses get drainTimeout, then are cut;
 * a listener removed from gateway.yaml stops accepting and drains; a new one
 * starts. A changed address or protocol keeps the running listener (with the
 * new routes) until a restart, and restartNotices says so.
 */
import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/load.js';
import type { GatewayDoc } from '../config/schema.js';
import type { Upstream } from '../upstream/upstream.js';
import { parseDuration } from '../config/duration.js';
import type { StreamContext } from './context.js';
import { compileProxyAccept } from './proxy-in.js';
import { buildStreamRoutes } from './route-table.js';
import { listenerSettings, type ListenerSettings } from './settings.js';
import { TcpStreamListener, type ListenerState } from './tcp-listener.js';
import { UdpStreamListener } from './udp-listener.js';

/** StreamListener is what the manager needs of a tcp or udp listener. */
export interface StreamListener {
  state: ListenerState;
  readonly port: number;
  readonly open: number;
  listen(): Promise<number>;
  drainRetired(live: ReadonlySet<Upstream>): void;
  close(capMs?: number, reason?: 'drained' | 'shutdown'): Promise<void>;
}

/** StreamListenFailed says which stream listener could not bind (the gateway renders it with the config position). */
export class StreamListenFailed extends Error {
  override readonly name = 'StreamListenFailed';
  constructor(
    readonly listener: string,
    readonly host: string,
    readonly port: number,
    cause: unknown,
  ) {
    super(`stream listener "${listener}" cannot listen on ${host}:${port}: ${(cause as Error).message}`, { cause });
  }
}

/** StreamNotice is a stream setting that waits for a restart (same shape as the gateway's RestartNotice). */
export interface StreamNotice {
  key: string;
  running: unknown;
  configured: unknown;
}

/** RESTART_FIELDS are the listener settings a running listener cannot change. */
const RESTART_FIELDS = ['host', 'port', 'protocol'] as const;

function settingsOf(gateway: GatewayDoc): Map<string, ListenerSettings> {
  return new Map(Object.entries(gateway.streams ?? {}).map(([name, doc]) => [name, listenerSettings(name, doc)]));
}

function createListener(state: ListenerState, ctx: StreamContext): StreamListener {
  return state.settings.protocol === 'udp' ? new UdpStreamListener(state, ctx) : new TcpStreamListener(state, ctx);
}

/** Streams runs every stream listener of one gateway. */
export class Streams {
  private readonly listeners = new Map<string, StreamListener>();
  /** draining are listeners removed by a reload, until their last connection closes. */
  private readonly draining = new Set<Promise<void>>();

  constructor(
    private readonly ctx: StreamContext,
    private readonly log: Logger,
  ) {}

  /** start builds and binds every listener of the configuration; on a bind failure the ones started are closed and StreamListenFailed is thrown. */
  async start(loaded: LoadedConfig, upstreams: ReadonlyMap<string, Upstream>): Promise<void> {
    this.acceptProxyAs(loaded.gateway);
    const routes = buildStreamRoutes(loaded, upstreams);
    for (const [name, settings] of settingsOf(loaded.gateway)) {
      const listener = createListener({ settings, routes: routes.get(name)! }, this.ctx);
      try {
        await listener.listen();
      } catch (err) {
        await this.close();
        throw new StreamListenFailed(name, settings.host, settings.port, err);
      }
      this.listeners.set(name, listener);
      this.log.info({ listener: name, protocol: settings.protocol, host: settings.host, port: listener.port, routes: routes.get(name)!.routes.map((r) => r.id) }, 'stream listener started');
    }
  }

  /**
   * acceptProxyAs sets the PROXY protocol policy from the gateway.yaml the
   * process started with: proxyProtocol is start-only (restart-required.ts),
   * like on the HTTP listener, also for listeners a reload adds.
   */
  acceptProxyAs(started: GatewayDoc): void {
    const pp = started.proxyProtocol?.accept;
    this.ctx.proxyAccept = compileProxyAccept(pp && { from: pp.from, versions: pp.versions, timeoutMs: parseDuration(pp.timeout) });
  }

  /** apply gives every listener the new configuration (see the file comment). */
  async apply(loaded: LoadedConfig, upstreams: ReadonlyMap<string, Upstream>): Promise<void> {
    const routes = buildStreamRoutes(loaded, upstreams);
    const next = settingsOf(loaded.gateway);
    const live = new Set(upstreams.values());
    for (const [name, listener] of this.listeners) {
      const settings = next.get(name);
      if (settings === undefined) {
        this.listeners.delete(name);
        this.log.info({ listener: name, open: listener.open }, 'stream listener removed: it stops accepting and drains');
        const closing = listener.close(Infinity, 'drained').finally(() => this.draining.delete(closing));
        this.draining.add(closing);
        continue;
      }
      const running = listener.state.settings;
      // A listener cannot change what it speaks: it keeps its whole configuration until a restart (restartNotices says so).
      if (settings.protocol !== running.protocol) continue;
      // The address stays as bound (restartNotices reports the difference); everything else applies to the next connection.
      listener.state = { settings: { ...settings, host: running.host, port: running.port }, routes: routes.get(name)! };
      listener.drainRetired(live);
    }
    for (const [name, settings] of next) {
      if (this.listeners.has(name)) continue;
      const listener = createListener({ settings, routes: routes.get(name)! }, this.ctx);
      try {
        await listener.listen();
        this.listeners.set(name, listener);
        this.log.info({ listener: name, protocol: settings.protocol, port: listener.port }, 'stream listener added');
      } catch (err) {
        this.log.error({ err: new StreamListenFailed(name, settings.host, settings.port, err) }, 'stream listener could not start; it is retried at the next reload');
      }
    }
  }

  /** restartNotices lists the listeners whose configured address or protocol differs from the running one. */
  restartNotices(next: GatewayDoc): StreamNotice[] {
    const out: StreamNotice[] = [];
    for (const [name, settings] of settingsOf(next)) {
      const running = this.listeners.get(name)?.state.settings;
      if (running === undefined) continue;
      for (const f of RESTART_FIELDS) {
        if (running[f] !== settings[f]) out.push({ key: `streams.${name}.${f === 'protocol' ? 'protocol' : `listen.${f}`}`, running: running[f], configured: settings[f] });
      }
    }
    return out;
  }

  /** ports maps each running listener to its bound port. */
  ports(): Record<string, number> {
    return Object.fromEntries([...this.listeners].map(([name, l]) => [name, l.port]));
  }

  /**
   * describe lists the running listeners for the admin API (/config), the
   * dashboard and explain: open connections (udp: sessions) now; `total`,
   * `refused` and the bytes each way of the connections ended since start.
   */
  describe(): Array<{ name: string; protocol: string; host: string; port: number; open: number; total: number; refused: number; bytesIn: number; bytesOut: number; routes: string[] }> {
    return [...this.listeners].map(([name, l]) => {
      const t = this.ctx.totals.get(name);
      return {
        name,
        protocol: l.state.settings.protocol,
        host: l.state.settings.host,
        port: l.port,
        open: l.open,
        total: t?.connections ?? 0,
        refused: t?.refused ?? 0,
        bytesIn: t?.bytesIn ?? 0,
        bytesOut: t?.bytesOut ?? 0,
        routes: l.state.routes.routes.map((r) => r.id),
      };
    });
  }

  /** close stops every listener; open connections get drainTimeout (at most `capMs`, the shutdownTimeout), then are cut. */
  async close(capMs?: number): Promise<void> {
    const all = [...this.listeners.values()].map((l) => l.close(capMs));
    this.listeners.clear();
    await Promise.all([...all, ...this.draining]);
  }
}
