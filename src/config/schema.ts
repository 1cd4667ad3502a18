/**
 * The config shapes, declared once. Each TypeBox schema gives the JSON Schema
 * that validates files (and is published under schema/ for editors) and the
 * TypeScript type of the validated document. Every object is strict
 * (additionalProperties: false) so a misspelt key is an error, not a silent no-op.
 */
import { Type, type Static, type TSchema, type TObject, type TProperties, type ObjectOptions } from '@sinclair/typebox';
import { DURATION_PATTERN } from './duration.js';

/** Strict builds an object schema that rejects unknown keys. */
export function Strict<T extends TProperties>(props: T, opts: ObjectOptions = {}): TObject<T> {
  return Type.Object(props, { additionalProperties: false, ...opts });
}

/** Duration is a number of milliseconds or a string such as `500ms`, `5s`, `1m`. */
export const Duration = (description: string, def?: number | string) =>
  Type.Union([Type.Number({ minimum: 0 }), Type.String({ pattern: DURATION_PATTERN })], {
    description,
    ...(def === undefined ? {} : { default: def }),
  });

const StringMap = (description: string) => Type.Record(Type.String(), Type.String(), { description });

// The balancer names are declared once, next to their implementations.
/** BALANCERS lists the balancing algorithms by the names route files use; src/balancing/ has one factory per name (its type makes a missing one a compile error). */
export const BALANCERS = ['round-robin', 'weighted-round-robin', 'least-connections', 'ip-hash', 'random'] as const;

/** BalancerName is one of BALANCERS. */
export type BalancerName = (typeof BALANCERS)[number];

/** PluginRef names a plugin, alone (`- cors`) or with options (`- cors: { origins: [...] }`). */
export const PluginRef = Type.Union(
  [
    Type.String({ description: 'A plugin name, with default options.' }),
    Type.Record(Type.String(), Type.Any(), {
      minProperties: 1,
      maxProperties: 1,
      description: 'One key: the plugin name; its value: the plugin options.',
    }),
  ],
  { description: 'A plugin in the chain: a name, or { name: options }.' },
);
export type PluginRef = Static<typeof PluginRef>;

/** Target is one server of an upstream pool. */
export const Target = Strict(
  {
    url: Type.String({ description: 'Base URL of the server: http(s)://host:port (no path, query or credentials).' }),
    weight: Type.Integer({ minimum: 1, maximum: 1000, default: 1, description: 'Relative share for weighted balancers; tie-break elsewhere.' }),
  },
  { description: 'One server of the pool.' },
);

/** StatusList is a list of status codes or ranges such as 200-399. */
export const StatusList = Type.Array(
  Type.Union([Type.Integer({ minimum: 100, maximum: 599 }), Type.String({ pattern: '^\\s*[1-5]\\d\\d\\s*(-\\s*[1-5]\\d\\d\\s*)?$' })]),
  { minItems: 1, description: 'Status codes or ranges such as "200-399".' },
);

/** HealthCheck configures active health checks of an upstream's targets. */
export const HealthCheck = Strict(
  {
    type: Type.Union([Type.Literal('http'), Type.Literal('tcp')], { default: 'http', description: 'http: GET `path`; tcp: a plain connect.' }),
    path: Type.String({ default: '/healthz', pattern: '^/', description: 'Path requested by HTTP checks.' }),
    interval: Duration('Time between the end of one check and the start of the next (with jitter).', '5s'),
    timeout: Duration('A check that takes longer fails.', '1s'),
    unhealthyThreshold: Type.Integer({ minimum: 1, default: 3, description: 'Consecutive failures before a target leaves the rotation.' }),
    healthyThreshold: Type.Integer({ minimum: 1, default: 2, description: 'Consecutive successes before it comes back.' }),
    expectedStatus: Type.Optional(StatusList),
    headers: Type.Optional(StringMap('Headers sent with HTTP checks (e.g. host).')),
    startUnhealthy: Type.Boolean({ default: false, description: 'A target that was never checked starts out of the rotation.' }),
    jitter: Type.Number({ minimum: 0, maximum: 1, default: 0.1, description: 'Fraction of the interval added at random to spread checks.' }),
  },
  { description: 'Active health checks.' },
);

