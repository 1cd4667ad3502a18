/**
 * definePlugin: the one way to declare a plugin, built-in or third-party. At
 * runtime it only checks the name and brands the definition (so the loader
 * can tell a plugin from any other default export); it exists for type
 * inference — the options type authors get in `create` comes straight from
 * their TypeBox schema.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { Awaitable, PluginContext, PluginDefinition, PluginHooks } from './types.js';

export { Type };
export type { Static, TSchema };

/** PLUGIN_NAME_PATTERN is what a plugin name must look like: lower-case words joined by dashes (it is also a folder name). */
export const PLUGIN_NAME_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/**
 * PLUGIN_BRAND marks definitions made by definePlugin. Symbol.for, not a
 * module-local symbol, so a plugin compiled against another copy of the SDK
 * (a .ts plugin loaded through tsx) is still recognised.
 */
export const PLUGIN_BRAND: unique symbol = Symbol.for('switchyard.plugin') as never;

/** PluginSpec is what an author writes: a name, an options schema and a factory for the hooks. */
export interface PluginSpec<S extends TSchema> {
  /** name is how route files refer to the plugin (and its folder name for custom plugins). */
  name: string;
  /** description is one line shown by `switchyard explain` and editors. */
  description?: string;
  /** options is the TypeBox schema of the options; validated, defaulted and strict (no unknown keys) before create is called. */
  options: S;
  /** create builds the hooks once per place the plugin is used; do all parsing here, so hooks stay cheap. */
  create(options: Static<S>, ctx: PluginContext): Awaitable<PluginHooks>;
}

/** definePlugin declares a plugin; TypeScript infers the options type of `create` from the schema. */
export function definePlugin<S extends TSchema>(spec: PluginSpec<S>): PluginDefinition<S> {
  if (!PLUGIN_NAME_PATTERN.test(spec.name)) {
    throw new TypeError(`plugin name "${spec.name}" is invalid: use lower-case letters, digits and dashes (e.g. "my-plugin")`);
  }
  const def: PluginDefinition<S> = {
    name: spec.name,
    options: spec.options,
    create: spec.create,
    ...(spec.description === undefined ? {} : { description: spec.description }),
  };
  Object.defineProperty(def, PLUGIN_BRAND, { value: true });
  return Object.freeze(def);
}

/** isPluginDefinition tells whether a value was made by definePlugin (from any copy of the SDK). */
export function isPluginDefinition(value: unknown): value is PluginDefinition {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[PLUGIN_BRAND] === true;
}
