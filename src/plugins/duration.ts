/**
 * Durations in plugin options, written like everywhere else in the config: a
 * number of milliseconds or a string such as `500ms`, `30s`, `30m`, `24h`.
 * Part of the SDK so third-party plugins read durations the same way.
 */
import { Type, type TNumber, type TString, type TUnion } from '@sinclair/typebox';
import { DURATION_PATTERN, parseDuration } from '../config/duration.js';

export { parseDuration };

/** TDuration is the schema type of a duration option. */
export type TDuration = TUnion<[TNumber, TString]>;

/** Duration declares a duration option (give it a description and a default, e.g. `Duration({ default: '30s', description: '...' })`). */
export function Duration(options: { default?: string | number; description?: string } = {}): TDuration {
  return Type.Union([Type.Number({ minimum: 0 }), Type.String({ pattern: DURATION_PATTERN })], options);
}
