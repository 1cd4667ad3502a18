/**
 * The building blocks of the config schemas (src/config/schema.ts lists them
 * all): strict objects, string maps and plugin chain entries. Schema consts
 * end in `Schema` and their static types in `Doc`, so neither is mistaken for
 * the runtime class of the same thing (Gateway, Upstream, Target).
 */
import { Type, type Static, type TObject, type TProperties, type ObjectOptions } from '@sinclair/typebox';

/** Strict builds an object schema that rejects unknown keys. */
export function Strict<T extends TProperties>(props: T, opts: ObjectOptions = {}): TObject<T> {
  return Type.Object(props, { additionalProperties: false, ...opts });
}

/** StringMap declares a map of string to string (headers, query parameters, cookies). */
export const StringMap = (description: string) => Type.Record(Type.String(), Type.String(), { description });

/** PluginRefSchema declares a chain entry: a plugin name alone (`- cors`) or with options (`- cors: { origins: [...] }`). */
export const PluginRefSchema = Type.Union(
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
/** PluginRefDoc is a chain entry as written. */
export type PluginRefDoc = Static<typeof PluginRefSchema>;
