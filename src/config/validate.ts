/**
 * Validating documents against the TypeBox schemas, with errors a person can
 * act on. Ajv reports what a machine needs ("must match a schema in anyOf",
 * eight errors for one bad value); this file turns that into one message per
 * place, in the words of the config: unknown keys with a suggestion, the
 * allowed values of an enum, what a duration looks like. Validation applies
 * the schema defaults to the document, so later stages read complete docs.
 */
import type { TSchema } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { DURATION_PATTERN, parseDuration } from './duration.js';
import { ConfigError, errorAt, formatPath, type DocPath, type DocSource } from './errors.js';
import { GatewaySchema, RouteFileSchema } from './schema.js';
import { didYouMean } from './suggest.js';

// One Ajv for every schema: compiling is the expensive part and happens once per process.
const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true });
addFormats.default(ajv);

/** Validator validates a value in place (defaults applied) and returns readable errors; `base` prefixes paths. */
export type Validator = (value: unknown, source: DocSource, opts?: { base?: DocPath; fromEnv?: readonly DocPath[] }) => ConfigError[];

/** compileValidator compiles a TypeBox schema (a config document, or a plugin's options) into a Validator. */
export function compileValidator(schema: TSchema): Validator {
  const check = ajv.compile(schema);
  return (value, source, opts = {}) => {
    const base = opts.base ?? [];
    const issues = [...schemaIssues(check, value, opts.fromEnv ?? []), ...durationIssues(schema, value, [])];
    const seen = new Set<string>();
    const errors: ConfigError[] = [];
    for (const i of issues) {
      const pos = source.locate([...base, ...(i.at ?? i.path)], i.prefer);
      const e = new ConfigError({ file: source.file, ...pos, path: formatPath([...base, ...i.path]), message: i.message, suggestion: i.suggestion });
      const key = `${e.path}\0${e.message}`;
      if (!seen.has(key)) errors.push(e);
      seen.add(key);
    }
    return errors;
  };
}

/** DocumentKind names the two kinds of config file. */
export type DocumentKind = 'gateway' | 'route-file';

const VALIDATORS: Record<DocumentKind, Validator> = { gateway: compileValidator(GatewaySchema), 'route-file': compileValidator(RouteFileSchema) };

/**
 * validateDocument validates a gateway.yaml or route file document in place
 * (defaults applied); route files also get their target URLs checked.
 * `fromEnv` lists strings that came from `${VAR}` and may be read as numbers or booleans.
 */
export function validateDocument(kind: DocumentKind, doc: unknown, source: DocSource, fromEnv: readonly DocPath[] = []): ConfigError[] {
  const errors = VALIDATORS[kind](doc, source, { fromEnv });
  if (kind === 'route-file') errors.push(...targetUrlErrors(doc, source));
  return errors;
}

/** Issue is a problem before it is tied to a file; `at` positions it elsewhere than `path` (e.g. at an unknown key). */
interface Issue {
  path: DocPath;
  message: string;
  suggestion?: string | undefined;
  at?: DocPath;
  prefer?: 'key' | 'value';
}

/**
 * schemaIssues runs Ajv. A string that came from an environment variable
 * where a number or boolean is expected is converted and the document checked
 * again, so `port: ${PORT:-8080}` works; any other string stays a string.
 */
function schemaIssues(check: ValidateFunction, value: unknown, fromEnv: readonly DocPath[]): Issue[] {
  const envPointers = new Set(fromEnv.map(toPointer));
  for (let round = 0; round < 3; round++) {
    if (check(value)) return [];
    const errors = check.errors ?? [];
    const converted = errors.filter((e) => e.keyword === 'type' && envPointers.has(e.instancePath) && convertInPlace(value, e));
    if (converted.length === 0) return render(errors, value);
  }
  return render(check.errors ?? [], value);
}

