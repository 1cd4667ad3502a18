/**
 * The shapes of layer-4 streams: the listeners operators declare in
 * gateway.yaml (`streams:`), and the stream routes teams write in route files
 * (`streamRoutes:`). Limits and timeouts default to front-door values (see the
 * table in docs/operations.md). Part of the config schemas (see src/config/schema.ts).
 */
import { Type, type Static } from '@sinclair/typebox';
import { Duration } from './duration.js';
import { Strict } from './schema-common.js';

/** STREAM_PROTOCOLS names what a stream listener speaks. */
export const STREAM_PROTOCOLS = ['tcp', 'tls-passthrough', 'udp'] as const;

/** StreamProtocol is one of STREAM_PROTOCOLS. */
export type StreamProtocol = (typeof STREAM_PROTOCOLS)[number];

/** NAME_PATTERN is the pattern of listener names and stream route ids. */
const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]*$';

/** StreamListenerSchema declares one stream listener of gateway.yaml. */
export const StreamListenerSchema = Strict(
  {
    listen: Strict(
      {
        host: Type.String({ default: '0.0.0.0', description: 'Address to listen on.' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, description: 'Port to listen on (a change needs a restart).' }),
      },
      { description: 'Where the listener accepts connections (or datagrams).' },
    ),
    protocol: Type.Union(STREAM_PROTOCOLS.map((p) => Type.Literal(p)), {
      default: 'tcp',
      description: 'tcp: bytes both ways; tls-passthrough: routed by the ClientHello\'s SNI, never decrypted; udp: datagrams in sessions per client address.',
    }),
    connectTimeout: Duration({ description: 'Longest wait for a target to accept the connection; a failed or slow connect is retried once on another target.', default: '5s' }),
    idleTimeout: Duration({ description: 'A connection with no byte in either direction for this long is closed (0 = never).', default: '10m' }),
    clientHelloTimeout: Duration({ description: 'tls-passthrough: time for the client to send its whole ClientHello.', default: '5s' }),
    maxClientHello: Type.Integer({ minimum: 512, maximum: 65536, default: 16384, description: 'tls-passthrough: largest ClientHello read to find the SNI, in bytes (a larger one is refused).' }),
    maxConnections: Type.Integer({ minimum: 0, default: 10000, description: 'Most connections (udp: sessions) open at once on this listener; more are closed as they arrive (0 = no limit).' }),
    drainTimeout: Duration({ description: 'After a reload or shutdown removes what a connection uses, it may go on this long, then it is cut.', default: '30s' }),
    sessionIdleTimeout: Duration({ description: 'udp: a session with no datagram either way for this long ends.', default: '30s' }),
    maxDatagramSize: Type.Integer({ minimum: 1, maximum: 65507, default: 8192, description: 'udp: larger datagrams are dropped and counted.' }),
  },
  { description: 'A layer-4 listener.' },
);

/** StreamListenerDoc is one validated stream listener. */
export type StreamListenerDoc = Static<typeof StreamListenerSchema>;

/** StreamsSchema declares gateway.yaml's `streams`: listeners by name. */
export const StreamsSchema = Type.Record(Type.String({ pattern: NAME_PATTERN }), StreamListenerSchema, {
  additionalProperties: false,
  description: 'Layer-4 listeners (TCP, TLS passthrough by SNI, UDP) by name; route files attach streamRoutes to them.',
});

/** StreamRouteSchema attaches an upstream pool to a stream listener. */
export const StreamRouteSchema = Strict(
  {
    id: Type.String({ pattern: NAME_PATTERN, description: 'Unique across all stream routes.' }),
    listener: Type.String({ description: 'Name of a listener under `streams` in gateway.yaml.' }),
    match: Type.Optional(
      Strict(
        {
          sni: Type.String({
            pattern: '^(\\*\\.)?[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$',
            description: 'tls-passthrough only: server name of the ClientHello; "*.example.com" matches one or more labels.',
          }),
        },
        { description: 'Connection conditions; none = every connection the listener\'s other routes do not take.' },
      ),
    ),
    upstream: Type.String({ description: 'Name of an upstream with tcp:// (or udp://) targets.' }),
  },
  { description: 'A stream route.' },
);

/** StreamRouteDoc is one validated stream route. */
export type StreamRouteDoc = Static<typeof StreamRouteSchema>;

/** ProxyProtocolVersionSchema declares which PROXY protocol header a stream upstream is sent. */
export const ProxyProtocolVersionSchema = Type.Union([Type.Literal('v1'), Type.Literal('v2')], {
  description: "Stream upstreams only: send the client's address first, as a PROXY protocol v1 (text) or v2 (binary) header.",
});
