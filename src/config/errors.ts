/**
 * Config errors people can act on: every problem names the file, the line and
 * column, the document path and what was expected, so `switchyard validate`
 * reads like a compiler. Loading collects every problem of every file and
 * throws them together, so one run shows everything that needs fixing.
 */

/** DocPath is a path into a config document: keys and array indexes. */
export type DocPath = ReadonlyArray<string | number>;

/** Position is a 1-based line and column; 0 and 0 when unknown (inline config). */
export interface Position {
  line: number;
  col: number;
}

/**
 * Locate finds where a document path is written; a missing path falls back to
 * its nearest existing ancestor. `prefer: 'key'` asks for the key's position
 * rather than its value's (for unknown or duplicate keys).
 */
export type Locate = (path: DocPath, prefer?: 'key' | 'value') => Position;

/** NO_POSITION is the Locate of documents that have no text (inline config). */
export const NO_POSITION: Locate = () => ({ line: 0, col: 0 });

/** DocSource is a document's display name and how to find positions in it. */
export interface DocSource {
  file: string;
  locate: Locate;
}

/** ConfigErrorFields are the fields a ConfigError is made of. */
export interface ConfigErrorFields {
  file: string;
  line: number;
  col: number;
  path: string;
  message: string;
  suggestion?: string | undefined;
}

/**
 * ConfigError is one problem in one config file. It is plain data (not an
 * Error) so it serialises as it is in the admin API and in reload results.
 */
export class ConfigError {
  /** file is the path as given (relative to the working directory when given so), or an inline document's name. */
  readonly file: string;
  /** line is 1-based; 0 when unknown. */
  readonly line: number;
  /** col is 1-based; 0 when unknown. */
  readonly col: number;
  /** path is the document path, e.g. `routes[2].match.path`; empty for the whole document. */
  readonly path: string;
  /** message says what is wrong or what was expected. */
  readonly message: string;
  /** suggestion is a likely fix, e.g. `did you mean "users"?`. */
  readonly suggestion?: string;

  constructor(fields: ConfigErrorFields) {
    this.file = fields.file;
    this.line = fields.line;
    this.col = fields.col;
    this.path = fields.path;
    this.message = fields.message;
    if (fields.suggestion !== undefined) this.suggestion = fields.suggestion;
  }

  /** format renders `file:line:col: path: message; suggestion`, leaving out what is unknown. */
  format(): string {
    let where = this.file;
    if (this.line > 0) where += `:${this.line}`;
    if (this.line > 0 && this.col > 0) where += `:${this.col}`;
    const path = this.path === '' ? '' : `${this.path}: `;
    const hint = this.suggestion === undefined ? '' : `; ${this.suggestion}`;
    return `${where}: ${path}${this.message}${hint}`;
  }

  /** toString is format(), so errors print well in template strings. */
  toString(): string {
    return this.format();
  }
}

/** ConfigInvalid is thrown when a configuration has errors; it carries all of them. */
export class ConfigInvalid extends Error {
  /** errors lists every problem found, sorted by file, line and column. */
  readonly errors: ConfigError[];

  constructor(errors: ConfigError[]) {
    super(errors.map((e) => e.format()).join('\n'));
    this.name = 'ConfigInvalid';
    this.errors = errors;
  }
}

const BARE_KEY = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** formatPath renders a document path as `routes[2].match.path`; odd keys are quoted (`upstreams["a.b"]`). */
export function formatPath(path: DocPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (BARE_KEY.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** errorAt builds a ConfigError for a path of a document, positioned by the document's Locate. */
export function errorAt(
  source: DocSource,
  path: DocPath,
  message: string,
  opts: { suggestion?: string | undefined; prefer?: 'key' | 'value' } = {},
): ConfigError {
  const pos = source.locate(path, opts.prefer);
  return new ConfigError({ file: source.file, line: pos.line, col: pos.col, path: formatPath(path), message, suggestion: opts.suggestion });
}

/** compareErrors orders errors by file, then line, then column (for stable, readable output). */
export function compareErrors(a: ConfigError, b: ConfigError): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line || a.col - b.col;
}
