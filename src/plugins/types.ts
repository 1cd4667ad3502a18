/**
 * The plugin SDK's types. A plugin is a schema plus hooks; it is created once
 * per place it is used (global chain or a route), with options validated and
 * defaulted at load, and gets everything it needs through a PluginContext.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { IncomingHttpHeaders } from 'node:http';
import type { Store } from '../stores/store.js';
import type { ErrorCode } from '../errors.js';
import type { Clock } from '../process/clock.js';

// The SDK names the gateway's one Clock, so plugins and the core share it.
export type { Clock };

/** PluginMetrics lets a plugin count things without knowing the metrics backend. */
export interface PluginMetrics {
  /** count increments a named counter (e.g. 'rate_limited', 'auth_rejected') with labels. */
  count(name: string, labels?: Record<string, string>): void;
}

/** PluginContext is what a plugin receives when it is created. */
export interface PluginContext {
  /** log is a child logger bound to the plugin (and route, for route-level plugins). */
  readonly log: Logger;
  /** store is the shared key/value store: Redis when configured, else the embedded one (the only way plugins reach Redis, so every plugin gets the same fault tolerance). */
  readonly store: Store;
  /** metrics counts plugin events in the gateway's metrics. */
  readonly metrics: PluginMetrics;
  /** clock is the gateway's clock: use it, not Date.now(), so tests can move time. */
  readonly clock: Clock;
  /** routeId is the route this instance serves (undefined for the global chain). */
  readonly routeId: string | undefined;
  /** baseDir is the directory of gateway.yaml (resolve relative file options against it). */
  readonly baseDir: string;
}

/** PluginRequest is the request as plugins see it. */
export interface PluginRequest {
  readonly id: string;
  readonly method: string;
  /** path is the normalized path (what routing matched and what the upstream will see, before stripPrefix). */
  readonly path: string;
  readonly rawQuery: string;
  /** headers are the client's request headers (lower-case names). */
  readonly headers: IncomingHttpHeaders;
  /** rawHeaders are the request headers as received, [name, value, ...] (`headers` keeps only the first of duplicated ones such as Authorization). */
  readonly rawHeaders: readonly string[];
  readonly clientIp: string;
  /** secure is true when the client connection is TLS. */
  readonly secure: boolean;
  readonly routeId: string;
  readonly upstream: string;
  /** cookie returns a request cookie by name (parsed once, lazily). */
  cookie(name: string): string | undefined;
  /** setUpstreamHeader sets a header on the request sent upstream (replacing client copies). */
  setUpstreamHeader(name: string, value: string): void;
  /** removeUpstreamHeader drops a client header before proxying. */
  removeUpstreamHeader(name: string): void;
  /** locals carries per-request data between plugins (e.g. verified JWT claims). */
  readonly locals: Record<string, unknown>;
}

/** PluginResponse is the response on its way to the client; hooks may change status and headers. */
export interface PluginResponse {
  status: number;
  /** headers are lower-case names; values may be arrays (set-cookie). */
  readonly headers: Record<string, string | string[] | undefined>;
  /** fromUpstream is false when the gateway or a plugin produced the response. */
  readonly fromUpstream: boolean;
}

/** Answer is a response a plugin produces itself, so the request never reaches the upstream. */
export interface Answer {
  status: number;
  headers?: Record<string, string | string[]>;
  /** body is sent as is (string/Buffer) or as JSON (object). */
  body?: string | Buffer | object;
  /** code names a catalog error: the body becomes the standard JSON error body. */
  code?: ErrorCode;
}

/** Awaitable is a value or a promise of it: synchronous hooks cost no microtask. */
export type Awaitable<T> = T | Promise<T>;

/** PluginHooks are the links a plugin adds to the chain; all optional. */
export interface PluginHooks {
  /** onRequest runs before proxying; returning an Answer ends the request there. */
  onRequest?(req: PluginRequest): Awaitable<Answer | void>;
  /** onResponse runs before the response headers go to the client. */
  onResponse?(req: PluginRequest, res: PluginResponse): Awaitable<void>;
  /** onUpgrade runs for WebSocket upgrades (defaults to onRequest). */
  onUpgrade?(req: PluginRequest): Awaitable<Answer | void>;
  /** ownsHeaders lists request headers this plugin sets upstream: client copies are always removed, so identity cannot be spoofed. */
  ownsHeaders?: readonly string[];
  /** close releases resources when the configuration that created it is retired. */
  close?(): Awaitable<void>;
  /** bodyLimit is a per-route request body limit in bytes; the core enforces the smallest one in a route's chain on the streamed body. */
  bodyLimit?: number;
}

/** PluginDefinition is what definePlugin returns and what the loader registers. */
export interface PluginDefinition<S extends TSchema = TSchema> {
  readonly name: string;
  readonly description?: string;
  readonly options: S;
  create(options: Static<S>, ctx: PluginContext): Awaitable<PluginHooks>;
}
