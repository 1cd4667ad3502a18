/**
 * The published JSON Schemas (schema/*.schema.json) are exactly what the
 * TypeBox declarations produce; regenerate with `npx tsx scripts/gen-schema.ts`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { publishedSchemas, SCHEMA_DIR } from '../../scripts/gen-schema.js';

describe('published schemas', () => {
  it.each(Object.entries(publishedSchemas()))('%s is up to date (run npx tsx scripts/gen-schema.ts)', async (name, text) => {
    expect(await readFile(path.join(SCHEMA_DIR, name), 'utf8')).toBe(text);
  });

  it('are draft-07 schemas that editors can use without our defaults', () => {
    const route = JSON.parse(publishedSchemas()['route-file.schema.json']!);
    expect(route.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(route.$id).toBe('urn:switchyard:schema:route-file');
    const upstream = Object.values(route.properties.upstreams.patternProperties)[0] as { required?: string[]; properties: Record<string, unknown> };
    // balancer etc. have defaults: optional to write; targets or discover (exactly one) is checked by validate.ts (15).
    expect(upstream.required).toBeUndefined();
    expect(Object.keys(upstream.properties)).toEqual(expect.arrayContaining(['targets', 'discover']));
  });
});