/** OutlierDetection configures passive health: ejection after consecutive failures of real traffic. */
export const OutlierDetection = Strict(
  {
    enabled: Type.Boolean({ default: true }),
    consecutiveFailures: Type.Integer({ minimum: 1, default: 5, description: 'Connection errors, resets, timeouts or 5xx in a row before ejection.' }),
    baseEjectionTime: Duration('First ejection time; multiplied by the number of ejections so far.', '30s'),
    maxEjectionTime: Duration('Cap on the ejection time.', '5m'),
    maxEjectionPercent: Type.Number({ minimum: 0, maximum: 100, default: 50, description: 'Never eject more than this share of the pool passively.' }),
  },
  { default: {}, description: 'Passive health checking (outlier detection); on by default.' },
);

/** UpstreamTimeouts bounds each phase of a proxied request. */
export const UpstreamTimeouts = Strict(
  {
    connect: Duration('TCP (and TLS) connect timeout.', '5s'),
    response: Duration('Time until the upstream sends response headers.', '30s'),
    idle: Duration('Longest pause between bytes of the response body.', '60s'),
  },
  { default: {}, description: 'Timeouts towards the upstream.' },
);

/** RouteTimeouts overrides an upstream's response and idle timeouts for one route. */
export const RouteTimeouts = Strict(
  {
    response: Type.Optional(Duration('Time until the upstream sends response headers.')),
    idle: Type.Optional(Duration('Longest pause between bytes of the response body.')),
  },
  { description: 'Per-route timeout overrides.' },
);

/** Upstream is a named pool of targets. */
export const Upstream = Strict(
  {
    balancer: Type.Union(BALANCERS.map((b) => Type.Literal(b)), { default: 'round-robin', description: 'Balancing algorithm.' }),
    targets: Type.Array(Target, { minItems: 1, description: 'The servers of the pool.' }),
    hostHeader: Type.String({
      default: 'target',
      minLength: 1,
      description: 'Host sent upstream: "target" (the target host:port), "client" (the client Host), or a literal host.',
    }),
    timeouts: Type.Optional(UpstreamTimeouts),
    keepAlive: Type.Optional(
      Strict({
        connections: Type.Integer({ minimum: 1, default: 128, description: 'Maximum connections per target.' }),
        idle: Duration('Idle pooled connections are closed after this (keep below the upstream keep-alive timeout).', '4s'),
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
    healthCheck: Type.Optional(HealthCheck),
    outlierDetection: Type.Optional(OutlierDetection),
    panicThreshold: Type.Number({
      minimum: 0,
      maximum: 100,
      default: 0,
      description: 'Below this percentage of healthy targets, balance over all targets as if healthy (0 = off: answer 503 when none is healthy).',
    }),
    slowStart: Duration('A target that comes back ramps up its share over this window (0 = off).', 0),
    retryBudget: Type.Optional(
      Strict({
        percent: Type.Number({ minimum: 0, maximum: 100, default: 20, description: 'Retries allowed as a share of requests.' }),
        minPerSecond: Type.Integer({ minimum: 0, default: 3, description: 'Retries always allowed per second.' }),
      }, { default: {}, description: 'Caps retries so they cannot multiply load during an outage.' }),
    ),
    sticky: Type.Optional(
      Strict({
        cookie: Type.String({ pattern: '^[!#$%&\'*+.^_`|~0-9A-Za-z-]+$', description: 'Cookie name.' }),
        ttl: Duration('Cookie lifetime.', '1h'),
      }),
    ),
  },
  { description: 'A pool of upstream servers.' },
);

/** RouteMatch is what a request must look like to take a route. */
export const RouteMatch = Strict(
  {
    path: Type.String({ pattern: '^/', description: '"/x/*": /x and everything below it; "/x": exactly /x.' }),
    methods: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z]+$' }), { minItems: 1, uniqueItems: true })),
    host: Type.Optional(Type.String({ description: 'Host name; "*.example.com" matches one or more labels.' })),
    headers: Type.Optional(StringMap('Headers that must all be present with these values.')),
    query: Type.Optional(StringMap('Query parameters that must all be present with these values.')),
    cookies: Type.Optional(StringMap('Cookies that must all be present with these values.')),
  },
  { description: 'Request conditions.' },
);

/** Route maps matching requests to an upstream pool. */
export const Route = Strict(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', description: 'Unique across all route files.' }),
    match: RouteMatch,
    upstream: Type.String({ description: 'Name of an upstream (from any route file).' }),
    stripPrefix: Type.Boolean({ default: false, description: 'Remove the literal path prefix before proxying.' }),
    plugins: Type.Optional(Type.Array(PluginRef, { description: 'Plugins run after the global chain.' })),
    retry: Type.Optional(
      Strict({
        attempts: Type.Integer({ minimum: 0, maximum: 5, default: 1, description: 'Extra attempts on another target.' }),
        on: Type.Array(Type.Integer({ minimum: 500, maximum: 599 }), { default: [502, 503, 504], description: 'Statuses retried for idempotent methods.' }),
        bufferBody: Type.Integer({ minimum: 0, default: 65536, description: 'Bodies up to this size are buffered so they can be replayed.' }),
      }),
    ),
    timeouts: Type.Optional(RouteTimeouts),
    bodyLimit: Type.Optional(Type.Integer({ minimum: 0, description: 'Largest request body accepted, in bytes (overrides limits.bodyLimit).' })),
    websocket: Type.Boolean({ default: true, description: 'Allow WebSocket upgrades on this route.' }),
    websocketOrigins: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description:
          'Origins (besides the gateway\'s own) whose pages may open WebSockets on this route: exact origins (https://app.example.com) and patterns (https://*.example.com, http://localhost:*). An upgrade with cookies (or browser-cached credentials) from any other Origin gets 403; with a list, so does any upgrade whose Origin is not listed.',
      }),
    ),
  },
  { description: 'A route.' },
);

