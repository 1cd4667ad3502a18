/**
 * The `eureka` provider: a pool filled from an external Eureka server (a
 * Netflix/Spring Eureka, or another gateway's registry), polled like a
 * Eureka client does: `GET {url}/apps/{APP}` with `Accept: application/json`
 * every `refresh`.
 *
 * What counts as an answer: 200 with Eureka's JSON is the set; 404 means the
 * server knows no such application, which is a real answer (zero instances),
 * not an error. Everything else (refused, timed out, 5xx, 401, a body that
 * is not Eureka's JSON or is larger than `maxBytes`) is a failed refresh: the
 * last known set stays.
 */
import type { Logger } from 'pino';
import { Agent } from '../http/undici.js';
import { parseApplication } from './eureka-json.js';
import { Poller } from './poll.js';
import type { DiscoveryListener, DiscoveryProvider, ProviderState } from './provider.js';
import { errorText, SetReporter, systemClock, type Clock } from './report.js';

/** EurekaProviderOptions configure polling one application of one Eureka server. */
export interface EurekaProviderOptions {
  /** url is the REST base, e.g. http://user:pw@eureka:8761/eureka (userinfo becomes Basic auth). */
  url: string;
  app: string;
  refreshMs: number;
  timeoutMs: number;
  logger: Logger;
  clock?: Clock;
  /** maxBytes caps a response body (default 8 MiB: a few thousand instances). */
  maxBytes?: number;
}

/** EurekaTarget is a parsed base URL: where to send, what to send, and what to print (never the password). */
interface EurekaTarget {
  origin: string;
  path: string;
  headers: Record<string, string>;
  display: string;
}

/** eurekaTarget splits the configured url into the request and its Basic credentials. */
export function eurekaTarget(base: string, app: string): EurekaTarget {
  const u = new URL(base);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (u.username !== '' || u.password !== '') {
    const creds = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
    headers.authorization = `Basic ${Buffer.from(creds).toString('base64')}`;
  }
  const prefix = u.pathname.replace(/\/+$/, '');
  return { origin: u.origin, path: `${prefix}/apps/${encodeURIComponent(app)}`, headers, display: `${u.origin}${prefix}` };
}

/** EurekaProvider polls one application of an external Eureka server. */
export class EurekaProvider implements DiscoveryProvider {
  private readonly target: EurekaTarget;
  private readonly reporter: SetReporter;
  private readonly clock: Clock;
  private readonly maxBytes: number;
  private readonly poller: Poller;
  private agent: Agent | undefined;

  constructor(private readonly options: EurekaProviderOptions) {
    const app = options.app.toUpperCase();
    this.target = eurekaTarget(options.url, app);
    this.clock = options.clock ?? systemClock;
    this.maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
    this.reporter = new SetReporter('eureka', `${app} at ${this.target.display}`, options.logger, this.clock);
    this.poller = new Poller(
      (signal) => this.refresh(signal),
      (err) => this.reporter.fail(errorText(err)),
      options.refreshMs,
    );
  }

  /** start polls at once, then every refresh. */
  start(listener: DiscoveryListener): void {
    if (this.reporter.active) return;
    this.reporter.listen(listener);
    // One agent per run: stop() destroys it, which ends any socket it holds.
    this.agent = new Agent({ connections: 1, keepAliveTimeout: Math.min(this.options.refreshMs * 2, 60_000), connect: { timeout: this.options.timeoutMs } });
    this.poller.start();
  }

  /** stop ends polling, aborts a poll in flight and closes the connection; idempotent. */
  stop(): void {
    this.reporter.listen(undefined);
    this.poller.stop();
    void this.agent?.destroy().catch(() => undefined);
    this.agent = undefined;
  }

  /** state describes the provider now. */
  state(): ProviderState {
    return this.reporter.state();
  }

  private async refresh(signal: AbortSignal): Promise<number> {
    try {
      const body = await this.fetchApplication(signal);
      if (signal.aborted) return this.options.refreshMs;
      this.reporter.succeed(body === undefined ? [] : parseApplication(body, this.clock.now()));
    } catch (err) {
      if (!signal.aborted) this.reporter.fail(errorText(err));
    }
    return this.options.refreshMs;
  }

  /** fetchApplication resolves the parsed JSON, or undefined for a 404 (no such application). */
  private async fetchApplication(signal: AbortSignal): Promise<unknown> {
    const agent = this.agent;
    if (agent === undefined) throw new Error('discovery stopped');
    // Our own timer, cleared when the poll ends, so a stopped provider leaves no timer behind.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new Error(`timed out after ${this.options.timeoutMs}ms`)), this.options.timeoutMs);
    try {
      return await this.get(agent, AbortSignal.any([signal, deadline.signal]));
    } finally {
      clearTimeout(timer);
    }
  }

  private async get(agent: Agent, signal: AbortSignal): Promise<unknown> {
    const res = await agent.request({
      origin: this.target.origin,
      path: this.target.path,
      method: 'GET',
      headers: this.target.headers,
      signal,
      headersTimeout: this.options.timeoutMs,
      bodyTimeout: this.options.timeoutMs,
    });
    if (res.statusCode === 404) {
      await res.body.dump();
      return undefined;
    }
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`status ${res.statusCode} from ${this.target.display}`);
    }
    let size = 0;
    const chunks: Buffer[] = [];
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > this.maxBytes) {
        res.body.destroy();
        throw new Error(`response larger than ${this.maxBytes} bytes from ${this.target.display}`);
      }
      chunks.push(chunk);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    } catch {
      throw new Error(`response is not JSON from ${this.target.display}`);
    }
  }
}
