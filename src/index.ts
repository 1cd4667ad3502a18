/**
 * Switchyard's programmatic API (`switchyard-gateway`): embed a gateway with
 * createGateway, and the SDK for writing plugins. This file is the whole
 * surface: what it does not export is internal and may change in any
 * release. The HTTP helpers plugins share with the core are the
 * `switchyard-gateway/http` entry (src/http/index.ts), the test helpers the
 * `switchyard-gateway/testing` entry (src/testing/index.ts); docs/sdk.md
 * lists all three.
 */
export { createGateway, type Gateway, type GatewayOptions, type ListeningPorts, type ReloadResult } from './gateway/api.js';
export { ConfigError, ConfigInvalid } from './config/errors.js';
export { ERRORS, type ErrorCode } from './errors.js';
export { definePlugin, Type, type PluginSpec, type Static, type TSchema } from './plugins/define.js';
export { parseDuration } from './config/duration.js';
export { Duration, type TDuration } from './plugins/duration.js';
export { StoreUnavailableError } from './stores/store-error.js';
export type { Store } from './stores/store.js';
export type { PluginDefinition, PluginHooks, PluginRequest, PluginResponse, PluginContext, Answer, Awaitable, Clock, PluginMetrics } from './plugins/types.js';
