/**
 * createClient: Ribbon for Node services. The options are validated and
 * compiled once; each application gets its pool (AppPool) on the first call
 * to it, kept until close(). A call only looks its pool up, picks and sends.
 */
import { pino, type Logger } from 'pino';
import type { Registry } from 'prom-client';
import { AppPool } from './app-pool.js';
import { call, type CallSettings, type ClientResponse, type RequestOptions } from './call.js';
import { ClientClosedError, InvalidOptionsError } from './errors.js';
import { ConfigError } from '../config/errors.js';
import { lbFetch } from './fetch.js';
import { isRegistry, NO_METRICS, promMetrics } from './metrics.js';
import { validateClientOptions, type ClientOptionsDoc } from './options.js';
import { appSource, describeSource, durationMs, staticProvider, type AppSource } from './sources.js';
import type { ClientOptions } from './types.js';

/** Client calls the instances of other applications. */
export interface Client {
  /** request calls `app` (case-insensitive) and resolves with undici's response once its headers arrive. */
  request(app: string, options: RequestOptions): Promise<ClientResponse>;
  /** fetch is WHATWG fetch for `lb://app/path` URLs (other URLs go to the global fetch). */
  fetch(input: string | URL | Request, init?: RequestInit & { from?: RequestOptions['from'] }): Promise<Response>;
  /** close stops discovery and closes every connection; calls made afterwards throw ClientClosedError. */
  close(): Promise<void>;
}

/** createClient validates `options` (throwing InvalidOptionsError) and returns a Client; nothing is contacted before the first call. */
export function createClient(options: ClientOptions): Client {
  const { logger, metrics, ...data } = options ?? ({} as ClientOptions);
  const objectErrors: ConfigError[] = [];
  if (logger !== undefined && typeof (logger as Partial<Logger>).child !== 'function') objectErrors.push(optionError('logger', 'expected a pino logger (an object with child())'));
  if (metrics !== undefined && !isRegistry(metrics)) objectErrors.push(optionError('metrics', 'expected a prom-client Registry'));
  let doc: ClientOptionsDoc;
  try {
    doc = validateClientOptions(data);
  } catch (err) {
    if (err instanceof InvalidOptionsError && objectErrors.length > 0) throw new InvalidOptionsError([...err.errors, ...objectErrors]);
    throw err;
  }
  if (objectErrors.length > 0) throw new InvalidOptionsError(objectErrors);
  return new SwitchyardClient(doc, (logger ?? pino({ level: 'silent' })).child({ component: 'switchyard-client' }), metrics);
}

function optionError(path: string, message: string): ConfigError {
  return new ConfigError({ file: 'createClient options', line: 0, col: 0, path, message });
}

/** SwitchyardClient is the Client createClient returns. */
class SwitchyardClient implements Client {
  private readonly pools = new Map<string, AppPool>();
  private readonly source: AppSource;
  private readonly settings: CallSettings;
  private closed = false;

  constructor(
    private readonly doc: ClientOptionsDoc,
    private readonly log: Logger,
    registry: Registry | undefined,
  ) {
    this.source = appSource(doc.discovery);
    this.settings = {
      retryAttempts: doc.retry.attempts,
      retryOn: new Set(doc.retry.on),
      responseTimeoutMs: durationMs(doc.timeouts.response),
      idleTimeoutMs: durationMs(doc.timeouts.idle),
      metrics: registry === undefined ? NO_METRICS : promMetrics(registry),
    };
    log.debug({ discovery: describeSource(doc.discovery), balancer: doc.balancer }, 'client created');
  }

  request(app: string, options: RequestOptions): Promise<ClientResponse> {
    let pool: AppPool;
    try {
      pool = this.pool(app);
    } catch (err) {
      return Promise.reject(err);
    }
    // The common case (the pool has its instances) adds no await of its own.
    if (pool.isReady) return call(pool, options, this.settings);
    return pool.ready().then(() => {
      if (this.closed) throw new ClientClosedError();
      return call(pool, options, this.settings);
    });
  }

  fetch(input: string | URL | Request, init?: RequestInit & { from?: RequestOptions['from'] }): Promise<Response> {
    return lbFetch((app, opts) => this.request(app, opts), input, init);
  }

  async close(): Promise<void> {
    this.closed = true;
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.close()));
  }

  /** pool returns the application's pool, creating and starting it on the first call. */
  private pool(app: string): AppPool {
    if (this.closed) throw new ClientClosedError();
    const name = app.toUpperCase();
    let pool = this.pools.get(name);
    if (pool === undefined) {
      const logger = this.log.child({ app: name });
      pool = new AppPool({
        app: name,
        doc: this.doc,
        provider: this.source(name, logger),
        fallback: staticProvider(this.doc.fallback?.targets, name, logger),
        logger,
        metrics: this.settings.metrics,
      });
      this.pools.set(name, pool);
      pool.start();
    }
    return pool;
  }
}
