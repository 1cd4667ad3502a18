/**
 * How the command line writes what it found: counts in proper English and
 * file paths relative to the current directory (as the user typed them,
 * `routes/users.yaml`), not the absolute paths the loader works with.
 */
import { sep } from 'node:path';
import type { ConfigError, ConfigInvalid } from '../config/errors.js';

/** plural renders a count with its noun: `1 upstream`, `2 upstreams`, `0 routes`. */
export function plural(n: number, noun: string, many = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : many}`;
}

/**
 * relative shortens every absolute path under the current directory in a
 * text (file names, and file names inside messages such as "ambiguous with
 * route x (routes/legacy.yaml:3)"). Paths elsewhere stay absolute: a
 * `../../etc/switchyard/gateway.yaml` says less than the path itself.
 */
export function relative(text: string, cwd = process.cwd()): string {
  const prefix = cwd.endsWith(sep) ? cwd : cwd + sep;
  return text.split(prefix).join('');
}

/** formatError renders one config error as `file:line:col: path: message`, its paths relative. */
export function formatError(e: ConfigError): string {
  return relative(e.format());
}

/** printConfigErrors writes every error of an invalid configuration to stderr, one per line. */
export function printConfigErrors(err: ConfigInvalid, { count = false } = {}): void {
  const lines = err.errors.map(formatError);
  if (count) lines.push(plural(err.errors.length, 'error'));
  process.stderr.write(lines.join('\n') + '\n');
}
