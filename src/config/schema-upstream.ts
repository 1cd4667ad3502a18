/**
 * The shape of an upstream pool in a route file: its targets, balancer,
 * timeouts, connection pool, active and passive health, retry budget and
 * sticky sessions. Part of the config schemas (see src/config/schema.ts).
 */
import { Type, type Static } from '@sinclair/typebox';
import { DiscoverSchema } from './discover.js';
import { Duration } from './duration.js';
import { Strict, StringMap } from './schema-common.js';
import { ProxyProtocolVersionSchema } from './schema-stream.js';

// The balancer names are declared once, next to their implementations.
/** BALANCERS lists the balancing algorithms by the names route files use; src/balancing/ has one factory per name (its type makes a missing one a compile error). */
export const BALANCERS = ['round-robin', 'weighted-round-robin', 'least-connections', 'ip-hash', 'random'] as const;

/** BalancerName is one of BALANCERS. */
export type BalancerName = (typeof BALANCERS)[number];

/** TargetSchema declares one server of an upstream pool. */
export const TargetSchema = Strict(
  {
    url: Type.String({ description: 'Base URL of the server: http(s)://host:port (no path, query or credentials); tcp://host:port or udp://host:port for stream routes.' }),
    weight: Type.Integer({ minimum: 1, maximum: 1000, default: 1, description: 'Relative share for weighted balancers; tie-break elsewhere.' }),
  },
  { description: 'One server of the pool.' },
);

/** TargetDoc is one validated target of a pool. */
export type TargetDoc = Static<typeof TargetSchema>;

/** StatusListSchema declares a list of status codes or ranges such as 200-399. */
export const StatusListSchema = Type.Array(
  Type.Union([Type.Integer({ minimum: 100, maximum: 599 }), Type.String({ pattern: '^\\s*[1-5]\\d\\d\\s*(-\\s*[1-5]\\d\\d\\s*)?$' })]),
  { minItems: 1, description: 'Status codes or ranges such as "200-399".' },
);

/** HealthCheckSchema configures active health checks of an upstream's targets. */
export const HealthCheckSchema = Strict(
  {
    type: Type.Union([Type.Literal('http'), Type.Literal('tcp')], { default: 'http', description: 'http: GET `path`; tcp: a plain connect.' }),
    path: Type.String({ default: '/healthz', pattern: '^/', description: 'Path requested by HTTP checks.' }),
    interval: Duration({ description: 'Time between the end of one check and the start of the next (with jitter).', default: '5s' }),
    timeout: Duration({ description: 'A check that takes longer fails.', default: '1s' }),
    unhealthyThreshold: Type.Integer({ minimum: 1, default: 3, description: 'Consecutive failures before a target leaves the rotation.' }),
    healthyThreshold: Type.Integer({ minimum: 1, default: 2, description: 'Consecutive successes before it comes back.' }),
    expectedStatus: Type.Optional(StatusListSchema),
    headers: Type.Optional(StringMap('Headers sent with HTTP checks (e.g. host).')),
    startUnhealthy: Type.Boolean({ default: false, description: 'A target that was never checked starts out of the rotation.' }),
    jitter: Type.Number({ minimum: 0, maximum: 1, default: 0.1, description: 'Fraction of the interval added at random to spread checks.' }),
  },
  { description: 'Active health checks.' },
);

/** HealthCheckDoc is a validated healthCheck section. */
export type HealthCheckDoc = Static<typeof HealthCheckSchema>;

/** OutlierDetectionSchema configures passive health: ejection after consecutive failures of real traffic. */
export const OutlierDetectionSchema = Strict(
  {
    enabled: Type.Boolean({ default: true }),
    consecutiveFailures: Type.Integer({ minimum: 1, default: 5, description: 'Connection errors, resets, timeouts or 5xx in a row before ejection.' }),
    baseEjectionTime: Duration({ description: 'First ejection time; multiplied by the number of ejections so far.', default: '30s' }),
    maxEjectionTime: Duration({ description: 'Cap on the ejection time.', default: '5m' }),
    maxEjectionPercent: Type.Number({ minimum: 0, maximum: 100, default: 50, description: 'Never eject more than this share of the pool passively.' }),
  },
  { default: {}, description: 'Passive health checking (outlier detection); on by default.' },
);

