/**
 * The config shapes, declared once. Each TypeBox schema gives the JSON Schema
 * that validates files (and is published under schema/ for editors) and the
 * TypeScript type of the validated document. Every object is strict
 * (additionalProperties: false) so a misspelt key is an error, not a silent no-op.
 *
 * This file is the one place to import them from; they are declared by area:
 * schema-common.ts (building blocks), schema-upstream.ts (pools),
 * schema-route.ts (route files), schema-gateway.ts (gateway.yaml) and
 * schema-stream.ts (layer-4 listeners and stream routes).
 * Consts end in `Schema`, static types in `Doc`.
 */
export { PluginRefSchema, Strict, type PluginRefDoc } from './schema-common.js';
export {
  BALANCERS,
  HealthCheckSchema,
  OutlierDetectionSchema,
  RouteTimeoutsSchema,
  StatusListSchema,
  TargetSchema,
  UpstreamSchema,
  UpstreamTimeoutsSchema,
  type BalancerName,
  type HealthCheckDoc,
  type TargetDoc,
  type UpstreamDoc,
} from './schema-upstream.js';
export { RouteFileSchema, RouteMatchSchema, RouteSchema, type RouteDoc, type RouteFileDoc } from './schema-route.js';
export { SplitLegSchema, SplitSchema, SplitWhenSchema, type SplitDoc, type SplitLegDoc } from './schema-split.js';
export { MIRROR_DEFAULT_METHODS, MirrorSchema, type MirrorDoc } from './schema-mirror.js';
export { GatewaySchema, LimitsSchema, type GatewayDoc, type LimitsDoc } from './schema-gateway.js';
export {
  ProxyProtocolVersionSchema,
  STREAM_PROTOCOLS,
  StreamListenerSchema,
  StreamRouteSchema,
  StreamsSchema,
  type StreamListenerDoc,
  type StreamProtocol,
  type StreamRouteDoc,
} from './schema-stream.js';
