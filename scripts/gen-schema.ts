/**
 * Writes the published JSON Schemas (schema/*.schema.json) from the TypeBox
 * declarations in src/config/schema.ts, so editors validate and complete
 * route files and gateway.yaml with exactly what the gateway enforces —
 * including each built-in plugin's options, taken from the plugins' own
 * TypeBox schemas (made strict as the loader makes them), so a misspelt
 * `jwt: { algoritms: … }` is underlined while typing. Custom plugins' options
 * stay unchecked there (the schema cannot know them; `switchyard validate` does).
 * Run: `npx tsx scripts/gen-schema.ts`. A test fails when the committed files
 * differ from what this produces.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TSchema } from '@sinclair/typebox';
import { GatewaySchema, PluginRefSchema, RouteFileSchema } from '../src/config/schema.js';
import { BUILTIN_PLUGINS } from '../src/plugins/builtins.js';
import { strictObjects } from '../src/plugins/options.js';

/** SCHEMA_DIR is where the published schemas live (schema/ at the repository root). */
export const SCHEMA_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'schema');

const PUBLISHED: Record<string, { schema: TSchema; id: string }> = {
  'route-file.schema.json': { schema: RouteFileSchema, id: 'urn:switchyard:schema:route-file' },
  'gateway.schema.json': { schema: GatewaySchema, id: 'urn:switchyard:schema:gateway' },
};

/** publishedSchemas renders each published schema file's exact text, by file name. */
export function publishedSchemas(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, { schema, id }] of Object.entries(PUBLISHED)) {
    // The JSON round trip drops TypeBox's symbol keys, leaving plain draft-07 JSON Schema.
    const plain = optionalDefaults(withPluginOptions(JSON.parse(JSON.stringify(schema))));
    const doc = { $schema: 'http://json-schema.org/draft-07/schema#', $id: id, ...(plain as object) };
    out[name] = `${JSON.stringify(doc, null, 2)}\n`;
  }
  return out;
}

/**
 * pluginRefWithOptions is PluginRefSchema's JSON Schema with the `{ name: options }`
 * branch knowing every built-in plugin's options (or null: `- cors:` means
 * default options). Other names (custom plugins) keep any options.
 */
function pluginRefWithOptions(): Record<string, unknown> {
  const plain = JSON.parse(JSON.stringify(PluginRefSchema)) as { anyOf: [object, Record<string, unknown>] };
  const properties = Object.fromEntries(
    BUILTIN_PLUGINS.map((def) => [def.name, { ...(def.description ? { description: def.description } : {}), anyOf: [{ type: 'null' }, strictObjects(def.options)] }]),
  );
  return { ...plain, anyOf: [plain.anyOf[0], { ...plain.anyOf[1], properties }] };
}

/** withPluginOptions replaces every PluginRefSchema in a plain schema with pluginRefWithOptions(). */
function withPluginOptions(node: unknown): unknown {
  const ref = JSON.stringify(PluginRefSchema);
  const replacement = pluginRefWithOptions();
  const walk = (n: unknown): unknown => {
    if (Array.isArray(n)) return n.map(walk);
    if (n === null || typeof n !== 'object') return n;
    if (JSON.stringify(n) === ref) return replacement;
    return Object.fromEntries(Object.entries(n).map(([k, v]) => [k, walk(v)]));
  };
  return walk(node);
}

/**
 * optionalDefaults drops keys that have a default from `required`. TypeBox
 * marks them required because the loader fills them in before checking, but
 * an editor does not, and would flag every file that leaves them out.
 */
function optionalDefaults(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(optionalDefaults);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = optionalDefaults(v);
  const props = out.properties as Record<string, { default?: unknown }> | undefined;
  if (Array.isArray(out.required) && props) {
    const required = (out.required as string[]).filter((k) => props[k]?.default === undefined);
    if (required.length > 0) out.required = required;
    else delete out.required;
  }
  return out;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  for (const [name, text] of Object.entries(publishedSchemas())) {
    writeFileSync(path.join(SCHEMA_DIR, name), text);
    console.log(`wrote schema/${name}`);
  }
}
