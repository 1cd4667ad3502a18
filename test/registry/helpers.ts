/**
 * Shared parts of the registry tests: a registry on a free loopback port with
 * short leases (renewal 200 ms, expiry 1.5 s), registration bodies as Eureka
 * clients write them, the real eureka-js-client, and a live node:http service
 * for it to register.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import pino from 'pino';
import { startRegistry, type InstanceStore, type RegistryMetrics, type RunningRegistry } from '../../src/registry/index.js';

/** silent is a logger that writes nothing. */
export const silent = pino({ level: 'silent' });

/** FAST are lease settings short enough for tests (each test may override). */
export const FAST = {
  listen: { host: '127.0.0.1', port: 0 },
  lease: { renewal: '200ms', expiry: '1500ms', evictEvery: '100ms' },
  selfPreservation: { threshold: 0.85, window: '1s' },
  store: { syncEvery: '200ms' },
};

/** TestRegistry is a running registry and its base URL (http://127.0.0.1:port/eureka). */
export interface TestRegistry extends RunningRegistry {
  readonly base: string;
}

/** startTestRegistry starts a registry with FAST settings merged with `overrides`. */
export async function startTestRegistry(overrides: Record<string, unknown> = {}, extra: { store?: InstanceStore; metrics?: RegistryMetrics; redisUrl?: string } = {}): Promise<TestRegistry> {
  const running = await startRegistry({ options: { ...FAST, ...overrides }, log: silent, ...extra });
  return Object.assign(running, { base: `http://127.0.0.1:${running.port}/eureka` });
}

/** body builds a registration as eureka-js-client sends it (port as {$, @enabled}). */
export function body(app: string, id: string, over: Record<string, unknown> = {}): { instance: Record<string, unknown> } {
  return {
    instance: {
      instanceId: id,
      app,
      hostName: 'localhost',
      ipAddr: '127.0.0.1',
      status: 'UP',
      port: { $: 8080, '@enabled': true },
      vipAddress: app.toLowerCase(),
      dataCenterInfo: { '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo', name: 'MyOwn' },
      ...over,
    },
  };
}

/** call sends one request; JSON bodies are encoded, JSON answers decoded. */
export async function call(method: string, url: string, opts: { body?: unknown; raw?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: Headers; json: any; text: string }> {
  const payload = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  const res = await fetch(url, {
    method,
    headers: { accept: 'application/json', ...(payload !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers },
    ...(payload !== undefined ? { body: payload } : {}),
  });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** ids lists the instance ids of GET /apps, sorted. */
export async function listedIds(base: string, headers: Record<string, string> = {}): Promise<string[]> {
  const r = await call('GET', `${base}/apps/`, { headers });
  return (r.json?.applications?.application ?? []).flatMap((a: any) => a.instance.map((i: any) => i.instanceId)).sort();
}

/** startService starts a live node:http service on a free loopback port. */
export async function startService(name: string): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => res.end(name));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
}

const require = createRequire(import.meta.url);
/** Eureka is eureka-js-client's client class (a CommonJS module). */
export const Eureka = require('eureka-js-client').Eureka as new (config: object) => EurekaClient;

/** EurekaClient is the part of eureka-js-client the tests use. */
export interface EurekaClient {
  start(cb: (err?: Error) => void): void;
  stop(cb: (err?: Error) => void): void;
  on(event: string, cb: () => void): void;
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** eurekaClient configures the real client as a service would: its own instance, the registry's URL, short intervals. */
export function eurekaClient(o: { url: string; app: string; instanceId: string; port: number; heartbeatMs?: number }): EurekaClient {
  return new Eureka({
    logger: quiet,
    instance: {
      app: o.app,
      instanceId: o.instanceId,
      hostName: 'localhost',
      ipAddr: '127.0.0.1',
      port: { $: o.port, '@enabled': true },
      vipAddress: o.app.toLowerCase(),
      statusPageUrl: `http://127.0.0.1:${o.port}/info`,
      dataCenterInfo: { '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo', name: 'MyOwn' },
    },
    eureka: { serviceUrls: { default: [o.url] }, heartbeatInterval: o.heartbeatMs ?? 200, registryFetchInterval: 60_000, fetchRegistry: false, maxRetries: 0 },
  });
}

/** started resolves when the client has registered (rejects on its error). */
export function started(c: EurekaClient): Promise<void> {
  return new Promise((resolve, reject) => c.start((err) => (err ? reject(err) : resolve())));
}

/** stopped resolves when the client has deregistered. */
export function stopped(c: EurekaClient): Promise<void> {
  return new Promise((resolve, reject) => c.stop((err) => (err ? reject(err) : resolve())));
}

/** Heartbeater renews one instance every `ms` with plain PUTs, as a client's heartbeat loop would. */
export interface Heartbeater {
  start(): void;
  stop(): void;
  /** statuses counts the answers by status code. */
  readonly statuses: Map<number, number>;
}

/** heartbeater makes a Heartbeater for one instance (started). */
export function heartbeater(base: string, app: string, id: string, ms: number): Heartbeater {
  let timer: NodeJS.Timeout | undefined;
  const statuses = new Map<number, number>();
  const beat = () =>
    fetch(`${base}/apps/${app}/${id}`, { method: 'PUT' })
      .then((r) => {
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        return r.arrayBuffer();
      })
      .catch(() => statuses.set(0, (statuses.get(0) ?? 0) + 1));
  const hb: Heartbeater = {
    statuses,
    start: () => {
      timer ??= setInterval(beat, ms);
    },
    stop: () => {
      clearInterval(timer);
      timer = undefined;
    },
  };
  hb.start();
  return hb;
}