/** RouteFile is one team's file under routes/. */
export const RouteFile = Strict(
  {
    $schema: Type.Optional(Type.String()),
    // additionalProperties: false, or a name that fails the pattern would skip validation altogether.
    upstreams: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }), Upstream, { additionalProperties: false, description: 'Upstream pools by name (global).' }),
    ),
    routes: Type.Optional(Type.Array(Route, { description: 'Routes.' })),
  },
  { title: 'Switchyard route file', description: 'Upstream pools and routes of one team.' },
);
export type RouteFile = Static<typeof RouteFile>;

/** Limits are the front-door limits on what clients may send. */
export const Limits = Strict(
  {
    headerTimeout: Duration('Time for a client to send the request headers (408 after).', '10s'),
    requestTimeout: Duration('Time for a client to send the whole request (408 after).', '60s'),
    keepAliveTimeout: Duration('Idle keep-alive client connections are closed after this.', '5s'),
    maxHeaderSize: Type.Integer({ minimum: 1024, default: 16384, description: 'Largest request header block, in bytes (431 over).' }),
    maxHeaders: Type.Integer({ minimum: 8, default: 100, description: 'Most request headers (431 over).' }),
    maxUrlLength: Type.Integer({ minimum: 64, default: 8192, description: 'Longest request target (414 over).' }),
    bodyLimit: Type.Integer({ minimum: 0, default: 10485760, description: 'Largest request body, in bytes (413 over).' }),
    maxWebSocketMessage: Type.Integer({ minimum: 0, default: 1048576, description: 'Largest WebSocket message a client may send, in bytes (close 1009 over; 0 = no limit).' }),
    maxConnections: Type.Integer({
      minimum: 0,
      default: 10000,
      description: 'Most client connections open at once per process, on each public listener; more are closed as they arrive (0 = no limit).',
    }),
    sendTimeout: Duration('Longest wait for a client to take more of a response (or of WebSocket traffic) while its connection is full; the connection is then closed (0 = no limit).', '60s'),
    invalidHeaders: Type.Union([Type.Literal('drop'), Type.Literal('reject'), Type.Literal('allow')], {
      default: 'drop',
      description:
        "Request header names with anything but letters, digits and '-' (X.User.Id, X_User_Id), which servers such as PHP, WSGI and Rack read as the dashed name: 'drop' leaves them out of the request sent upstream (nginx's ignore_invalid_headers); 'reject' answers 400; 'allow' forwards them, except spellings of headers the gateway or a plugin sets.",
    }),
  },
  { default: {}, description: 'Front-door limits.' },
);

