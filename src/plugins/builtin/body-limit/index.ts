/**
 * body-limit: caps the request body of the routes it is on. It adds no hook:
 * it declares `bodyLimit`, and the core enforces the smallest limit in a
 * route's chain (and the route's or gateway's own `bodyLimit`): a declared
 * Content-Length over it is answered 413 before anything is read or sent
 * upstream, and a chunked body is counted as it streams and cut off at the
 * limit with 413 (or, once the upstream has answered, by closing the
 * connection).
 */
import { definePlugin } from '../../define.js';
import { SIZE_PATTERN, parseSize } from '../../size.js';
import { manifest } from './schema.js';

// Sizes are parsed by the SDK's helper, so a route's mirror.bodyLimit reads `64kb` exactly as `max` does.
export { SIZE_PATTERN, parseSize };

export default definePlugin({
  ...manifest,
  create(opts) {
    return { bodyLimit: parseSize(opts.max) };
  },
});
