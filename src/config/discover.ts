/**
 * The config shapes of service discovery: an upstream's `discover:` (where its
 * targets come from instead of a `targets:` list) and the gateway-level
 * `discovery.dns` (which resolver DNS discovery asks). schema.ts references
 * these; they live here so the discovery shapes read as one page.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Duration, DURATION_PATTERN } from './duration.js';
import { Strict } from './schema-common.js';

const durationBranches = () => [Type.Number({ minimum: 0 }), Type.String({ pattern: DURATION_PATTERN })];

/**
 * Refresh is `ttl` (re-resolve when the answer expires, within [minTtl, maxTtl])
 * or a fixed duration. One flat union, so the validator's duration check
 * (which looks for the duration pattern among a union's branches) applies.
 */
function Refresh(description: string) {
  return Type.Union([Type.Literal('ttl'), ...durationBranches()], { description, default: 'ttl' });
}

const AppName = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
  description: 'Application name as registered (case-insensitive: Eureka stores it upper case).',
});

const DnsName = Type.String({
  minLength: 1,
  maxLength: 253,
  pattern: '^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?\\.?$',
  description: 'The DNS name to resolve.',
});

const MinTtl = () => Duration({ description: 'Shortest re-resolve interval in `ttl` mode (a TTL of 0 is not a reason to ask every millisecond); also the first retry after a failure.', default: '1s' });
const MaxTtl = () => Duration({ description: 'Longest re-resolve interval in `ttl` mode (a day-long TTL still notices changes).', default: '5m' });

/** EurekaDiscover configures polling an external Eureka server. */
export const EurekaDiscover = Strict(
  {
    url: Type.String({
      pattern: '^https?://',
      description: 'Base URL of the Eureka REST API, e.g. http://eureka:8761/eureka; `user:password@` in it is sent as Basic auth.',
    }),
    app: AppName,
    refresh: Duration({ description: 'Time between two polls of the application (Eureka clients poll every 30s).', default: '30s' }),
    timeout: Duration({ description: 'A poll that takes longer fails (the last known set stays).', default: '5s' }),
  },
  { description: 'An external Eureka server: GET {url}/apps/{app} every `refresh`.' },
);

/** DnsDiscover configures A/AAAA discovery. */
export const DnsDiscover = Strict(
  {
    name: DnsName,
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 80, description: 'Port of every target (A and AAAA records carry none).' }),
    refresh: Refresh('`ttl`: re-resolve when the records expire (clamped to [minTtl, maxTtl]); or a fixed interval.'),
    minTtl: MinTtl(),
    maxTtl: MaxTtl(),
    family: Type.Union([Type.Literal('any'), Type.Literal('ipv4'), Type.Literal('ipv6')], {
      default: 'any',
      description: 'Address families asked for: any (A and AAAA), ipv4 (A), ipv6 (AAAA).',
    }),
  },
  { description: 'A/AAAA records of one name: one target per address.' },
);

/** DnsSrvDiscover configures SRV discovery. */
export const DnsSrvDiscover = Strict(
  {
    name: DnsName,
    refresh: Refresh('`ttl`: re-resolve when the targets\' address records expire (clamped to [minTtl, maxTtl]); or a fixed interval.'),
    minTtl: MinTtl(),
    maxTtl: MaxTtl(),
  },
  { description: 'SRV records, e.g. _http._tcp.orders.internal: the lowest priority with targets, SRV weights as balancer weights, ports from the records.' },
);

// The provider keys, each alone with `scheme`: `oneOf` of `required` keeps
// the properties in one object, where Ajv applies the defaults (it applies
// none inside anyOf/oneOf branches).
const PROVIDER_KEYS = ['registry', 'eureka', 'dns', 'dnsSrv'] as const;

/** DiscoverSchema is an upstream's `discover:`, exactly one of registry, eureka, dns and dnsSrv. */
export const DiscoverSchema = Strict(
  {
    registry: Type.Optional(AppName),
    eureka: Type.Optional(EurekaDiscover),
    dns: Type.Optional(DnsDiscover),
    dnsSrv: Type.Optional(DnsSrvDiscover),
    scheme: Type.Union([Type.Literal('http'), Type.Literal('https')], {
      default: 'http',
      description: 'Scheme of DNS-discovered targets (dns, dnsSrv). Registry and Eureka instances carry their own (secure port enabled: https).',
    }),
  },
  {
    oneOf: PROVIDER_KEYS.map((k) => ({ required: [k] })),
    description: 'Where the pool\'s targets come from, instead of `targets`: exactly one of registry, eureka, dns, dnsSrv.',
  },
);

/** DiscoverDoc is a validated `discover:` (defaults applied). */
export type DiscoverDoc = Static<typeof DiscoverSchema>;

/** DiscoverKind names a provider by its key in `discover:`. */
export type DiscoverKind = (typeof PROVIDER_KEYS)[number];

/** DISCOVER_KINDS lists the provider keys of `discover:`; src/discovery/ has one factory per key. */
export const DISCOVER_KINDS: readonly DiscoverKind[] = PROVIDER_KEYS;

/** DnsOptionsSchema is the gateway's `discovery.dns`: which resolver DNS discovery asks, and how patiently. */
export const DnsOptionsSchema = Strict(
  {
    servers: Type.Array(Type.String({ pattern: '^(\\[[0-9A-Fa-f:.]+\\](:\\d{1,5})?|[0-9.]+(:\\d{1,5})?|[0-9A-Fa-f:]+)$' }), {
      default: [],
      description: 'Resolvers as ip or ip:port ([v6]:port), e.g. ["127.0.0.1:5353"]; empty = the system\'s (/etc/resolv.conf).',
    }),
    timeout: Duration({ description: 'How long one query waits for an answer before trying again.', default: '2s' }),
    tries: Type.Integer({ minimum: 1, maximum: 10, default: 2, description: 'Attempts per server before a lookup fails (the last known set then stays).' }),
  },
  { description: 'The resolver used by `discover: { dns }` and `{ dnsSrv }`.' },
);

/** DnsOptionsDoc is a validated `discovery.dns` (defaults applied). */
export type DnsOptionsDoc = Static<typeof DnsOptionsSchema>;

/**
 * AutoRoutesSchema is the gateway's `discovery.autoRoutes`: Zuul's default
 * mapping, `{prefix}/{app}/*` to the registry application APP (upper case)
 * through a pool `auto:APP`, prefix and app segment stripped. Off when absent.
 */
export const AutoRoutesSchema = Strict(
  {
    prefix: Type.String({
      pattern: '^(/[A-Za-z0-9._~-]+)+$',
      maxLength: 200,
      default: '/services',
      description: 'Path prefix of the automatic routes: `/services/orders/x` goes to the registry application ORDERS as `/x`. Explicit routes always win over an automatic one.',
    }),
  },
  {
    description:
      'Routes every application of the gateway\'s registry under a prefix without a route file (Zuul\'s default mapping), through a pool `auto:APP` (round-robin, passive outlier detection). Needs discovery.registry; absent = off.',
  },
);

/** AutoRoutesDoc is a validated `discovery.autoRoutes` (defaults applied). */
export type AutoRoutesDoc = Static<typeof AutoRoutesSchema>;
