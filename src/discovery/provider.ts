/**
 * Service discovery: where an upstream pool's targets come from when its route
 * file says `discover:` instead of listing `targets:`. One interface, one file
 * per provider (registry.ts, eureka.ts, dns.ts, dns-srv.ts), one shared
 * conformance suite (test/discovery/conformance.test.ts). A Consul or
 * Kubernetes EndpointSlice provider is one more file.
 *
 * Providers report whole sets, never deltas: the pool diffs the set against
 * its targets (unchanged ones keep their state, new ones slow-start, removed
 * ones drain). A provider that fails keeps reporting nothing new, so the last
 * known set stays; it never reports an empty set because of an error.
 */

/** InstanceStatus is an instance's place as its source sees it: `up` takes traffic, `draining` finishes in-flight work (Eureka OUT_OF_SERVICE), `down` takes nothing (DOWN, STARTING, UNKNOWN). */
export type InstanceStatus = 'up' | 'draining' | 'down';

/** DiscoveredInstance is one instance a provider found: it becomes one target of the pool. */
export interface DiscoveredInstance {
  /** url is the dial address, scheme://host:port (the target's identity in the pool). */
  readonly url: string;
  /** weight maps SRV and Eureka weights to balancer weights (default 1). */
  readonly weight: number;
  readonly status: InstanceStatus;
  /** source says where it came from, for /upstreams and the dashboard, e.g. "registry ORDERS i-1, lease 12s" or "dns orders.internal TTL 30s". */
  readonly source: string;
}

/** ProviderState is what a provider tells the admin API and metrics about itself. */
export interface ProviderState {
  /** kind is the provider's name: registry, eureka, dns, dns-srv. */
  readonly kind: string;
  /** what it watches, e.g. "ORDERS" or "orders.internal:8080". */
  readonly subject: string;
  /** lastSuccessAt is the epoch ms of the last good answer (0 = never). */
  readonly lastSuccessAt: number;
  /** lastError is the last failure's one-line reason while failing, undefined once it recovers. */
  readonly lastError: string | undefined;
  /** errors counts failed refreshes since start. */
  readonly errors: number;
  /** instances is the size of the last reported set. */
  readonly instances: number;
}

/** DiscoveryListener receives every new set (only when it differs from the last one). */
export type DiscoveryListener = (instances: readonly DiscoveredInstance[]) => void;

/** DiscoveryProvider watches one source for one pool. */
export interface DiscoveryProvider {
  /** start begins watching; the first set is reported as soon as it is known. */
  start(listener: DiscoveryListener): void;
  /** stop ends watching (timers, sockets, subscriptions); it is idempotent. */
  stop(): void;
  /** state describes the provider now. */
  state(): ProviderState;
}

/** RegistryInstance is one registration as the gateway's own registry holds it (src/registry/ implements the source). */
export interface RegistryInstance {
  readonly app: string;
  readonly instanceId: string;
  /** url is scheme://ip:port (https when the secure port is enabled). */
  readonly url: string;
  /** status is Eureka's: UP, DOWN, STARTING, OUT_OF_SERVICE, UNKNOWN (after any override). */
  readonly status: string;
  readonly weight: number;
  /** lastRenewedAt is the epoch ms of the last heartbeat. */
  readonly lastRenewedAt: number;
  readonly registeredAt: number;
  readonly metadata: Readonly<Record<string, string>>;
}

/** RegistrySource is the gateway's own registry as the `registry` provider reads it, without depending on it. */
export interface RegistrySource {
  /** instances lists an application's current instances (app names are case-insensitive, stored upper case). */
  instances(app: string): readonly RegistryInstance[];
  /** onChange calls back after any change to an application (register, cancel, evict, status, metadata); returns an unsubscribe function. */
  onChange(listener: (app: string) => void): () => void;
  /** apps lists the known application names (for discovery.autoRoutes). */
  apps(): readonly string[];
}
