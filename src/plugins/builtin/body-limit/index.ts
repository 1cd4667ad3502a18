/**
 * body-limit: caps the request body of the routes it is on. It adds no hook:
 * it declares `bodyLimit`, and the core enforces the smallest limit in a
 * route's chain (and the route's or gateway's own `bodyLimit`): a declared
 * Content-Length over it is answered 413 before anything is read or sent
 * upstream, and a chunked body is counted as it streams and cut off at the
 * limit with 413 (or, once the upstream has answered, by closing the
 * connection).
 */
import { Type } from '@sinclair/typebox';
import { definePlugin } from '../../define.js';
import { SIZE_PATTERN, parseSize } from '../../size.js';

// Sizes are parsed by the SDK's helper, so a route's mirror.bodyLimit reads `64kb` exactly as `max` does.
export { SIZE_PATTERN, parseSize };

/** BodyLimitOptions is the schema of the body-limit plugin's options. */
export const BodyLimitOptions = Type.Object({
  max: Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: SIZE_PATTERN })], {
    description: 'Largest request body accepted: bytes, or a size such as 512kb, 1mb (1024-based). Over it: 413.',
  }),
});

export default definePlugin({
  name: 'body-limit',
  description: 'Limit the request body size of a route (413 over the limit).',
  options: BodyLimitOptions,
  create(opts) {
    return { bodyLimit: parseSize(opts.max) };
  },
});
