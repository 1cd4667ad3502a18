/**
 * The shape of a route file: upstream pools by name and routes, each route a
 * match, an upstream, and what happens on the way (plugins, retries,
 * timeouts, WebSockets, shadow copies). Part of the config schemas (see src/config/schema.ts).
 */
import { Type, type Static } from '@sinclair/typebox';
import { PluginRefSchema, Strict, StringMap } from './schema-common.js';
import { RouteTimeoutsSchema, UpstreamSchema } from './schema-upstream.js';
import { StreamRouteSchema } from './schema-stream.js';
import { SplitSchema } from './schema-split.js';
import { MirrorSchema } from './schema-mirror.js';

/** RouteMatchSchema declares what a request must look like to take a route. */
export const RouteMatchSchema = Strict(
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

/** RouteSchema maps matching requests to an upstream pool. */
export const RouteSchema = Strict(
  {
    id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', description: 'Unique across all route files.' }),
    match: RouteMatchSchema,
    upstream: Type.String({ description: 'Name of an upstream (from any route file).' }),
    split: Type.Optional(SplitSchema),
    stripPrefix: Type.Boolean({ default: false, description: 'Remove the literal path prefix before proxying.' }),
    plugins: Type.Optional(Type.Array(PluginRefSchema, { description: 'Plugins run after the global chain.' })),
    retry: Type.Optional(
      Strict({
        attempts: Type.Integer({ minimum: 0, maximum: 5, default: 1, description: 'Extra attempts on another target.' }),
        on: Type.Array(Type.Integer({ minimum: 500, maximum: 599 }), { default: [502, 503, 504], description: 'Statuses retried for idempotent methods.' }),
        bufferBody: Type.Integer({ minimum: 0, default: 65536, description: 'Bodies up to this size are buffered so they can be replayed.' }),
      }),
    ),
    timeouts: Type.Optional(RouteTimeoutsSchema),
    bodyLimit: Type.Optional(Type.Integer({ minimum: 0, description: 'Largest request body accepted, in bytes (overrides limits.bodyLimit).' })),
    mirror: Type.Optional(MirrorSchema),
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

/** RouteDoc is one validated route. */
export type RouteDoc = Static<typeof RouteSchema>;

/** RouteFileSchema declares one team's file under routes/. */
export const RouteFileSchema = Strict(
  {
    $schema: Type.Optional(Type.String()),
    // additionalProperties: false, or a name that fails the pattern would skip validation altogether.
    upstreams: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }), UpstreamSchema, { additionalProperties: false, description: 'Upstream pools by name (global).' }),
    ),
    routes: Type.Optional(Type.Array(RouteSchema, { description: 'Routes.' })),
    streamRoutes: Type.Optional(Type.Array(StreamRouteSchema, { description: 'Layer-4 routes onto the stream listeners of gateway.yaml.' })),
  },
  { title: 'Switchyard route file', description: 'Upstream pools and routes of one team.' },
);
/** RouteFileDoc is a validated route file. */
export type RouteFileDoc = Static<typeof RouteFileSchema>;
