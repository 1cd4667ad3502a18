/**
 * Validating documents against the TypeBox schemas, with errors a person can
 * act on (worded by ajv-errors.ts, the renderer plugin options use too).
 * Validation applies the schema defaults to the document, so later stages
 * read complete docs; strings from environment variables are read as numbers
 * or booleans where the schema wants one; durations too large to use and
 * unusable target URLs are reported next to the schema's own errors.
 */
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { DURATION_PATTERN, parseDuration } from './duration.js';
import { issueError, renderAjvErrors, show, toPath, type Issue } from './ajv-errors.js';
import { RegistryOptionsSchema } from './discovery.js';
import { proxyProtocolErrors } from './proxy-protocol.js';
import { addressListErrors } from './address-list.js';
import { errorAt, type ConfigError, type DocPath, type DocSource } from './errors.js';
import { GatewaySchema, RouteFileSchema } from './schema.js';

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
      const e = issueError(source, base, i);
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
  if (kind === 'gateway') registryDefaults(doc);
  const errors = VALIDATORS[kind](doc, source, { fromEnv });
  if (kind === 'route-file') errors.push(...targetUrlErrors(doc, source));
  if (kind === 'gateway') errors.push(...proxyProtocolErrors(doc, source), ...addressListErrors(doc, source, ['trustProxy']));
  return errors;
}

/**
 * registryDefaults fills `discovery.registry`'s defaults the way the registry
 * itself does (TypeBox's Value.Default): Ajv applies none inside a union's
 * branches, and `selfPreservation` is one (`{ threshold, window }` or false).
 */
function registryDefaults(doc: unknown): void {
  const discovery = (doc as { discovery?: unknown } | null)?.discovery;
  const registry = (discovery as { registry?: unknown } | null | undefined)?.registry;
  if (registry === null || typeof registry !== 'object' || Array.isArray(registry)) return;
  Value.Default(RegistryOptionsSchema, registry);
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
    if (converted.length === 0) return renderAjvErrors(errors, value);
  }
  return renderAjvErrors(check.errors ?? [], value);
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

const DURATION_RE = new RegExp(DURATION_PATTERN);

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

/**
 * checkTargetUrl says what is wrong with an upstream target URL, or undefined
 * when it is usable. `streams` also admits tcp://host:port and udp://host:port
 * (route files: which kind of route may use which is checked across files).
 */
export function checkTargetUrl(raw: string, opts: { streams?: boolean } = {}): string | undefined {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return `invalid URL "${raw}": expected http://host:port or https://host:port`;
  }
  // Never echo a password into logs or the admin API.
  const shown = u.password ? raw.replace(/\/\/([^/@]*?):[^/@]*@/, '//$1:***@') : raw;
  const stream = u.protocol === 'tcp:' || u.protocol === 'udp:';
  if (u.protocol !== 'http:' && u.protocol !== 'https:' && !(stream && opts.streams === true)) return `unsupported scheme "${u.protocol}" in URL "${shown}": expected http or https`;
  if (u.hostname === '') return `URL "${shown}" has no host`;
  // A stream has no default port to fall back on.
  if (stream && u.port === '') return `URL "${shown}" needs a port: ${u.protocol}//host:port`;
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
    if (up === null || typeof up !== 'object' || Array.isArray(up)) continue;
    const hasTargets = (up as { targets?: unknown }).targets !== undefined;
    const hasDiscover = (up as { discover?: unknown }).discover !== undefined;
    if (hasTargets === hasDiscover) {
      const got = hasTargets ? 'both are set' : 'neither is set';
      errors.push(errorAt(source, ['upstreams', name], `an upstream needs exactly one of targets or discover (${got})`));
    }
    const targets = (up as { targets?: unknown }).targets;
    if (!Array.isArray(targets)) continue;
    targets.forEach((t: unknown, i) => {
      const url = (t as { url?: unknown } | null)?.url;
      const problem = typeof url === 'string' ? checkTargetUrl(url, { streams: true }) : undefined;
      if (problem) errors.push(errorAt(source, ['upstreams', name, 'targets', i, 'url'], problem));
    });
  }
  return errors;
}

function toPointer(path: DocPath): string {
  return path.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}
