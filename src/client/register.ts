/**
 * registerInstance: put this process in a Eureka registry (the gateway's, or
 * any Eureka server) and keep its lease, as eureka-js-client does:
 * `POST {registry}/apps/{APP}` with the instance JSON, a heartbeat
 * `PUT {registry}/apps/{APP}/{ID}` every renewalInterval (a 404 means the
 * registry forgot us, e.g. it restarted without a store: register again),
 * and `DELETE {registry}/apps/{APP}/{ID}` on close() so callers stop at once
 * instead of at lease expiry.
 *
 * The default host is the first non-internal IPv4 address. In a container
 * that is the container's own address, which is right on a flat network
 * (Kubernetes pods, a Docker network both sides are on) and wrong behind NAT
 * or a published port: there, set `host` and `port` to what callers dial.
 */
import { networkInterfaces } from 'node:os';
import { pino, type Logger } from 'pino';
import { parseDuration } from '../config/duration.js';
import { eurekaTarget } from '../discovery/eureka.js';
import { Agent } from '../http/undici.js';
import { RegistrationError } from './errors.js';
import { validateRegisterOptions, type RegisterOptionsDoc } from './options.js';
import type { RegisterOptions } from './types.js';

/** Lease is a registration being kept alive. */
export interface Lease {
  /** instanceId is the id registered (host:app:port unless given). */
  readonly instanceId: string;
  /** close stops the heartbeats and deregisters (DELETE); it resolves even when the registry is unreachable. */
  close(): Promise<void>;
}

/** defaultHost returns the first non-internal IPv4 address of this machine (127.0.0.1 when there is none). */
export function defaultHost(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** instanceDocument is the `{ instance }` JSON eureka-js-client sends, for this registration. */
export function instanceDocument(doc: RegisterOptionsDoc, host: string, instanceId: string): { instance: Record<string, unknown> } {
  const app = doc.app.toUpperCase();
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${doc.port}`;
  return {
    instance: {
      instanceId,
      hostName: host,
      app,
      ipAddr: host,
      vipAddress: doc.app.toLowerCase(),
      status: 'UP',
      port: { $: doc.port, '@enabled': 'true' },
      securePort: { $: 443, '@enabled': 'false' },
      homePageUrl: `${base}/`,
      statusPageUrl: `${base}/`,
      ...(doc.healthCheckPath === undefined ? {} : { healthCheckUrl: `${base}${doc.healthCheckPath}` }),
      dataCenterInfo: { '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo', name: 'MyOwn' },
      leaseInfo: { renewalIntervalInSecs: Math.max(1, Math.round(parseDuration(doc.renewalInterval) / 1000)), durationInSecs: Math.max(1, Math.round(parseDuration(doc.leaseDuration) / 1000)) },
      metadata: doc.metadata ?? {},
    },
  };
}

/**
 * registerInstance validates `options` (throwing InvalidOptionsError),
 * registers, and resolves once the registry accepted the registration
 * (RegistrationError when it refuses or cannot be reached).
 */
export async function registerInstance(options: RegisterOptions): Promise<Lease> {
  const { logger, ...data } = options ?? ({} as RegisterOptions);
  const doc = validateRegisterOptions(data);
  const log = (logger ?? pino({ level: 'silent' })).child({ component: 'switchyard-registration', app: doc.app.toUpperCase() });
  const host = doc.host ?? defaultHost();
  const instanceId = doc.instanceId ?? `${host}:${doc.app.toLowerCase()}:${doc.port}`;
  const lease = new Registration(doc, host, instanceId, log);
  await lease.register();
  lease.startHeartbeats();
  return lease;
}

/** Registration is one instance's lease: register, heartbeat, deregister. */
class Registration implements Lease {
  private readonly app: string;
  private readonly target: ReturnType<typeof eurekaTarget>;
  private readonly body: string;
  private readonly timeoutMs: number;
  private readonly agent: Agent;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly doc: RegisterOptionsDoc,
    host: string,
    readonly instanceId: string,
    private readonly log: Logger,
  ) {
    this.app = doc.app.toUpperCase();
    this.target = eurekaTarget(doc.registry, this.app);
    this.body = JSON.stringify(instanceDocument(doc, host, instanceId));
    this.timeoutMs = parseDuration(doc.timeout);
    this.agent = new Agent({ connections: 2, connect: { timeout: this.timeoutMs } });
  }

  /** register POSTs the instance; anything but 2xx is a RegistrationError. */
  async register(): Promise<void> {
    const status = await this.send('POST', this.target.path, this.body).catch((err: unknown) => {
      throw new RegistrationError(this.app, `${this.target.display}: ${(err as Error).message}`, err);
    });
    if (status < 200 || status > 299) throw new RegistrationError(this.app, `${this.target.display} answered ${status}`);
    this.log.info({ instanceId: this.instanceId, registry: this.target.display }, 'registered');
  }

  /** startHeartbeats renews the lease every renewalInterval until close(). */
  startHeartbeats(): void {
    const every = parseDuration(this.doc.renewalInterval);
    const beat = async () => {
      if (this.closed) return;
      await this.heartbeat();
      if (this.closed) return;
      this.timer = setTimeout(() => void beat(), every);
      // The service's own server keeps the process alive, never its lease.
      this.timer.unref();
    };
    this.timer = setTimeout(() => void beat(), every);
    this.timer.unref();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    try {
      const status = await this.send('DELETE', this.instancePath());
      this.log.info({ instanceId: this.instanceId, status }, 'deregistered');
    } catch (err) {
      this.log.warn({ instanceId: this.instanceId, err: (err as Error).message }, 'deregistration failed: the registry drops the instance at lease expiry');
    } finally {
      await this.agent.close().catch(() => undefined);
    }
  }

  /** heartbeat renews the lease; a 404 re-registers; failures are logged and the next beat tries again. */
  private async heartbeat(): Promise<void> {
    try {
      const status = await this.send('PUT', this.instancePath());
      if (status === 404 && !this.closed) {
        this.log.warn({ instanceId: this.instanceId }, 'the registry does not know this instance: registering again');
        await this.register();
      } else if (status < 200 || status > 299) {
        this.log.warn({ instanceId: this.instanceId, status }, 'heartbeat refused');
      }
    } catch (err) {
      this.log.warn({ instanceId: this.instanceId, err: (err as Error).message }, 'heartbeat failed');
    }
  }

  private instancePath(): string {
    return `${this.target.path}/${encodeURIComponent(this.instanceId)}`;
  }

  /** send makes one registry call and resolves with its status (the body is discarded). */
  private async send(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: string): Promise<number> {
    const res = await this.agent.request({
      origin: this.target.origin,
      path,
      method,
      headers: { ...this.target.headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body ?? null,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    await res.body.dump();
    return res.statusCode;
  }
}
