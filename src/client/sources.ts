/**
 * Which discovery provider feeds an application's pool, from the validated
 * `discovery` option. The providers are the gateway's own
 * (src/discovery/): the gateway's registry and an external Eureka server are
 * both read over Eureka's REST protocol by the `eureka` provider (a process
 * outside the gateway has no in-memory RegistrySource), DNS by the `dns`
 * provider, fixed lists by the `static` one. One provider per application,
 * created on the first call to it.
 */
import type { Logger } from 'pino';
import type { DiscoverDoc } from '../config/discover.js';
import { parseDuration } from '../config/duration.js';
import { createProvider, dnsOptionsFromDoc, StaticProvider, type DiscoveryProvider } from '../discovery/index.js';
import { REGISTRY_DEFAULTS, type ClientOptionsDoc } from './options.js';

/** AppSource creates the provider of one application, or undefined when the source does not know the application. */
export type AppSource = (app: string, logger: Logger) => DiscoveryProvider | undefined;

/** DISCOVERY_KINDS names the keys of the `discovery` option, in the order the docs list them. */
export const DISCOVERY_KINDS = ['registry', 'eureka', 'dns', 'targets'] as const;

/** staticLookup finds an application in a `{ APP: [targets] }` map, case-insensitively (Eureka upper-cases names). */
export function staticLookup<T>(byApp: Readonly<Record<string, T>> | undefined, app: string): T | undefined {
  if (byApp === undefined) return undefined;
  const upper = app.toUpperCase();
  for (const [name, v] of Object.entries(byApp)) if (name.toUpperCase() === upper) return v;
  return undefined;
}

/** appSource compiles the `discovery` option into a factory of per-application providers. */
export function appSource(discovery: ClientOptionsDoc['discovery']): AppSource {
  const { registry, eureka, dns, targets } = discovery;
  if (registry !== undefined || eureka !== undefined) {
    const spec = { ...REGISTRY_DEFAULTS, ...(typeof registry === 'string' ? { url: registry } : (registry ?? eureka)!) };
    // Both are Eureka REST: the gateway's registry answers GET /apps/{APP} like a Eureka server.
    return (app, logger) => createProvider({ eureka: { url: spec.url, app: app.toUpperCase(), refresh: spec.refresh, timeout: spec.timeout }, scheme: 'http' } as DiscoverDoc, { logger });
  }
  if (dns !== undefined) {
    const resolver = dns.resolver === undefined ? undefined : dnsOptionsFromDoc(dns.resolver);
    return (app, logger) => {
      const spec = staticLookup(dns.apps, app);
      if (spec === undefined) return undefined;
      return createProvider({ dns: spec, scheme: dns.scheme } as DiscoverDoc, { logger, ...(resolver ? { dns: resolver } : {}) });
    };
  }
  return (app, logger) => staticProvider(targets, app, logger);
}

/** staticProvider builds the provider of a fixed list (discovery.targets, fallback.targets), or undefined when the list has no such application. */
export function staticProvider(byApp: Readonly<Record<string, Array<{ url: string; weight?: number }>>> | undefined, app: string, logger: Logger): DiscoveryProvider | undefined {
  const list = staticLookup(byApp, app);
  return list === undefined ? undefined : new StaticProvider({ subject: app.toUpperCase(), instances: list, logger });
}

/** describeSource names where instances come from, for logs ("registry http://gw:8761/eureka"), without credentials. */
export function describeSource(discovery: ClientOptionsDoc['discovery']): string {
  const kind = DISCOVERY_KINDS.find((k) => discovery[k] !== undefined) ?? 'none';
  const raw = kind === 'registry' ? (typeof discovery.registry === 'string' ? discovery.registry : discovery.registry?.url) : kind === 'eureka' ? discovery.eureka?.url : undefined;
  if (raw === undefined) return kind;
  const u = new URL(raw);
  return `${kind} ${u.origin}${u.pathname.replace(/\/+$/, '')}`;
}

/** durationMs reads a validated duration option. */
export const durationMs = (v: number | string): number => parseDuration(v);
