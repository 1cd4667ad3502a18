/**
 * The shape of gateway.yaml: listeners (with TLS), the admin API, where route
 * files and plugins are, the global chain, Redis, front-door limits, logs,
 * workers, tracing and reloads. Part of the config schemas (see src/config/schema.ts).
 */
import { Type, type Static } from '@sinclair/typebox';
import { AutoRoutesSchema, DnsOptionsSchema } from './discover.js';
import { RegistryOptionsSchema } from './discovery.js';
import { Duration } from './duration.js';
import { PluginRefSchema, Strict, StringMap } from './schema-common.js';
import { ProxyProtocolSchema } from './proxy-protocol.js';
import { StreamsSchema } from './schema-stream.js';

/** LimitsSchema declares the front-door limits on what clients may send. */
export const LimitsSchema = Strict(
  {
    headerTimeout: Duration({ description: 'Time for a client to send the request headers (408 after).', default: '10s' }),
    requestTimeout: Duration({ description: 'Time for a client to send the whole request (408 after).', default: '60s' }),
    keepAliveTimeout: Duration({ description: 'Idle keep-alive client connections are closed after this.', default: '5s' }),
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
    sendTimeout: Duration({ description: 'Longest wait for a client to take more of a response (or of WebSocket traffic) while its connection is full; the connection is then closed (0 = no limit).', default: '60s' }),
    mirrorConcurrency: Type.Integer({
      minimum: 0,
      default: 64,
      description: 'Most shadow copies (routes\' `mirror`) in flight at once per process, all routes together; a copy over it is dropped and counted, never queued (0 = mirroring off).',
    }),
    invalidHeaders: Type.Union([Type.Literal('drop'), Type.Literal('reject'), Type.Literal('allow')], {
      default: 'drop',
      description:
        "Request header names with anything but letters, digits and '-' (X.User.Id, X_User_Id), which servers such as PHP, WSGI and Rack read as the dashed name: 'drop' leaves them out of the request sent upstream (nginx's ignore_invalid_headers); 'reject' answers 400; 'allow' forwards them, except spellings of headers the gateway or a plugin sets.",
    }),
  },
  { default: {}, description: 'Front-door limits.' },
);

/** LimitsDoc is the validated front-door limits. */
export type LimitsDoc = Static<typeof LimitsSchema>;

/** GatewaySchema declares gateway.yaml. */
export const GatewaySchema = Strict(
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
              recheck: Duration({ description: 'Certificate files are reloaded on file-system events; they are also re-read this often in case an event was missed (0 = events only).', default: '1m' }),
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
    chain: Type.Array(PluginRefSchema, { default: [], description: 'Plugins that run on every route.' }),
    redis: Type.Optional(Strict({ url: Type.String({ description: 'redis://, rediss://, sentinel or cluster URL; empty = embedded store.' }) })),
    stickySecret: Type.Optional(
      Type.String({
        minLength: 16,
        description: 'Key signing sticky-routing cookies; give every instance the same one (e.g. ${STICKY_SECRET}). Default: SWITCHYARD_STICKY_SECRET, else a random key per process.',
      }),
    ),
    limits: Type.Optional(LimitsSchema),
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
    shutdownTimeout: Duration({ description: 'Longest wait for in-flight requests on shutdown.', default: '30s' }),
    memory: Strict(
      {
        releaseWhenIdle: Duration({
          description:
            'After this long without a request (and none in flight), give unused heap back to the OS once: one memory-reducing full GC, about 50–70 ms with 1,000 routes, which a request arriving meanwhile waits out. 0 = never (the default: a bursty front door would pay that pause on every burst; about 124 → 84 MiB idle RSS with 1,000 routes when on).',
          default: 0,
        }),
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
              timeout: Duration({ description: 'Longest time one export may take (connect, send, answer); a slower one is dropped.', default: '10s' }),
              maxBatch: Type.Integer({ minimum: 1, default: 512, description: 'Most spans in one export request; a full batch is sent at once.' }),
              flushInterval: Duration({ description: 'Time between exports of a partial batch.', default: '5s' }),
              maxQueue: Type.Integer({ minimum: 1, default: 2048, description: 'Most spans waiting for export; beyond it new spans are dropped (and counted), never buffered without bound.' }),
            },
            { description: 'Export one SERVER span per sampled request to an OpenTelemetry collector (OTLP/HTTP JSON). Absent = off.' },
          ),
        ),
      },
      { default: {}, description: 'W3C Trace Context propagation.' },
    ),
    discovery: Type.Optional(
      Strict(
        {
          registry: Type.Optional(RegistryOptionsSchema),
          dns: Type.Optional(DnsOptionsSchema),
          autoRoutes: Type.Optional(AutoRoutesSchema),
        },
        { description: "Service discovery: the gateway's own Eureka-compatible registry, and the resolver `discover: { dns }` asks." },
      ),
    ),
    proxyProtocol: Type.Optional(ProxyProtocolSchema),
    streams: Type.Optional(StreamsSchema),
    reload: Strict({ watch: Type.Boolean({ default: true }), debounce: Duration({ description: 'Quiet time before a reload.', default: '300ms' }) }, { default: {} }),
  },
  { title: 'Switchyard gateway config', description: 'gateway.yaml' },
);

/** GatewayDoc is a validated gateway.yaml (defaults applied). */
export type GatewayDoc = Static<typeof GatewaySchema>;
