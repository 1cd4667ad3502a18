/**
 * Writes the published JSON Schemas (schema/*.schema.json) from the TypeBox
 * declarations in src/config/schema.ts, so editors validate and complete
 * route files and gateway.yaml with exactly what the gateway enforces.
 * Run: `npx tsx scripts/gen-schema.ts`. A test fails when the committed files
 * differ from what this produces.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TSchema } from '@sinclair/typebox';
import { Gateway, RouteFile } from '../src/config/schema.js';

/** SCHEMA_DIR is where the published schemas live (schema/ at the repository root). */
export const SCHEMA_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'schema');

const PUBLISHED: Record<string, { schema: TSchema; id: string }> = {
  'route-file.schema.json': { schema: RouteFile, id: 'urn:switchyard:schema:route-file' },
  'gateway.schema.json': { schema: Gateway, id: 'urn:switchyard:schema:gateway' },
};

/** publishedSchemas renders each published schema file's exact text, by file name. */
export function publishedSchemas(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, { schema, id }] of Object.entries(PUBLISHED)) {
    // The JSON round trip drops TypeBox's symbol keys, leaving plain draft-07 JSON Schema.
    const plain = optionalDefaults(JSON.parse(JSON.stringify(schema)));
    const doc = { $schema: 'http://json-schema.org/draft-07/schema#', $id: id, ...(plain as object) };
    out[name] = `${JSON.stringify(doc, null, 2)}\n`;
  }
  return out;
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
