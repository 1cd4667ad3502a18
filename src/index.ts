/**
 * Switchyard's programmatic API: start a gateway in-process, and the SDK for
 * writing gateway plugins.
 */
export { createGateway, Gateway, type GatewayOptions, type ReloadResult } from './gateway/gateway.js';
export { ConfigError, ConfigInvalid } from './config/errors.js';
export { loadConfig, type LoadedConfig, type LoadOptions } from './config/load.js';
export { ERRORS, GatewayError, type ErrorCode } from './errors.js';
export { definePlugin, Type } from './plugins/define.js';
export type { PluginDefinition, PluginHooks, PluginRequest, PluginResponse, PluginContext, Answer, Clock, PluginMetrics } from './plugins/types.js';
export type { Store } from './stores/store.js';
export type { Balancer, Balanceable } from './balancing/balancer.js';