function convertInPlace(root: unknown, e: ErrorObject): boolean {
  if (typeof e.data !== 'string') return false;
  const types = ([] as string[]).concat(e.params.type as string | string[]);
  const s = e.data.trim();
  let v: number | boolean | undefined;
  if (types.includes('boolean') && (s === 'true' || s === 'false')) v = s === 'true';
  else if (types.includes('integer') && /^-?\d+$/.test(s)) v = Number(s);
  else if (types.includes('number') && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(s)) v = Number(s);
  if (v === undefined) return false;
  const path = toPath(e.instancePath, root);
  const parent = path.slice(0, -1).reduce<unknown>((o, k) => (o as Record<string | number, unknown>)[k], root) as Record<string | number, unknown>;
  parent[path[path.length - 1]!] = v;
  return true;
}

/** render turns Ajv errors into issues, collapsing each failed union (anyOf) into one message. */
function render(errors: ErrorObject[], root: unknown): Issue[] {
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

const DURATION_RE = new RegExp(DURATION_PATTERN);
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
    return render(candidates[0]!, root);
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

/** durationIssues checks every duration the schema declares: the pattern admits values too large to use. */
function durationIssues(schema: TSchema, value: unknown, path: (string | number)[]): Issue[] {
  const out: Issue[] = [];
  const anyOf = schema.anyOf as TSchema[] | undefined;
  if (anyOf?.some((b) => b.pattern === DURATION_PATTERN)) {
    // Malformed strings and negative numbers are reported by the schema already.
    const checkable = (typeof value === 'number' && value >= 0) || (typeof value === 'string' && DURATION_RE.test(value));
    if (checkable && !validDuration(value)) out.push({ path, message: `invalid duration ${show(value)}: must be a finite length of time` });
    return out;
  }
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((v, i) => out.push(...durationIssues(schema.items as TSchema, v, [...path, i])));
    return out;
  }
  if (value === null || typeof value !== 'object') return out;
  const props = (schema.properties ?? {}) as Record<string, TSchema>;
  const patterns = Object.entries((schema.patternProperties ?? {}) as Record<string, TSchema>);
  for (const [k, v] of Object.entries(value)) {
    const sub = Object.hasOwn(props, k) ? props[k] : patterns.find(([re]) => new RegExp(re, 'u').test(k))?.[1];
    if (sub) out.push(...durationIssues(sub, v, [...path, k]));
  }
  return out;
}

function validDuration(v: number | string): boolean {
  try {
    return Number.isFinite(parseDuration(v));
  } catch {
    return false;
  }
}

/** checkTargetUrl says what is wrong with an upstream target URL, or undefined when it is usable. */
export function checkTargetUrl(raw: string): string | undefined {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return `invalid URL "${raw}": expected http://host:port or https://host:port`;
  }
  // Never echo a password into logs or the admin API.
  const shown = u.password ? raw.replace(/\/\/([^/@]*?):[^/@]*@/, '//$1:***@') : raw;
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `unsupported scheme "${u.protocol}" in URL "${shown}": expected http or https`;
  if (u.hostname === '') return `URL "${shown}" has no host`;
  if (u.username !== '' || u.password !== '') return `URL "${shown}" must not contain credentials`;
  if (u.pathname !== '/' && u.pathname !== '') return `URL "${shown}" must not have a path (routes decide paths; see stripPrefix)`;
  if (u.search !== '' || raw.includes('?')) return `URL "${shown}" must not have a query`;
  if (u.hash !== '' || raw.includes('#')) return `URL "${shown}" must not have a fragment`;
  return undefined;
}

function targetUrlErrors(doc: unknown, source: DocSource): ConfigError[] {
  const errors: ConfigError[] = [];
  const upstreams = (doc as { upstreams?: unknown } | null)?.upstreams;
  if (upstreams === null || typeof upstreams !== 'object') return errors;
  for (const [name, up] of Object.entries(upstreams)) {
    const targets = (up as { targets?: unknown } | null)?.targets;
    if (!Array.isArray(targets)) continue;
    targets.forEach((t: unknown, i) => {
      const url = (t as { url?: unknown } | null)?.url;
      const problem = typeof url === 'string' ? checkTargetUrl(url) : undefined;
      if (problem) errors.push(errorAt(source, ['upstreams', name, 'targets', i, 'url'], problem));
    });
  }
  return errors;
}

/** toPath turns a JSON pointer into a document path; indexes of arrays become numbers. */
function toPath(pointer: string, root: unknown): (string | number)[] {
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

function toPointer(path: DocPath): string {
  return path.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function orList(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]!}`;
}
