/**
 * Ajv's errors in the words of the config, for every schema the gateway
 * checks: gateway.yaml, route files and plugin options. Ajv reports what a
 * machine needs ("must match a schema in anyOf", eight errors for one bad
 * value); this turns that into one issue per place: unknown keys with a
 * suggestion, missing keys, the allowed values of an enum, what a duration
 * looks like. One renderer, so a misspelt key reads the same in a route and
 * in a plugin's options.
 */
import type { TSchema } from '@sinclair/typebox';
import type { ErrorObject } from 'ajv';
import { DURATION_PATTERN } from './duration.js';
import { ConfigError, formatPath, type DocPath, type DocSource } from './errors.js';
import { didYouMean } from './suggest.js';

/** Issue is a problem before it is tied to a file (paths relative to the validated value); `at` positions it elsewhere than `path` (e.g. at an unknown key). */
export interface Issue {
  path: DocPath;
  message: string;
  suggestion?: string | undefined;
  at?: DocPath;
  prefer?: 'key' | 'value';
}

/**
 * issueError ties an issue to a file: `base` is where the validated value sits
 * in the document (a plugin's options under its chain entry), `prefix` starts
 * the message (e.g. `plugin jwt: `).
 */
export function issueError(source: DocSource, base: DocPath, issue: Issue, prefix = ''): ConfigError {
  const pos = source.locate([...base, ...(issue.at ?? issue.path)], issue.prefer);
  return new ConfigError({ file: source.file, ...pos, path: formatPath([...base, ...issue.path]), message: `${prefix}${issue.message}`, suggestion: issue.suggestion });
}

/** renderAjvErrors turns Ajv errors (run with allErrors and verbose) into issues, collapsing each failed union (anyOf) into one message. */
export function renderAjvErrors(errors: ErrorObject[], root: unknown): Issue[] {
  const unions = errors.filter((e) => e.keyword === 'anyOf');
  const outer = unions.filter((a) => !unions.some((b) => b !== a && within(b, a)));
  const used = new Set<ErrorObject>();
  const out: Issue[] = [];
  for (const a of outer) {
    const branchErrors = errors.filter((e) => e !== a && within(a, e));
    used.add(a);
    for (const e of branchErrors) used.add(e);
    out.push(...renderUnion(a, branchErrors, root));
  }
  for (const e of errors) if (!used.has(e)) out.push(renderOne(e, root));
  return out;
}

/** within tells whether error `e` was raised inside a branch of the union error `a` (same value or below it). */
function within(a: ErrorObject, e: ErrorObject): boolean {
  const sameOrBelow = e.instancePath === a.instancePath || e.instancePath.startsWith(`${a.instancePath}/`);
  return sameOrBelow && e.schemaPath.startsWith(`${a.schemaPath}/`);
}

const WRONG_KIND = new Set(['type', 'const', 'enum']);

function renderUnion(a: ErrorObject, branchErrors: ErrorObject[], root: unknown): Issue[] {
  const branches = (a.schema as TSchema[]) ?? [];
  const path = toPath(a.instancePath, root);
  // TypeBox writes a union of literals as anyOf of consts: that is an enum.
  if (branches.length > 0 && branches.every((b) => 'const' in b)) {
    const values = branches.map((b) => String(b.const));
    return [{ path, message: `expected one of ${values.join(', ')}`, suggestion: typeof a.data === 'string' ? didYouMean(a.data, values) : undefined }];
  }
  if (branches.some((b) => b.pattern === DURATION_PATTERN)) {
    return [{ path, message: `expected a duration such as 500ms, 5s or a number of milliseconds, got ${show(a.data)}` }];
  }
  // Branches that accept this kind of value explain the problem best; the deepest error wins.
  const candidates = branches
    .map((_, i) => branchErrors.filter((e) => e.schemaPath.startsWith(`${a.schemaPath}/${i}/`)))
    .filter((errs) => errs.length > 0 && !errs.some((e) => e.instancePath === a.instancePath && WRONG_KIND.has(e.keyword)));
  if (candidates.length > 0) {
    const depth = (errs: ErrorObject[]) => Math.max(...errs.map((e) => e.instancePath.split('/').length));
    candidates.sort((x, y) => depth(y) - depth(x) || x.length - y.length);
    return renderAjvErrors(candidates[0]!, root);
  }
  const kinds = [...new Set(branches.flatMap(kindsOf))];
  return [{ path, message: `expected ${orList(kinds)}, got ${jsonType(a.data)}` }];
}

function kindsOf(schema: TSchema): string[] {
  if ('const' in schema) return [JSON.stringify(schema.const)];
  if (schema.type !== undefined) return ([] as string[]).concat(schema.type as string | string[]);
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as TSchema[]).flatMap(kindsOf);
  return ['a valid value'];
}

