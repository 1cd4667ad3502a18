/**
 * Sources for the discovery tests, one per provider, behind one Harness
 * shape so the conformance suite runs the same specification against each:
 * an in-memory RegistrySource, a fake Eureka server (a real HTTP server on
 * a loopback port), and dnsmasq serving A and SRV records.
 */
import type { Logger } from 'pino';
import { pino } from 'pino';
import { startUpstream, type TestUpstream } from '../../src/testing/index.js';
import type { DiscoveredInstance, DiscoveryProvider, RegistryInstance, RegistrySource } from '../../src/discovery/index.js';
import { DnsProvider, DnsSrvProvider, EurekaProvider, RegistryProvider, StaticProvider } from '../../src/discovery/index.js';
import { startDnsmasq, type TestDnsmasq } from '../helpers/dnsmasq.js';

/** quiet is a logger that writes nothing. */
export const quiet: Logger = pino({ level: 'silent' });

/** urls lists a set's urls, sorted. */
export const urls = (set: readonly DiscoveredInstance[] | undefined) => (set ?? []).map((i) => i.url).sort();

/** FakeRegistry is a RegistrySource whose contents the test sets; `broken` makes reads throw (a store down). */
export class FakeRegistry implements RegistrySource {
  private readonly byApp = new Map<string, RegistryInstance[]>();
  private readonly listeners = new Set<(app: string) => void>();
  broken = false;
  reads = 0;