/** UpstreamTimeoutsSchema bounds each phase of a proxied request. */
export const UpstreamTimeoutsSchema = Strict(
  {
    connect: Duration({ description: 'TCP (and TLS) connect timeout.', default: '5s' }),
    response: Duration({ description: 'Time until the upstream sends response headers.', default: '30s' }),
    idle: Duration({ description: 'Longest pause between bytes of the response body.', default: '60s' }),
  },
  { default: {}, description: 'Timeouts towards the upstream.' },
);

/** RouteTimeoutsSchema overrides an upstream's response and idle timeouts for one route. */
export const RouteTimeoutsSchema = Strict(
  {
    response: Type.Optional(Duration({ description: 'Time until the upstream sends response headers.' })),
    idle: Type.Optional(Duration({ description: 'Longest pause between bytes of the response body.' })),
  },
  { description: 'Per-route timeout overrides.' },
);

/** UpstreamSchema declares a named pool of targets. */
export const UpstreamSchema = Strict(
  {
    balancer: Type.Union(BALANCERS.map((b) => Type.Literal(b)), { default: 'round-robin', description: 'Balancing algorithm.' }),
    targets: Type.Optional(Type.Array(TargetSchema, { minItems: 1, description: 'The servers of the pool (or `discover`: exactly one of the two).' })),
    discover: Type.Optional(DiscoverSchema),
    hostHeader: Type.String({
      default: 'target',
      minLength: 1,
      description: 'Host sent upstream: "target" (the target host:port), "client" (the client Host), or a literal host.',
    }),
    timeouts: Type.Optional(UpstreamTimeoutsSchema),
    keepAlive: Type.Optional(
      Strict({
        connections: Type.Integer({ minimum: 1, default: 128, description: 'Maximum connections per target.' }),
        idle: Duration({ description: 'Idle pooled connections are closed after this (keep below the upstream keep-alive timeout).', default: '4s' }),
        pipelining: Type.Integer({ minimum: 1, maximum: 100, default: 1, description: 'Requests in flight per connection.' }),
      }, { default: {}, description: 'Connection pool to each target.' }),
    ),
    tls: Type.Optional(
      Strict({
        verify: Type.Boolean({ default: true, description: 'Verify upstream certificates (never turn off in production).' }),
        ca: Type.Optional(Type.String({ description: 'PEM file with the CA bundle to trust.' })),
        servername: Type.Optional(Type.String({ description: 'SNI and certificate name to expect.' })),
      }),
    ),
    healthCheck: Type.Optional(HealthCheckSchema),
    proxyProtocol: Type.Optional(ProxyProtocolVersionSchema),
    outlierDetection: Type.Optional(OutlierDetectionSchema),
    panicThreshold: Type.Number({
      minimum: 0,
      maximum: 100,
      default: 0,
      description: 'Below this percentage of healthy targets, balance over all targets as if healthy (0 = off: answer 503 when none is healthy).',
    }),
    slowStart: Duration({ description: 'A target that comes back ramps up its share over this window (0 = off).', default: 0 }),
    retryBudget: Type.Optional(
      Strict({
        percent: Type.Number({ minimum: 0, maximum: 100, default: 20, description: 'Retries allowed as a share of requests.' }),
        minPerSecond: Type.Integer({ minimum: 0, default: 3, description: 'Retries always allowed per second.' }),
      }, { default: {}, description: 'Caps retries so they cannot multiply load during an outage.' }),
    ),
    sticky: Type.Optional(
      Strict({
        cookie: Type.String({ pattern: '^[!#$%&\'*+.^_`|~0-9A-Za-z-]+$', description: 'Cookie name.' }),
        ttl: Duration({ description: 'Cookie lifetime.', default: '1h' }),
      }),
    ),
  },
  { description: 'A pool of upstream servers.' },
);

/** UpstreamDoc is one validated upstream pool. */
export type UpstreamDoc = Static<typeof UpstreamSchema>;