/** Gateway is gateway.yaml. */
export const Gateway = Strict(
  {
    $schema: Type.Optional(Type.String()),
    listen: Strict(
      {
        host: Type.String({ default: '0.0.0.0' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
        tls: Type.Optional(
          Strict(
            {
              cert: Type.Optional(Type.String({ description: 'PEM certificate chain file (the default certificate; relative to gateway.yaml).' })),
              key: Type.Optional(Type.String({ description: 'PEM private key file of `cert`.' })),
              certificates: Type.Optional(
                Type.Array(
                  Strict({
                    cert: Type.String({ minLength: 1, description: 'PEM certificate chain file (relative to gateway.yaml).' }),
                    key: Type.String({ minLength: 1, description: 'PEM private key file.' }),
                    hosts: Type.Optional(
                      Type.Array(Type.String({ pattern: '^(\\*\\.)?[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$' }), {
                        minItems: 1,
                        description: 'Server names (SNI) this certificate answers, "*.example.com" for one label; default: the DNS names of its subjectAltName (or its CN).',
                      }),
                    ),
                  }),
                  { minItems: 1, description: 'Certificates chosen by SNI. Without `cert`, the first one also answers clients that send no or an unknown name.' },
                ),
              ),
              sni: Type.Optional(Type.Record(Type.String(), Strict({ cert: Type.String(), key: Type.String() }), { description: 'Certificates by server name (same as `certificates` with `hosts: [name]`).' })),
              http2: Type.Boolean({ default: true, description: 'Offer HTTP/2 via ALPN next to HTTP/1.1.' }),
              minVersion: Type.Union([Type.Literal('TLSv1.2'), Type.Literal('TLSv1.3')], { default: 'TLSv1.2', description: 'Oldest TLS version accepted.' }),
              recheck: Duration('Certificate files are reloaded on file-system events; they are also re-read this often in case an event was missed (0 = events only).', '1m'),
            },
            { description: 'Terminate TLS on the public listener. Certificate files are reloaded when they change, without a restart.' },
          ),
        ),
        redirectHttp: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: 'Port of a plain-HTTP listener that redirects to HTTPS (308), for hosts of a route or a certificate only.' })),
        publicHttpsPort: Type.Optional(
          Type.Integer({ minimum: 1, maximum: 65535, description: 'HTTPS port written in redirects when clients reach the gateway on another port than listen.port (port mapping, NAT); 443 is left out of the URL.' }),
        ),
      },
      { default: {}, description: 'The public listener.' },
    ),
    admin: Strict(
      {
        host: Type.String({ default: '127.0.0.1' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 9901 }),
        token: Type.Optional(Type.String({ description: 'Bearer token required by the admin API.' })),
        enabled: Type.Boolean({ default: true }),
      },
      { default: {}, description: 'The admin/ops listener; never on the public port.' },
    ),
    routes: Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1 })], {
      default: './routes',
      description: 'A directory of route files, or a list of files.',
    }),
    trustProxy: Type.Union([Type.Boolean(), Type.Array(Type.String(), { minItems: 1 })], {
      default: false,
      description: 'Proxies whose X-Forwarded-For is believed: false, true (all), or a list of CIDRs/addresses.',
    }),
    trustRequestId: Type.Boolean({ default: false, description: 'Keep a client-sent X-Request-Id (only from trusted proxies when trustProxy is set).' }),
    plugins: Type.String({ default: './plugins', description: 'Directory of custom plugins.' }),
    chain: Type.Array(PluginRef, { default: [], description: 'Plugins that run on every route.' }),
    redis: Type.Optional(Strict({ url: Type.String({ description: 'redis://, rediss://, sentinel or cluster URL; empty = embedded store.' }) })),
    stickySecret: Type.Optional(
      Type.String({
        minLength: 16,
        description: 'Key signing sticky-routing cookies; give every instance the same one (e.g. ${STICKY_SECRET}). Default: SWITCHYARD_STICKY_SECRET, else a random key per process.',
      }),
    ),
    limits: Type.Optional(Limits),
    log: Strict(
      {
        level: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)), { default: 'info' }),
        pretty: Type.Optional(Type.Boolean({ description: 'Human-readable logs (default: when stdout is a terminal).' })),
        accessLog: Type.Boolean({ default: true }),
        refusalLinesPerSecond: Type.Integer({
          minimum: 0,
          default: 20,
          description:
            'Most access-log lines per second for requests the HTTP/1 parser refuses (bad framing, oversized headers, header timeout); the rest are counted in switchyard_events_total{event="access_log_suppressed"} and summed in one warning per second. They are always counted in switchyard_requests_total.',
        }),
        redact: Type.Array(Type.String(), { default: ['authorization', 'cookie', 'set-cookie', 'proxy-authorization'] }),
      },
      { default: {} },
    ),
    shutdownTimeout: Duration('Longest wait for in-flight requests on shutdown.', '30s'),
    memory: Strict(
      {
        releaseWhenIdle: Duration(
          'After this long without a request (and none in flight), give unused heap back to the OS once: one memory-reducing full GC, about 50–70 ms with 1,000 routes. 0 = never.',
          '10s',
        ),
      },
      { default: {}, description: 'Process memory.' },
    ),
    workers: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1 }), Type.Literal('auto')], {
        description: 'Worker processes sharing the public port (node:cluster); "auto" = one per CPU. Default: 1, or "auto" when NODE_ENV=production. `start --workers` overrides it.',
      }),
    ),
    tracing: Strict(
      {
        enabled: Type.Boolean({ default: true, description: 'Propagate W3C traceparent/tracestate to upstreams (a new trace when absent) and log the trace id.' }),
        sampled: Type.Boolean({ default: true, description: 'Sampled flag of the traces the gateway starts (an incoming flag is kept as sent).' }),
        otlp: Type.Optional(
          Strict(
            {
              endpoint: Type.Optional(
                Type.String({
                  pattern: '^https?://',
                  description: 'OTLP/HTTP traces URL, e.g. http://collector:4318/v1/traces. Default: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces.',
                }),
              ),
              headers: Type.Optional(StringMap('Headers sent with every export, e.g. an API key (use ${VAR}); added to OTEL_EXPORTER_OTLP_(TRACES_)HEADERS, these win.')),
              serviceName: Type.Optional(Type.String({ minLength: 1, description: 'Resource service.name. Default: OTEL_SERVICE_NAME, else "switchyard".' })),
              timeout: Duration('Longest time one export may take (connect, send, answer); a slower one is dropped.', '10s'),
              maxBatch: Type.Integer({ minimum: 1, default: 512, description: 'Most spans in one export request; a full batch is sent at once.' }),
              flushInterval: Duration('Time between exports of a partial batch.', '5s'),
              maxQueue: Type.Integer({ minimum: 1, default: 2048, description: 'Most spans waiting for export; beyond it new spans are dropped (and counted), never buffered without bound.' }),
            },
            { description: 'Export one SERVER span per sampled request to an OpenTelemetry collector (OTLP/HTTP JSON). Absent = off.' },
          ),
        ),
      },
      { default: {}, description: 'W3C Trace Context propagation.' },
    ),
    reload: Strict({ watch: Type.Boolean({ default: true }), debounce: Duration('Quiet time before a reload.', '300ms') }, { default: {} }),
  },
  { title: 'Switchyard gateway config', description: 'gateway.yaml' },
);
export type GatewayDoc = Static<typeof Gateway>;
export type UpstreamDoc = Static<typeof Upstream>;
export type RouteDoc = Static<typeof Route>;
export type TargetDoc = Static<typeof Target>;
export type HealthCheckDoc = Static<typeof HealthCheck>;
export type LimitsDoc = Static<typeof Limits>;
export type { TSchema };
