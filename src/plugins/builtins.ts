/**
 * The plugins that ship with the gateway. Each lives in its own folder under
 * `builtin/`, written with the same definePlugin SDK third-party authors use,
 * so any of them can be copied as a starting point.
 */
import type { PluginDefinition } from './types.js';
import jwt from './builtin/jwt/index.js';
import requestId from './builtin/request-id/index.js';
import cors from './builtin/cors/index.js';
import headers from './builtin/headers/index.js';
import ipFilter from './builtin/ip-filter/index.js';
import bodyLimit from './builtin/body-limit/index.js';
import session from './builtin/session/index.js';
import rateLimit from './builtin/rate-limit/index.js';

/** BUILTIN_PLUGINS are registered in every gateway, in this order. */
export const BUILTIN_PLUGINS: readonly PluginDefinition[] = [
  jwt as PluginDefinition,
  requestId as PluginDefinition,
  cors as PluginDefinition,
  headers as PluginDefinition,
  ipFilter as PluginDefinition,
  bodyLimit as PluginDefinition,
  session as PluginDefinition,
  rateLimit as PluginDefinition,
];
