/**
 * Loading the configuration: gateway.yaml and every route file are read,
 * parsed, given their environment variables, validated (defaults applied)
 * and checked against each other. Every problem of every file is collected
 * before failing, so one run of `switchyard validate` lists all of them.
 * Routes are not compiled here; that happens in gateway/compile.ts.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { substituteEnv, type Env } from './env.js';
import { compareErrors, ConfigError, ConfigInvalid, errorAt, NO_POSITION, type DocPath, type DocSource, type Locate } from './errors.js';
import type { GatewayDoc, RouteFileDoc } from './schema.js';
import { streamErrors } from './stream-checks.js';
import { mirrorErrors } from './mirror-checks.js';
import { didYouMean } from './suggest.js';
import { validateDocument, type DocumentKind } from './validate.js';
import { parseYaml } from './yaml.js';

/** LoadedFile is one validated route file. */
export interface LoadedFile {
  /** file is the path as derived from the gateway file's path (or an inline document's name). */
  file: string;
  /** hash is the sha256 (hex) of the raw bytes, to tell which files changed on reload. */
  hash: string;
  /** doc is the validated document, defaults applied. */
  doc: RouteFileDoc;
  locate: Locate;
}

/** LoadedConfig is a configuration that passed every check. */
export interface LoadedConfig {
  /** gatewayFile is the gateway file as given; undefined for inline config. */
  gatewayFile: string | undefined;
  /** baseDir is the absolute directory relative paths in the config are resolved against. */
  baseDir: string;
  /** gateway is the validated gateway document, defaults applied. */
  gateway: GatewayDoc;
  gatewayHash?: string;
  /** files are the route files, in load order (by name within a directory). */
  files: LoadedFile[];
  locateGateway: Locate;
}

/** FileLoadOptions loads gateway.yaml from disk, and the route files it names. */
export interface FileLoadOptions {
  configFile: string;
  /** env supplies `${VAR}` values (default process.env). */
  env?: Env;
  /** maxFileBytes refuses any config file larger than this (`switchyard diff` reads files it did not write; default: no limit). */
  maxFileBytes?: number;
}

/**
 * InlineLoadOptions gives the documents directly (tests, embedders); each is
 * an object (no positions) or YAML text. Without `routeFiles`, route files are
 * read from disk only when the inline gateway sets `routes`.
 */
export interface InlineLoadOptions {
  configFile?: undefined;
  gateway?: object | string;
  /** routeFiles maps a pseudo file name to its document. */
  routeFiles?: Record<string, object | string>;
  /** baseDir resolves relative paths (default: the working directory). */
  baseDir?: string;
  env?: Env;
}

/** LoadOptions says where the configuration comes from. */
export type LoadOptions = FileLoadOptions | InlineLoadOptions;

/** INLINE_GATEWAY names an inline gateway document in errors. */
export const INLINE_GATEWAY = '<inline gateway>';

const ROUTE_FILE = /\.(ya?ml|json)$/;

/** Source is one document after parsing, substitution and validation (value is unchecked when errors is not empty). */
interface Source extends DocSource {
  hash: string;
  value: unknown;
  errors: ConfigError[];
  /** given is the document as written (before variables and defaults). */
  given?: unknown;
}

