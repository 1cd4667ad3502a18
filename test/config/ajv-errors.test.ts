/**
 * One Ajv error renderer (src/config/ajv-errors.ts) for gateway.yaml, route
 * files and plugin options: the same mistake reads the same wherever it is
 * made. Each case runs a schema through the document validator and through
 * the plugin options validator and expects the same words from both.
 */
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { Duration } from '../../src/config/duration.js';
import { NO_POSITION } from '../../src/config/errors.js';
import { compileValidator } from '../../src/config/validate.js';
import { compileOptions } from '../../src/plugins/options.js';

const Options = Type.Object(
  {
    origins: Type.Array(Type.String(), { default: ['*'] }),
    max: Type.Integer({ minimum: 1 }),
    window: Duration({ default: '1m' }),
    mode: Type.Union([Type.Literal('drop'), Type.Literal('reject')], { default: 'drop' }),
  },
  { additionalProperties: false },
);
const asDocument = compileValidator(Options);
const asPluginOptions = compileOptions(Options);

/** documentLines is what the route-file validator says, as `path: message; suggestion`. */
function documentLines(value: Record<string, unknown>): string[] {
  return asDocument(structuredClone(value), { file: 'f', locate: NO_POSITION }).map((e) => e.format().replace(/^f: /, ''));
}

/** optionLines is what the plugin options validator says, in the same form. */
function optionLines(value: Record<string, unknown>): string[] {
  const result = asPluginOptions(value);
  if (result.ok) return [];
  return result.errors.map((e) => `${e.path.length > 0 ? `${e.path.join('.')}: ` : ''}${e.message}${e.suggestion ? `; ${e.suggestion}` : ''}`);
}

describe('one wording for route files and plugin options', () => {
  it.each([
    { name: 'an unknown key, with a suggestion', value: { max: 1, orgins: [] }, lines: ['unknown key "orgins"; did you mean "origins"?'] },
    { name: 'an unknown key, listing the known ones', value: { max: 1, zzz: 1 }, lines: ['unknown key "zzz" (expected one of origins, max, window, mode)'] },
    { name: 'a missing key', value: {}, lines: ['missing key "max"'] },
    { name: 'a number below its minimum', value: { max: 0 }, lines: ['max: expected a number >= 1, got 0'] },
    { name: 'a wrong type', value: { max: 'many' }, lines: ['max: expected integer, got string'] },
    { name: 'a malformed duration', value: { max: 1, window: 'soon' }, lines: ['window: expected a duration such as 500ms, 5s or a number of milliseconds, got "soon"'] },
    { name: 'a value outside an enum, with a suggestion', value: { max: 1, mode: 'rejct' }, lines: ['mode: expected one of drop, reject; did you mean "reject"?'] },
  ])('$name', ({ value, lines }) => {
    expect(documentLines(value)).toEqual(lines);
    expect(optionLines(value)).toEqual(lines);
  });

  it('positions an unknown plugin option at its key, like an unknown route key', () => {
    const result = asPluginOptions({ max: 1, orgins: [] });
    expect(result).toMatchObject({ ok: false, errors: [{ path: [], at: ['orgins'], prefer: 'key' }] });
  });
});
