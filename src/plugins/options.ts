/**
 * Plugin options validation: each plugin's TypeBox schema is compiled with
 * Ajv once, made strict (an object schema that does not say otherwise
 * rejects unknown keys, so a misspelt option is an error rather than silently
 * ignored), and run with defaults applied. Errors are worded by the same
 * renderer as route files (src/config/ajv-errors.ts), with paths relative to
 * the options object, which the core maps to file:line.
 */
import type { TSchema } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { renderAjvErrors, type Issue } from '../config/ajv-errors.js';

/** OptionError is one problem in a plugin's options: where (relative to the options object), what, and a likely fix. */
export type OptionError = Issue;

/** OptionsResult is the outcome of validating options: the defaulted copy, or the errors. */
export type OptionsResult = { ok: true; options: unknown } | { ok: false; errors: OptionError[] };

/** OptionsValidator validates a copy of the given options (the input is never modified). */
export type OptionsValidator = (options: unknown) => OptionsResult;

// One Ajv for all plugins: compiling is the expensive part and happens once per plugin per process.
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, coerceTypes: false, verbose: true });

/** strictObjects returns a JSON copy of the schema in which every object with declared properties rejects unknown keys unless it says otherwise. */
export function strictObjects(schema: TSchema): TSchema {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = walk(v);
    if (out.type === 'object' && out.properties !== undefined && out.additionalProperties === undefined) out.additionalProperties = false;
    return out;
  };
  return walk(JSON.parse(JSON.stringify(schema))) as TSchema;
}

/** compileOptions compiles a plugin's options schema once; throws when the schema itself is invalid. */
export function compileOptions(schema: TSchema): OptionsValidator {
  const check = ajv.compile(strictObjects(schema));
  return (options) => {
    const copy = options === undefined ? {} : structuredClone(options);
    if (check(copy)) return { ok: true, options: copy };
    return { ok: false, errors: renderAjvErrors(check.errors ?? [], copy) };
  };
}
