/**
 * Durations, declared and read the same way everywhere: gateway.yaml, route
 * files and plugin options (built-in or third-party). A number is
 * milliseconds, a string is a number followed by a unit (`500ms`, `5s`, `1m`,
 * `1h`, `1.5s`). The plugin SDK re-exports Duration and parseDuration from here.
 */
import { Type, type TNumber, type TString, type TUnion } from '@sinclair/typebox';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** DURATION_PATTERN is the JSON-Schema pattern a duration string must match. */
export const DURATION_PATTERN = '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h)\\s*$';
const DURATION_RE = new RegExp(DURATION_PATTERN);

/** TDuration is the schema type of a duration. */
export type TDuration = TUnion<[TNumber, TString]>;

/**
 * Duration declares a duration field: a number of milliseconds or a string
 * such as `500ms`, `30s`, `5m`. Give it a description and a default, e.g.
 * `Duration({ description: '...', default: '30s' })`; the options are kept in
 * the order given (the published JSON Schemas keep that order too).
 */
export function Duration(options: { default?: string | number; description?: string } = {}): TDuration {
  return Type.Union([Type.Number({ minimum: 0 }), Type.String({ pattern: DURATION_PATTERN })], options);
}

/** parseDuration turns a config duration into milliseconds; throws on a malformed value. */
export function parseDuration(value: number | string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`invalid duration ${value}`);
    return value;
  }
  const m = DURATION_RE.exec(value);
  if (!m) throw new RangeError(`invalid duration "${value}" (expected e.g. 500ms, 5s, 1m)`);
  const num = Number.parseFloat(value);
  return Math.round(num * UNIT_MS[m[2]!]!);
}

/** formatDuration renders milliseconds compactly for logs and the admin API. */
export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0 && ms > 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