/** loadConfig loads, validates and cross-checks the configuration; throws ConfigInvalid listing every problem. */
export async function loadConfig(options: LoadOptions): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  let gateway: Source;
  let displayDir: string;
  let baseDir: string;
  let routeSpec: unknown;
  if (options.configFile !== undefined) {
    displayDir = path.dirname(options.configFile);
    baseDir = path.resolve(displayDir);
    const read = await readSource(options.configFile, 'gateway', env, options.maxFileBytes);
    if (!read.ok) throw new ConfigInvalid([read.error]);
    gateway = read.source;
    // A gateway file that does not parse names no routes: its errors are reported alone.
    routeSpec = (gateway.value as { routes?: unknown } | undefined)?.routes;
  } else {
    baseDir = path.resolve(options.baseDir ?? '.');
    displayDir = baseDir;
    const raw = inlineDocument(INLINE_GATEWAY, options.gateway ?? {});
    gateway = raw.errors.length > 0 ? raw : { ...prepare(raw, raw.hash, raw.value, 'gateway', env), given: raw.value };
    // Without this check the default `routes: ./routes` would read the working directory's routes.
    routeSpec = options.routeFiles === undefined && setsRoutes(gateway) ? (gateway.value as { routes?: unknown }).routes : undefined;
  }

  const routes: Source[] = [];
  const errors: ConfigError[] = [...gateway.errors];
  let complete = true;
  if (options.configFile === undefined && options.routeFiles !== undefined) {
    for (const [name, doc] of Object.entries(options.routeFiles)) {
      const raw = inlineDocument(name, doc);
      routes.push(raw.errors.length > 0 ? raw : prepare(raw, raw.hash, raw.value, 'route-file', env));
    }
  } else if (routeSpec !== undefined) {
    const listed = await listRouteFiles(routeSpec, displayDir, gateway);
    errors.push(...listed.errors);
    for (const { file, at } of listed.files) {
      const read = await readSource(file, 'route-file', env, options.configFile !== undefined ? options.maxFileBytes : undefined);
      if (read.ok) routes.push(read.source);
      else errors.push(at ? errorAt(gateway, at, `route file "${file}": ${read.error.message}`) : read.error);
      complete &&= read.ok;
    }
  }
  for (const r of routes) errors.push(...r.errors);
  // A file that did not parse (or could not be read) may define upstreams that others use: do not guess.
  complete &&= routes.every((r) => r.value !== undefined);
  errors.push(...crossFileErrors(routes, complete));
  errors.push(...streamErrors(gateway, routes, complete));
  errors.push(...mirrorErrors(routes, complete));

  if (errors.length > 0) throw new ConfigInvalid(errors.sort(compareErrors));
  return {
    gatewayFile: options.configFile,
    baseDir,
    gateway: gateway.value as GatewayDoc,
    ...(options.configFile !== undefined ? { gatewayHash: gateway.hash } : {}),
    files: routes.map((r) => ({ file: r.file, hash: r.hash, doc: r.value as RouteFileDoc, locate: r.locate })),
    locateGateway: gateway.locate,
  };
}

/** setsRoutes tells whether the gateway document sets `routes` itself (rather than taking the default). */
function setsRoutes(gateway: Source): boolean {
  return gateway.given !== null && typeof gateway.given === 'object' && 'routes' in gateway.given;
}

type ReadResult = { ok: true; source: Source } | { ok: false; error: ConfigError };

/**
 * readSource reads and prepares one file; an unreadable file is an error of
 * its own. Only regular files are read (a FIFO named *.yaml would block the
 * read forever), and none larger than `maxBytes` when given.
 */
async function readSource(file: string, kind: DocumentKind, env: Env, maxBytes?: number): Promise<ReadResult> {
  let bytes: Buffer;
  try {
    const st = await stat(file);
    if (!st.isFile() && !st.isDirectory()) return { ok: false, error: new ConfigError({ file, line: 0, col: 0, path: '', message: 'not a regular file' }) };
    if (maxBytes !== undefined && st.size > maxBytes) {
      return { ok: false, error: new ConfigError({ file, line: 0, col: 0, path: '', message: `file is ${st.size} bytes, more than the limit of ${maxBytes}` }) };
    }
    bytes = await readFile(file);
  } catch (err) {
    return { ok: false, error: new ConfigError({ file, line: 0, col: 0, path: '', message: readProblem(err) }) };
  }
  const parsed = parseYaml(bytes.toString('utf8'), file);
  const hash = sha256(bytes);
  if (parsed.errors.length > 0) return { ok: true, source: { file, hash, value: undefined, locate: parsed.locate, errors: parsed.errors } };
  return { ok: true, source: { ...prepare({ file, locate: parsed.locate }, hash, parsed.value, kind, env), given: parsed.value } };
}

/** inlineDocument takes a document given as an object (no positions) or as YAML text; not yet validated. */
function inlineDocument(file: string, doc: object | string): Source {
  if (typeof doc === 'string') {
    const parsed = parseYaml(doc, file);
    return { file, hash: sha256(doc), value: parsed.value, locate: parsed.locate, errors: parsed.errors };
  }
  return { file, hash: sha256(JSON.stringify(doc) ?? ''), value: doc, locate: NO_POSITION, errors: [] };
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** prepare substitutes environment variables (into a copy) and validates, applying defaults. */
function prepare(source: DocSource, hash: string, value: unknown, kind: DocumentKind, env: Env): Source {
  const sub = substituteEnv(value, source, env);
  // A value whose variable is missing is reported once, not again as an invalid value.
  const envPaths = new Set(sub.errors.map((e) => e.path));
  const invalid = validateDocument(kind, sub.value, source, sub.fromEnv).filter((e) => !envPaths.has(e.path));
  return { ...source, hash, value: sub.value, errors: [...sub.errors, ...invalid] };
}

function readProblem(err: unknown): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'file not found';
    case 'EISDIR':
      return 'is a directory, expected a file';
    case 'EACCES':
      return 'permission denied';
    case 'ELOOP':
      return 'symbolic link loop (a link that points, directly or not, to itself)';
    default:
      return `cannot read: ${(err as Error).message}`;
  }
}

