/**
 * The plugins that ship with the gateway. Each lives in its own folder under
 * `builtin/`, written with the same definePlugin SDK third-party authors use,
 * so any of them can be copied as a starting point.
 *
 * Why a manifest and a loader instead of the definitions: a gateway whose
 * configuration names no plugin (or only a few) should not carry the code of
 * all eight. Each folder's schema.ts holds the manifest (name, description,
 * options schema), which is all that reading and validating a chain entry,
 * the published JSON Schemas and `switchyard plugin new` need; index.ts, the
 * implementation, is imported the first time a configuration uses the plugin.
 */
import type { TSchema } from '@sinclair/typebox';
import type { PluginDefinition } from './types.js';
import { manifest as jwt } from './builtin/jwt/schema.js';
import { manifest as requestId } from './builtin/request-id/schema.js';
import { manifest as cors } from './builtin/cors/schema.js';
import { manifest as headers } from './builtin/headers/schema.js';
import { manifest as ipFilter } from './builtin/ip-filter/schema.js';
import { manifest as bodyLimit } from './builtin/body-limit/schema.js';
import { manifest as session } from './builtin/session/schema.js';
import { manifest as rateLimit } from './builtin/rate-limit/schema.js';

/** BuiltinPlugin is a built-in plugin's manifest plus the import of its implementation. */
export interface BuiltinPlugin {
  readonly name: string;
  readonly description: string;
  /** options is the TypeBox schema the implementation's definition declares too (the same object). */
  readonly options: TSchema;
  /** load imports the implementation (Node caches the module: later calls cost a lookup). */
  load(): Promise<PluginDefinition>;
}

const builtin = (manifest: { name: string; description: string; options: TSchema }, load: () => Promise<{ default: unknown }>): BuiltinPlugin => ({
  ...manifest,
  load: async () => (await load()).default as PluginDefinition,
});

/** BUILTIN_PLUGINS are registered in every gateway, in this order; their code loads on first use. */
export const BUILTIN_PLUGINS: readonly BuiltinPlugin[] = [
  builtin(jwt, () => import('./builtin/jwt/index.js')),
  builtin(requestId, () => import('./builtin/request-id/index.js')),
  builtin(cors, () => import('./builtin/cors/index.js')),
  builtin(headers, () => import('./builtin/headers/index.js')),
  builtin(ipFilter, () => import('./builtin/ip-filter/index.js')),
  builtin(bodyLimit, () => import('./builtin/body-limit/index.js')),
  builtin(session, () => import('./builtin/session/index.js')),
  builtin(rateLimit, () => import('./builtin/rate-limit/index.js')),
];
