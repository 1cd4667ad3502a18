/**
 * Durations in plugin options, written like everywhere else in the config: a
 * number of milliseconds or a string such as `500ms`, `30s`, `30m`, `24h`.
 * The SDK's entry point for them; the one declaration lives in
 * src/config/duration.ts, so gateway.yaml, route files and plugins agree.
 */
export { Duration, parseDuration, type TDuration } from '../config/duration.js';
