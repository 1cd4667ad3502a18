/**
 * The discovery providers, by their key in `discover:`. Adding a source
 * (Consul, Kubernetes EndpointSlices) means one file, one key in the schema
 * (src/config/discover.ts) and one line in FACTORIES; the conformance suite
 * then runs it too.
 */
import type { Logger } from 'pino';
import { DISCOVER_KINDS, type DiscoverDoc, type DiscoverKind, type DnsOptionsDoc } from '../config/discover.js';
import { parseDuration } from '../config/duration.js';
import { DnsSrvProvider } from './dns-srv.js';
import { refreshMode, SYSTEM_DNS, type DnsOptions } from './dns-resolver.js';
import { DnsProvider } from './dns.js';
import { EurekaProvider } from './eureka.js';
import type { DiscoveryProvider, RegistrySource } from './provider.js';
import { RegistryProvider } from './registry.js';
import type { Clock } from './report.js';

export type { DiscoveredInstance, DiscoveryListener, DiscoveryProvider, InstanceStatus, ProviderState, RegistryInstance, RegistrySource } from './provider.js';
export type { Clock } from './report.js';
export type { DnsOptions } from './dns-resolver.js';
export { DnsProvider, type DnsProviderOptions } from './dns.js';
export { DnsSrvProvider, type DnsSrvProviderOptions } from './dns-srv.js';
export { EurekaProvider, type EurekaProviderOptions } from './eureka.js';
export { RegistryProvider, type RegistryProviderOptions } from './registry.js';
export { StaticProvider, type StaticInstance, type StaticProviderOptions } from './static.js';

/** ProviderDeps is what a provider may need from the gateway. */
export interface ProviderDeps {
  /** logger is bound to the upstream (e.g. `log.child({ upstream })`). */
  logger: Logger;
  clock?: Clock;
  /** registry is the gateway's own registry; undefined when `discovery.registry` is off. */
  registry?: RegistrySource;
  /** dns is `discovery.dns` (see dnsOptionsFromDoc); undefined = the system's resolvers. */
  dns?: DnsOptions;
}

/** DiscoveryConfigError says a `discover:` cannot be served as configured (e.g. `registry:` with the registry off). */
export class DiscoveryConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DiscoveryConfigError';
  }
}

type Factory<K extends DiscoverKind> = (spec: NonNullable<DiscoverDoc[K]>, doc: DiscoverDoc, deps: ProviderDeps) => DiscoveryProvider;

/** FACTORIES builds a provider per `discover:` key; typed so a key in DISCOVER_KINDS cannot lack one. */
const FACTORIES: { readonly [K in DiscoverKind]: Factory<K> } = {
  registry: (app, _doc, deps) => {
    if (deps.registry === undefined) throw new DiscoveryConfigError(`discover: { registry: ${app} } needs the gateway's registry: set discovery.registry in gateway.yaml`);
    return new RegistryProvider({ source: deps.registry, app, logger: deps.logger, ...(deps.clock ? { clock: deps.clock } : {}) });
  },
  eureka: (spec, _doc, deps) =>
    new EurekaProvider({
      url: spec.url,
      app: spec.app,
      refreshMs: parseDuration(spec.refresh),
      timeoutMs: parseDuration(spec.timeout),
      logger: deps.logger,
      ...(deps.clock ? { clock: deps.clock } : {}),
    }),
  dns: (spec, doc, deps) => new DnsProvider({ ...resolving(spec, doc, deps), port: spec.port, family: spec.family }),
  dnsSrv: (spec, doc, deps) => new DnsSrvProvider(resolving(spec, doc, deps)),
};

/** resolving reads what both DNS providers take from a `discover:` entry: name, scheme, refresh and TTL bounds, resolver, logger, clock. */
function resolving(spec: { name: string; refresh: string | number; minTtl: string | number; maxTtl: string | number }, doc: DiscoverDoc, deps: ProviderDeps) {
  return {
    name: spec.name,
    scheme: doc.scheme,
    refreshMs: refreshMode(spec.refresh, parseDuration),
    minTtlMs: parseDuration(spec.minTtl),
    maxTtlMs: parseDuration(spec.maxTtl),
    logger: deps.logger,
    dns: deps.dns ?? SYSTEM_DNS,
    ...(deps.clock ? { clock: deps.clock } : {}),
  };
}

/** discoverKind names the provider a `discover:` selects (schema validation guarantees exactly one). */
export function discoverKind(doc: DiscoverDoc): DiscoverKind {
  const kinds = DISCOVER_KINDS.filter((k) => doc[k] !== undefined);
  if (kinds.length !== 1) throw new DiscoveryConfigError(`discover: needs exactly one of ${DISCOVER_KINDS.join(', ')} (got ${kinds.length === 0 ? 'none' : kinds.join(', ')})`);
  return kinds[0]!;
}

/** createProvider builds the (not yet started) provider a validated `discover:` describes; throws DiscoveryConfigError. */
export function createProvider(doc: DiscoverDoc, deps: ProviderDeps): DiscoveryProvider {
  const kind = discoverKind(doc);
  const factory = FACTORIES[kind] as Factory<DiscoverKind>;
  return factory(doc[kind] as never, doc, deps);
}

/** dnsOptionsFromDoc turns a validated `discovery.dns` into DnsOptions (undefined doc = the system's resolvers). */
export function dnsOptionsFromDoc(doc: DnsOptionsDoc | undefined): DnsOptions {
  if (doc === undefined) return SYSTEM_DNS;
  return { servers: doc.servers, timeoutMs: parseDuration(doc.timeout), tries: doc.tries };
}