  instances(app: string): readonly RegistryInstance[] {
    this.reads++;
    if (this.broken) throw new Error('store unavailable');
    return this.byApp.get(app.toUpperCase()) ?? [];
  }
  onChange(listener: (app: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  apps(): readonly string[] {
    return [...this.byApp.keys()];
  }
  get subscribers(): number {
    return this.listeners.size;
  }
  /** set replaces an application's instances and announces the change (also when nothing changed: a heartbeat-like no-op). */
  set(app: string, list: Array<Partial<RegistryInstance> & { url: string }>): void {
    this.byApp.set(
      app.toUpperCase(),
      list.map((i, n) => ({ app: app.toUpperCase(), instanceId: `i-${n}`, status: 'UP', weight: 1, lastRenewedAt: Date.now(), registeredAt: Date.now(), metadata: {}, ...i })),
    );
    this.announce(app);
  }
  announce(app: string): void {
    for (const l of this.listeners) l(app);
  }
}

/** EurekaInstanceJson is one instance as Eureka's JSON writes it. */
export function eurekaInstance(ip: string, port: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    instanceId: `${ip}:${port}`,
    hostName: 'localhost',
    app: 'ORDERS',
    ipAddr: ip,
    status: 'UP',
    port: { $: port, '@enabled': 'true' },
    securePort: { $: 443, '@enabled': 'false' },
    metadata: { '@class': 'java.util.Collections$EmptyMap' },
    leaseInfo: { renewalIntervalInSecs: 30, durationInSecs: 90, lastRenewalTimestamp: Date.now() },
    ...extra,
  };
}

/** FakeEureka is an HTTP server answering `GET /eureka/apps/{APP}` like Eureka does. */
export interface FakeEureka {
  readonly server: TestUpstream;
  readonly url: string;
  /** instances answered for ORDERS (an array, or one object as Eureka writes a list of one). */
  instances: unknown;
  /** mode: 'ok' answers 200, 'missing' 404, 'error' 500, 'garbage' 200 with a non-JSON body. */
  mode: 'ok' | 'missing' | 'error' | 'garbage';
  /** polls counts GETs of the application. */
  polls(): number;
  close(): Promise<void>;
}

/** startFakeEureka starts a fake Eureka server; `auth` makes it demand that Basic credential. */
export async function startFakeEureka(opts: { auth?: string } = {}): Promise<FakeEureka> {
  const state: { instances: unknown; mode: FakeEureka['mode'] } = { instances: [], mode: 'ok' };
  const server = await startUpstream('eureka', (req, res) => {
    if (opts.auth !== undefined && req.headers.authorization !== `Basic ${Buffer.from(opts.auth).toString('base64')}`) {
      res.writeHead(401).end();
      return;
    }
    const m = /^\/eureka\/apps\/([^/?]+)$/.exec(req.url ?? '');
    if (req.method !== 'GET' || m === null || m[1] !== 'ORDERS' || state.mode === 'missing') {
      res.writeHead(404).end();
      return;
    }
    if (state.mode === 'error') {
      res.writeHead(500).end('oops');
      return;
    }
    const body = state.mode === 'garbage' ? '<html>' : JSON.stringify({ application: { name: 'ORDERS', instance: state.instances } });
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  return {
    server,
    url: `${server.url}/eureka`,
    get instances() {
      return state.instances;
    },
    set instances(v) {
      state.instances = v;
    },
    get mode() {
      return state.mode;
    },
    set mode(v) {
      state.mode = v;
    },
    polls: () => server.hits((r) => r.url === '/eureka/apps/ORDERS'),
    close: () => server.close(),
  };
}

/** Harness drives one provider's source through the conformance scenarios. */
export interface Harness {
  provider: DiscoveryProvider;
  /** urlsA is the first set the provider must report; setB changes the source to urlsB. */
  urlsA: string[];
  urlsB: string[];
  setB(): Promise<void>;
  /** refreshed resolves once the provider has answered again (an identical refresh). */
  refreshed(): Promise<void>;
  /** breakSource makes refreshes fail; repair undoes it (undefined: a source that cannot fail, e.g. a fixed list). */
  breakSource: (() => Promise<void>) | undefined;
  repair: (() => Promise<void>) | undefined;
  close(): Promise<void>;
}

/** waitForSuccess waits until the provider's lastSuccessAt moves past `since`, twice (one full refresh after the call). */
async function nextSuccesses(p: DiscoveryProvider, n = 2): Promise<void> {
  for (let i = 0; i < n; i++) {
    const since = p.state().lastSuccessAt;
    const deadline = Date.now() + 5000;
    while (p.state().lastSuccessAt === since) {
      if (Date.now() > deadline) throw new Error('the provider did not refresh within 5s');
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

const DNS_TIMING = { minTtlMs: 20, maxTtlMs: 1000, refreshMs: undefined };

/** HARNESSES builds each provider with a source of its own, in the states the conformance suite needs. */
export const HARNESSES: Record<string, () => Promise<Harness>> = {
  registry: async () => {
    const source = new FakeRegistry();
    source.set('orders', [{ url: 'http://127.0.0.1:9001' }, { url: 'http://127.0.0.1:9002' }]);
    const provider = new RegistryProvider({ source, app: 'ORDERS', logger: quiet, retryMs: 20 });
    return {
      provider,
      urlsA: ['http://127.0.0.1:9001', 'http://127.0.0.1:9002'],
      urlsB: ['http://127.0.0.1:9001', 'http://127.0.0.1:9003'],
      setB: async () => source.set('orders', [{ url: 'http://127.0.0.1:9001' }, { url: 'http://127.0.0.1:9003' }]),
      refreshed: async () => {
        const before = source.reads;
        source.announce('ORDERS');
        if (source.reads === before) throw new Error('the registry provider did not read on a change event');
      },
      breakSource: async () => {
        source.broken = true;
        source.announce('ORDERS');
      },
      repair: async () => {
        source.broken = false;
      },
      close: async () => undefined,
    };
  },
  eureka: async () => {
    const eureka = await startFakeEureka();
    eureka.instances = [eurekaInstance('127.0.0.1', 9001), eurekaInstance('127.0.0.1', 9002)];
    const provider = new EurekaProvider({ url: eureka.url, app: 'orders', refreshMs: 20, timeoutMs: 1000, logger: quiet });
    return {
      provider,
      urlsA: ['http://127.0.0.1:9001', 'http://127.0.0.1:9002'],
      urlsB: ['http://127.0.0.1:9001', 'http://127.0.0.1:9003'],
      setB: async () => {
        eureka.instances = [eurekaInstance('127.0.0.1', 9003), eurekaInstance('127.0.0.1', 9001)];
      },
      refreshed: () => nextSuccesses(provider),
      breakSource: async () => {
        eureka.mode = 'error';
      },
      repair: async () => {
        eureka.mode = 'ok';
      },
      close: () => eureka.close(),
    };
  },
  // A fixed list (the client library's `targets` and `fallback`): it changes only when told, and cannot fail.
  static: async () => {
    const provider = new StaticProvider({ subject: 'ORDERS', instances: [{ url: 'http://127.0.0.1:9002' }, { url: 'http://127.0.0.1:9001' }], logger: quiet });
    let reported = 0;
    return {
      provider,
      urlsA: ['http://127.0.0.1:9001', 'http://127.0.0.1:9002'],
      urlsB: ['http://127.0.0.1:9001', 'http://127.0.0.1:9003'],
      setB: async () => provider.replace([{ url: 'http://127.0.0.1:9003' }, { url: 'http://127.0.0.1:9001' }]),
      refreshed: async () => {
        // An identical list, replaced: reported (as a success) but not called back.
        reported = provider.state().lastSuccessAt;
        provider.replace([{ url: 'http://127.0.0.1:9001' }, { url: 'http://127.0.0.1:9002' }]);
        await new Promise((r) => setImmediate(r));
        if (provider.state().lastSuccessAt < reported) throw new Error('the static provider did not report the replaced list');
      },
      breakSource: undefined,
      repair: undefined,
      close: async () => undefined,
    };
  },
  dns: async () => {
    const dns = await startDnsmasq({ hosts: ['127.0.0.11 orders.test', '127.0.0.12 orders.test'], ttl: 0 });
    const provider = new DnsProvider({ name: 'orders.test', port: 8080, family: 'ipv4', scheme: 'http', logger: quiet, dns: { servers: [dns.server], timeoutMs: 300, tries: 1 }, ...DNS_TIMING });
    return dnsHarness(provider, dns, ['http://127.0.0.11:8080', 'http://127.0.0.12:8080'], ['http://127.0.0.11:8080', 'http://127.0.0.13:8080'], () =>
      dns.setHosts(['127.0.0.13 orders.test', '127.0.0.11 orders.test']),
    );
  },
  'dns-srv': async () => {
    const dns = await startDnsmasq({
      hosts: ['127.0.0.21 a.test', '127.0.0.22 b.test'],
      srv: [
        { name: '_http._tcp.orders.test', target: 'a.test', port: 8081, priority: 0, weight: 10 },
        { name: '_http._tcp.orders.test', target: 'b.test', port: 8082, priority: 0, weight: 10 },
      ],
      ttl: 0,
    });
    const provider = new DnsSrvProvider({ name: '_http._tcp.orders.test', scheme: 'http', logger: quiet, dns: { servers: [dns.server], timeoutMs: 300, tries: 1 }, ...DNS_TIMING });
    return dnsHarness(provider, dns, ['http://127.0.0.21:8081', 'http://127.0.0.22:8082'], ['http://127.0.0.21:8081', 'http://127.0.0.23:8082'], () =>
      dns.setHosts(['127.0.0.21 a.test', '127.0.0.23 b.test']),
    );
  },
};

function dnsHarness(provider: DiscoveryProvider, dns: TestDnsmasq, urlsA: string[], urlsB: string[], setB: () => Promise<void>): Harness {
  return {
    provider,
    urlsA,
    urlsB,
    setB,
    refreshed: () => nextSuccesses(provider),
    // A stopped dnsmasq: the kernel refuses the queries (ECONNREFUSED), DNS does not answer.
    breakSource: () => dns.stop(),
    repair: () => dns.start(),
    close: () => dns.close(),
  };
}
