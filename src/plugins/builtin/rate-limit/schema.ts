/**
 * The rate-limit plugin's options. Only `max` is required: `- rate-limit:
 * { max: 100 }` allows 100 requests per client IP per minute.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Duration } from '../../duration.js';

/** KEY_PATTERN is what `key` may say: ip, header:<header name> or claim:<claim name>. */
export const KEY_PATTERN = "^(ip|header:[!#$%&'*+\\-.^_`|~0-9A-Za-z]+|claim:[A-Za-z0-9_.:-]+)$";

/** RateLimitOptions is the schema of the rate-limit plugin's options. */
export const RateLimitOptions = Type.Object({
  max: Type.Integer({ minimum: 1, description: 'Requests allowed per window and key.' }),
  window: Duration({ default: '1m', description: 'Length of the counting window.' }),
  algorithm: Type.Union([Type.Literal('fixed'), Type.Literal('sliding')], {
    default: 'fixed',
    description: 'fixed: one counter per window (a burst of up to 2×max can straddle a boundary); sliding: the previous window counts in proportion to its overlap with the last `window` (two counters, smoother).',
  }),
  key: Type.String({
    pattern: KEY_PATTERN,
    default: 'ip',
    description: 'What is counted: ip (the client IP), header:<name> (a request header), claim:<name> (a claim of req.locals.jwt or field of req.locals.session; put rate-limit after jwt/session). Requests without the header or claim are counted by IP.',
  }),
  scope: Type.Optional(
    Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$', description: 'Counter namespace (default: the route id, or "global" in the global chain). Routes with the same scope share one limit.' }),
  ),
  onStoreError: Type.Union([Type.Literal('allow'), Type.Literal('deny')], {
    default: 'allow',
    description: 'When the store cannot be reached: allow lets requests through uncounted; deny answers 503.',
  }),
  headers: Type.Boolean({ default: true, description: 'Send RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset on allowed responses too (429s always carry them).' }),
});

/** RateLimitOptions is the validated, defaulted options object. */
export type RateLimitOptions = Static<typeof RateLimitOptions>;

/** manifest names and describes the plugin and holds its options schema: what the registry knows of it before its code is loaded (src/plugins/builtins.ts). */
export const manifest = {
  name: 'rate-limit',
  description: 'Limit requests per client IP, header or claim over a fixed or sliding window, shared by all instances through Redis.',
  options: RateLimitOptions,
};
