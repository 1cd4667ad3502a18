/**
 * Environment substitution in config values: `${NAME}`, `${NAME:-default}`,
 * and `$${...}` for a literal `${...}`. It runs on the parsed data, never on
 * the raw text, so a variable's value cannot change the document's structure
 * (a value with a newline or `: ` stays one string). Keys are left alone.
 */
import { errorAt, type ConfigError, type DocPath, type DocSource } from './errors.js';

/** Env is where variables are read from (process.env by default). */
export type Env = Readonly<Record<string, string | undefined>>;

/** Substituted is the result of substituteEnv. */
export interface Substituted {
  /** value is a deep copy of the input with variables replaced (the input is never mutated). */
  value: unknown;
  errors: ConfigError[];
  /** fromEnv lists the paths of strings that had a variable, which validation may convert to numbers or booleans. */
  fromEnv: DocPath[];
}

// `$${` (escape), `${NAME}` / `${NAME:-default}`, or a `${` that is not closed or not well formed.
const TOKEN = /\$\$\{|\$\{([^}]*)\}|\$\{/g;
const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

/** ExpandResult is the outcome of expanding one string. */
export type ExpandResult = { ok: true; text: string; substituted: boolean } | { ok: false; problems: string[] };

/**
 * expand replaces references in one string. `${NAME:-default}` takes the
 * default when NAME is unset or empty (as in the shell); `${NAME}` with NAME
 * set to "" is "".
 */
export function expand(text: string, env: Env): ExpandResult {
  if (!text.includes('${')) return { ok: true, text, substituted: false };
  const problems: string[] = [];
  let substituted = false;
  const out = text.replace(TOKEN, (token, inner: string | undefined) => {
    if (token === '$${') return '${';
    if (inner === undefined) {
      problems.push(`unterminated "\${" (write "$\${" for a literal "\${")`);
      return token;
    }
    const m = REFERENCE.exec(inner);
    if (!m) {
      problems.push(`invalid environment reference "${token}": expected \${NAME} or \${NAME:-default}`);
      return token;
    }
    const [, name, fallback] = m as unknown as [string, string, string | undefined];
    const value = env[name];
    substituted = true;
    if (fallback !== undefined && (value === undefined || value === '')) return fallback;
    if (value === undefined) {
      problems.push(`environment variable ${name} is not set`);
      return token;
    }
    return value;
  });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, text: out, substituted };
}

/** substituteEnv copies a parsed document, expanding every string value; errors are placed at the value. */
export function substituteEnv(value: unknown, source: DocSource, env: Env = process.env): Substituted {
  const errors: ConfigError[] = [];
  const fromEnv: DocPath[] = [];
  const walk = (v: unknown, path: (string | number)[]): unknown => {
    if (typeof v === 'string') {
      const r = expand(v, env);
      if (!r.ok) {
        for (const p of r.problems) errors.push(errorAt(source, path, p));
        return v;
      }
      if (r.substituted) fromEnv.push([...path]);
      return r.text;
    }
    if (Array.isArray(v)) return v.map((item, i) => walk(item, [...path, i]));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      // defineProperty, not assignment: a `__proto__` key must stay an (unknown, reported) key.
      for (const [k, item] of Object.entries(v)) {
        Object.defineProperty(out, k, { value: walk(item, [...path, k]), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    return v;
  };
  return { value: walk(value, []), errors, fromEnv };
}