/** Listed is a route file to read, with where the gateway names it (for a missing listed file). */
interface Listed {
  file: string;
  at?: DocPath;
}

/**
 * listRouteFiles resolves `routes` against the gateway file's directory: a
 * directory gives its *.yaml, *.yml and *.json files (sorted by name, not
 * recursive, dot files skipped: editors leave lock and swap files there); a
 * file gives itself; a list gives its files in order.
 */
async function listRouteFiles(spec: unknown, dir: string, gateway: Source): Promise<{ files: Listed[]; errors: ConfigError[] }> {
  const resolve = (p: string) => (path.isAbsolute(p) ? p : path.join(dir, p));
  if (Array.isArray(spec)) {
    const files = spec.flatMap((p, i): Listed[] => (typeof p === 'string' ? [{ file: resolve(p), at: ['routes', i] }] : []));
    return { files, errors: [] };
  }
  if (typeof spec !== 'string') return { files: [], errors: [] }; // invalid `routes` is reported by validation
  const full = resolve(spec);
  try {
    if (!(await stat(full)).isDirectory()) return { files: [{ file: full, at: ['routes'] }], errors: [] };
    const entries = await readdir(full, { withFileTypes: true });
    const names = entries.filter((e) => ROUTE_FILE.test(e.name) && !e.name.startsWith('.') && !e.isDirectory()).map((e) => e.name);
    names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return { files: names.map((n) => ({ file: path.join(full, n) })), errors: [] };
  } catch (err) {
    const what = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : readProblem(err);
    const hint = setsRoutes(gateway) ? '' : ' (the default; set "routes" in the gateway file to a directory or a list of files)';
    return { files: [], errors: [errorAt(gateway, ['routes'], `routes directory "${full}" ${what}${hint}`)] };
  }
}

/** where renders a path's position for "also defined at" messages. */
function where(source: DocSource, p: DocPath, prefer?: 'key'): string {
  const { line, col } = source.locate(p, prefer);
  return line > 0 ? `${source.file}:${line}:${col}` : source.file;
}

function entriesOf(v: unknown): [string, unknown][] {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.entries(v) : [];
}

/**
 * crossFileErrors checks what no single file can: upstream names and route
 * ids are unique across files, and every route names a defined upstream.
 * It reads documents defensively: a file with schema errors still counts.
 */
function crossFileErrors(files: Source[], checkReferences: boolean): ConfigError[] {
  const errors: ConfigError[] = [];
  const upstreams = new Map<string, Source>();
  const routeIds = new Map<string, { source: Source; at: DocPath }>();
  for (const f of files) {
    for (const [name] of entriesOf((f.value as { upstreams?: unknown } | undefined)?.upstreams)) {
      const first = upstreams.get(name);
      const at = ['upstreams', name];
      if (first) errors.push(errorAt(f, at, `duplicate upstream "${name}" (also defined at ${where(first, at, 'key')})`, { prefer: 'key' }));
      else upstreams.set(name, f);
    }
  }
  for (const f of files) {
    const list = (f.value as { routes?: unknown } | undefined)?.routes;
    if (!Array.isArray(list)) continue;
    list.forEach((r: unknown, i) => {
      const { id, upstream } = (r !== null && typeof r === 'object' ? r : {}) as { id?: unknown; upstream?: unknown };
      if (typeof id === 'string') {
        const at = ['routes', i, 'id'];
        const first = routeIds.get(id);
        if (first) errors.push(errorAt(f, at, `duplicate route id "${id}" (also defined at ${where(first.source, first.at)})`));
        else routeIds.set(id, { source: f, at });
      }
      if (checkReferences && typeof upstream === 'string' && !upstreams.has(upstream)) {
        const names = [...upstreams.keys()];
        const suggestion = didYouMean(upstream, names);
        const known = names.length === 0 ? ' (no upstreams are defined)' : suggestion ? '' : ` (defined: ${names.sort().join(', ')})`;
        errors.push(errorAt(f, ['routes', i, 'upstream'], `unknown upstream "${upstream}"${known}`, { suggestion }));
      }
    });
  }
  return errors;
}