// Patterns of schema.ts in words; any other pattern is shown as it is.
const PATTERN_TEXT: Record<string, string> = {
  '^/': 'must start with "/"',
  '^[A-Za-z0-9][A-Za-z0-9._-]*$': 'must start with a letter or digit and contain only letters, digits, ".", "_" and "-"',
  '^[A-Za-z]+$': 'must contain only letters',
  '^\\s*[1-5]\\d\\d\\s*(-\\s*[1-5]\\d\\d\\s*)?$': 'expected a status code or a range such as 200-399',
};

function patternText(pattern: string): string {
  return PATTERN_TEXT[pattern] ?? `must match the pattern ${pattern}`;
}

/** renderOne words a single Ajv error. */
function renderOne(e: ErrorObject, root: unknown): Issue {
  const path = toPath(e.instancePath, root);
  const p = e.params as Record<string, unknown>;
  const parent = (e.parentSchema ?? {}) as TSchema;
  const count = (n: unknown, what: string) => `${n as number} ${what}${n === 1 ? '' : 's'}`;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      const at = [...path, key];
      const known = Object.keys((parent.properties as Record<string, unknown> | undefined) ?? {});
      if (known.length === 0 && parent.patternProperties) {
        const pattern = Object.keys(parent.patternProperties as object)[0] ?? '';
        return { path: at, message: `invalid name "${key}": ${patternText(pattern)}`, at, prefer: 'key' };
      }
      const suggestion = didYouMean(key, known);
      const message = suggestion || known.length === 0 ? `unknown key "${key}"` : `unknown key "${key}" (expected one of ${known.join(', ')})`;
      return { path, message, suggestion, at, prefer: 'key' };
    }
    case 'required':
      return { path, message: `missing key "${String(p.missingProperty)}"` };
    case 'type': {
      const want = ([] as string[]).concat(p.type as string | string[]);
      const got = want.includes('integer') && typeof e.data === 'number' ? String(e.data) : jsonType(e.data);
      return { path, message: `expected ${orList(want)}, got ${got}` };
    }
    case 'const':
      return { path, message: `expected ${JSON.stringify(p.allowedValue)}` };
    case 'enum': {
      const values = (p.allowedValues as unknown[]).map(String);
      return { path, message: `expected one of ${values.join(', ')}`, suggestion: typeof e.data === 'string' ? didYouMean(e.data, values) : undefined };
    }
    case 'pattern':
      return { path, message: `${patternText(String(p.pattern))}, got ${show(e.data)}` };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { path, message: `expected a number ${String(p.comparison)} ${String(p.limit)}, got ${show(e.data)}` };
    case 'minItems':
      return { path, message: Array.isArray(e.data) && e.data.length === 0 ? 'must not be empty' : `expected at least ${count(p.limit, 'item')}` };
    case 'maxItems':
      return { path, message: `expected at most ${count(p.limit, 'item')}` };
    case 'minLength':
      return { path, message: e.data === '' ? 'must not be empty' : `expected at least ${count(p.limit, 'character')}` };
    case 'maxLength':
      return { path, message: `expected at most ${count(p.limit, 'character')}` };
    case 'minProperties':
    case 'maxProperties': {
      const n = e.data !== null && typeof e.data === 'object' ? Object.keys(e.data).length : 0;
      if (parent.minProperties === 1 && parent.maxProperties === 1) return { path, message: `expected exactly one key, got ${n}` };
      return { path, message: `expected ${e.keyword === 'minProperties' ? 'at least' : 'at most'} ${count(p.limit, 'key')}, got ${n}` };
    }
    case 'uniqueItems': {
      const [i, j] = [Number(p.i), Number(p.j)].sort((x, y) => x - y);
      return { path: [...path, j!], message: `duplicate of item ${i!}` };
    }
    case 'format':
      return { path, message: `expected a valid ${String(p.format)}, got ${show(e.data)}` };
    default:
      return { path, message: e.message ?? `invalid (${e.keyword})` };
  }
}

/** toPath turns a JSON pointer into a document path; indexes of arrays become numbers. */
export function toPath(pointer: string, root: unknown): (string | number)[] {
  if (pointer === '') return [];
  const out: (string | number)[] = [];
  let cur: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const key = Array.isArray(cur) ? Number(seg) : seg;
    out.push(key);
    cur = cur !== null && typeof cur === 'object' ? (cur as Record<string | number, unknown>)[key] : undefined;
  }
  return out;
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** show renders a value for a message: strings quoted, anything else as it prints. */
export function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function orList(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]!}`;
}
