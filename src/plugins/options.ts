/**
 * Plugin options validation: each plugin's TypeBox schema is compiled with
 * Ajv once, made strict (an object schema that does not say otherwise
 * rejects unknown keys, so a misspelt option is an error rather than silently
 * ignored), and run with defaults applied. Errors come out as a path relative
 * to the options object plus a message in the words of the config, which the
 * core maps to file:line.
 */
import type { TSchema } from '@sinclair/typebox';
import { Ajv, type ErrorObject } from 'ajv';
import { DURATION_PATTERN } from '../config/duration.js';
import { didYouMean } from '../config/suggest.js';

/** OptionError is one problem in a plugin's options: where (relative to the options object) and what. */
export interface OptionError {
  path: (string | number)[];
  message: string;
}

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
    return { ok: false, errors: render(check.errors ?? []) };
  };
}

/** pathOf turns an Ajv JSON pointer into path segments (array indexes as numbers). */
function pathOf(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9]\d*)$/.test(s) ? Number(s) : s));
}

/** render words Ajv's errors, one per problem: a failed union (anyOf) becomes one message instead of one per branch. */
function render(errors: ErrorObject[]): OptionError[] {
  const unions = errors.filter((e) => e.keyword === 'anyOf');
  const insideUnion = (e: ErrorObject) => unions.some((u) => u !== e && e.schemaPath.startsWith(`${u.schemaPath}/`));
  const out: OptionError[] = [];
  const seen = new Set<string>();
  const push = (e: OptionError) => {
    const key = JSON.stringify(e);
    if (!seen.has(key)) out.push(e);
    seen.add(key);
  };
  for (const e of errors) {
    if (insideUnion(e)) continue;
    if (e.keyword === 'anyOf') {
      const branchErrors = errors.filter((b) => b.schemaPath.startsWith(`${e.schemaPath}/`));
      for (const r of renderUnion(e, branchErrors)) push(r);
    } else push(renderOne(e));
  }
  return out;
}

function renderUnion(u: ErrorObject, branchErrors: ErrorObject[]): OptionError[] {
  const path = pathOf(u.instancePath);
  const branches = (u.schema ?? []) as Record<string, unknown>[];
  if (branches.length > 0 && branches.every((b) => 'const' in b)) {
    const values = branches.map((b) => String(b.const));
    return [{ path, message: withSuggestion(`expected one of ${values.join(', ')}`, u.data, values) }];
  }
  if (branches.some((b) => b.pattern === DURATION_PATTERN)) return [{ path, message: 'expected a duration such as 500ms, 30s, 5m or a number of milliseconds' }];
  // The branch that accepts this kind of value explains the problem best.
  const fitting = branches
    .map((_, i) => branchErrors.filter((e) => e.schemaPath.startsWith(`${u.schemaPath}/${i}/`)))
    .filter((errs) => errs.length > 0 && !errs.some((e) => e.instancePath === u.instancePath && (e.keyword === 'type' || e.keyword === 'const')));
  const unionDescription = (u.parentSchema as { description?: string } | undefined)?.description;
  if (fitting.length === 1 && unionDescription && fitting[0]!.every((e) => e.keyword === 'pattern')) {
    return [{ path, message: `invalid value ${JSON.stringify(u.data)}: expected ${unionDescription}` }];
  }
  if (fitting.length === 1) return render(fitting[0]!);
  const kinds = branches.map((b) => String(b.type ?? 'a valid value'));
  return [{ path, message: `expected ${[...new Set(kinds)].join(' or ')}` }];
}

function renderOne(e: ErrorObject): OptionError {
  const path = pathOf(e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      const known = Object.keys(((e.parentSchema as Record<string, unknown> | undefined)?.properties as object | undefined) ?? {});
      return { path: [...path, key], message: withSuggestion(`unknown option "${key}"`, key, known) };
    }
    case 'required':
      return { path: [...path, String(p.missingProperty)], message: 'is required' };
    case 'enum': {
      const values = (p.allowedValues as unknown[]).map(String);
      return { path, message: withSuggestion(`expected one of ${values.join(', ')}`, e.data, values) };
    }
    case 'pattern': {
      // Ajv would print the regular expression; the schema's description says it in words.
      const description = (e.parentSchema as { description?: string } | undefined)?.description;
      return { path, message: description ? `invalid value ${JSON.stringify(e.data)}: expected ${description}` : `invalid value ${JSON.stringify(e.data)}` };
    }
    default:
      return { path, message: e.message ?? `fails ${e.keyword}` };
  }
}

function withSuggestion(message: string, given: unknown, candidates: string[]): string {
  const hint = typeof given === 'string' ? didYouMean(given, candidates) : undefined;
  return hint ? `${message} (${hint})` : message;
}
