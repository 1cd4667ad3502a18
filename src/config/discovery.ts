/**
 * The config shape of `discovery.registry` in gateway.yaml: the gateway's own
 * Eureka-compatible registry (src/registry/). Declared once here, as for every
 * other config shape; src/registry/options.ts turns a validated document into
 * the frozen, precomputed options the registry runs with (durations in ms,
 * CIDRs compiled into a BlockList).
 *
 * Registrations become dial targets, so every default leans closed: the
 * listener binds loopback, registered addresses must fall in private ranges,
 * and every size a client controls has a cap.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Duration } from './duration.js';
import { Strict } from './schema-common.js';

/** REGISTRY_DEFAULT_ALLOW_TARGETS are the ranges a registered address may fall in unless the operator lists others: loopback and private (RFC 1918, RFC 4193) networks, where services live. */
export const REGISTRY_DEFAULT_ALLOW_TARGETS = ['127.0.0.0/8', '::1/128', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'] as const;

const Listen = Strict(
  {
    host: Type.String({
      default: '127.0.0.1',
      description:
        'Interface the registry listens on. Default 127.0.0.1: a registry takes writes that become dial targets, so it is reachable from other hosts only when the operator says so (0.0.0.0 or a private interface, with auth).',
    }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 8761, description: "Port of the registry's own listener (Eureka's usual 8761); 0 picks a free port." }),
  },
  { default: {}, description: 'The registry listener: its own port, never the public or admin one.' },
);

const BasicAuth = Strict(
  {
    basic: Strict(
      {
        user: Type.String({ minLength: 1, maxLength: 256, pattern: '^[^:]*$', description: 'User name Eureka clients put in their URL (http://user:password@gw:8761/eureka/); no colon.' }),
        password: Type.String({ minLength: 8, maxLength: 256, description: 'Password, e.g. "${REGISTRY_PASSWORD}"; at least 8 characters.' }),
      },
      { description: 'HTTP Basic credentials.' },
    ),
  },
  { description: 'HTTP Basic auth, as Eureka clients write it in the service URL.' },
);

const TokenAuth = Strict(
  { token: Type.String({ minLength: 16, maxLength: 1024, description: 'Bearer token clients send as "Authorization: Bearer <token>"; at least 16 characters.' }) },
  { description: 'Bearer-token auth.' },
);

const Lease = Strict(
  {
    renewal: Duration({ description: 'How often clients are expected to heartbeat (Eureka: 30s); sets the expected renewal rate for self-preservation.', default: '30s' }),
    expiry: Duration({ description: 'An instance whose last heartbeat is older than this is evicted (Eureka: 90s); must exceed renewal.', default: '90s' }),
    evictEvery: Duration({ description: 'How often the evictor looks for expired leases (Eureka: 60s).', default: '60s' }),
  },
  { default: {}, description: 'Lease timings, Eureka defaults.' },
);

const SelfPreservation = Strict(
  {
    threshold: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.85,
      description: 'Stop evicting while renewals over the window fall below this share of the expected count (a partition, not a fleet death). Eureka: 0.85.',
    }),
    window: Duration({ description: 'Span over which renewals are counted (Eureka: one minute); at most lease.expiry, so a partition shows before leases run out.', default: '60s' }),
  },
  { description: 'Self-preservation: Eureka semantics.' },
);

const Limits = Strict(
  {
    maxBodyBytes: Type.Integer({ minimum: 1024, maximum: 1048576, default: 65536, description: 'Largest request body; bigger ones get 413 before they are parsed. Default 64 KiB (a Spring registration is ~2 KiB).' }),
    maxApps: Type.Integer({ minimum: 1, default: 1000, description: 'Most distinct applications; a registration of a new one beyond this is refused (429).' }),
    maxMetadataKeys: Type.Integer({ minimum: 0, default: 64, description: 'Most metadata entries per instance.' }),
    maxMetadataBytes: Type.Integer({ minimum: 0, default: 8192, description: 'Most bytes of metadata keys plus values per instance (default 8 KiB).' }),
    maxMetricApps: Type.Integer({ minimum: 1, default: 100, description: 'Most applications that get their own app label in the registry metrics; later ones are summed under app="_other" (a client can register any name, so the label must be capped).' }),
  },
  { default: {}, description: 'Caps on what clients control.' },
);

const Store = Strict(
  {
    syncEvery: Duration({ description: "With Redis: how often each gateway polls the shared registry's version, the fallback when a pub/sub message is missed.", default: '5s' }),
    keyPrefix: Type.String({ pattern: '^[A-Za-z0-9:_{}.-]{1,64}$', default: '{sy-registry}:', description: 'Redis key prefix; the {hash tag} keeps every registry key in one Redis Cluster slot, which the atomic scripts need.' }),
  },
  { default: {}, description: 'Shared-store settings (used when gateway.yaml sets redis.url).' },
);

/** RegistryOptionsSchema is the strict shape of `discovery.registry`. */
export const RegistryOptionsSchema = Strict(
  {
    listen: Listen,
    auth: Type.Optional(
      Type.Union([BasicAuth, TokenAuth], {
        description: 'Credentials every registry request must carry. Absent: anyone who reaches the port may register dial targets (the gateway warns at startup).',
      }),
    ),
    allowTargets: Type.Array(Type.String({ pattern: '^[0-9A-Fa-f:.]+(/\\d{1,3})?$' }), {
      default: [...REGISTRY_DEFAULT_ALLOW_TARGETS],
      description:
        'CIDRs a registered ipAddr must fall in, or the registration is refused (400): registrations become dial targets (SSRF). Default: loopback and private ranges. Link-local (169.254/16, fe80::/10: cloud metadata), unspecified (0.0.0.0, ::), multicast and broadcast are refused even inside a wider entry, unless an entry lies within them.',
    }),
    lease: Lease,
    selfPreservation: Type.Union([SelfPreservation, Type.Literal(false)], {
      default: {},
      description: 'Self-preservation settings, or false to always evict expired leases.',
    }),
    maxInstancesPerApp: Type.Integer({ minimum: 1, default: 1000, description: 'Most instances of one application; the next registration is refused (429).' }),
    deltaRetention: Duration({ description: 'How long changes stay in GET /apps/delta (Eureka: 3m).', default: '3m' }),
    limits: Limits,
    store: Store,
  },
  { description: "The gateway's own Eureka-compatible service registry." },
);

/** RegistryOptions is a validated `discovery.registry` block (defaults applied). */
export type RegistryOptions = Static<typeof RegistryOptionsSchema>;
