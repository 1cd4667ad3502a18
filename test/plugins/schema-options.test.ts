/**
 * 13.20: the published JSON Schemas (what editors use) know each built-in
 * plugin's options, so a misspelt option is flagged while typing; and the
 * committed files are exactly a fresh generation (`npm run schema`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { publishedSchemas, SCHEMA_DIR } from '../../scripts/gen-schema.js';
import { BUILTIN_PLUGINS } from '../../src/plugins/builtins.js';

/** validatorFor compiles a committed schema file as an editor's JSON Schema validator would (draft-07, lenient keywords). */
function validatorFor(file: string) {
  const ajv = new Ajv({ allErrors: true, strict: false });
  return ajv.compile(JSON.parse(readFileSync(join(SCHEMA_DIR, file), 'utf8')) as object);
}

const routeFile = (plugins: string) =>
  parseYaml(`upstreams:
  api: { targets: [{ url: "http://127.0.0.1:8081" }] }
routes:
  - id: api
    match: { path: /api/* }
    upstream: api
    plugins:
${plugins}
`) as unknown;

describe('13.20: plugin options in the published schemas', () => {
  it('13.20: a misspelt jwt option (algoritms) in a route file is an error against schema/route-file.schema.json', () => {
    const validate = validatorFor('route-file.schema.json');
    expect(validate(routeFile('      - jwt: { secret: "${JWT_SECRET}", algorithms: [HS256] }')), JSON.stringify(validate.errors)).toBe(true);
    expect(validate(routeFile('      - jwt: { secret: "${JWT_SECRET}", algoritms: [HS256] }'))).toBe(false);
    expect(validate.errors!.some((e) => e.keyword === 'additionalProperties' && e.params.additionalProperty === 'algoritms')).toBe(true);
  });

  it('13.20: option types are checked too, a bare name or null options stay valid, and custom plugins keep any options', () => {
    const validate = validatorFor('route-file.schema.json');
    expect(validate(routeFile('      - rate-limit: { max: "many" }'))).toBe(false);
    expect(validate(routeFile('      - cors\n      - request-id:\n      - my-custom: { anything: [1, 2] }')), JSON.stringify(validate.errors)).toBe(true);
  });

  it('13.20: the global chain in gateway.yaml is checked the same way', () => {
    const validate = validatorFor('gateway.schema.json');
    expect(validate({ chain: [{ cors: { origins: ['https://a.example'] } }] }), JSON.stringify(validate.errors)).toBe(true);
    expect(validate({ chain: [{ cors: { origin: ['https://a.example'] } }] })).toBe(false);
  });

  it('13.20: every built-in plugin is described, and the committed schemas equal a fresh generation', () => {
    const fresh = publishedSchemas();
    const route = JSON.parse(fresh['route-file.schema.json']!) as { properties: { routes: { items: { properties: { plugins: { items: { anyOf: [unknown, { properties: object }] } } } } } } };
    const known = Object.keys(route.properties.routes.items.properties.plugins.items.anyOf[1].properties);
    expect(known.sort()).toEqual(BUILTIN_PLUGINS.map((d) => d.name).sort());
    for (const [name, text] of Object.entries(fresh)) expect(readFileSync(join(SCHEMA_DIR, name), 'utf8'), `${name}: run npm run schema`).toBe(text);
  });
});
