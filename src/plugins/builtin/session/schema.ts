/**
 * The session plugin's options. Every field has a default, so `- session`
 * alone gives 30-minute idle, 24-hour absolute sessions in a `sy_session`
 * cookie, with the session's `sub` forwarded upstream as X-User-Id.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Duration } from '../../duration.js';
import { HEADER_NAME_PATTERN } from '../internal/http-names.js';

/** COOKIE_NAME_PATTERN is an RFC 6265 cookie name (an RFC 9110 token). */
export const COOKIE_NAME_PATTERN = HEADER_NAME_PATTERN;

/** SessionOptions is the schema of the session plugin's options. */
export const SessionOptions = Type.Object({
  cookie: Type.String({ pattern: COOKIE_NAME_PATTERN, default: 'sy_session', description: 'Name of the cookie holding the session id (the id only; data stays in the store).' }),
  idleTimeout: Duration({ default: '30m', description: 'A session unused for this long ends (sliding: each request restarts it).' }),
  absoluteTimeout: Duration({ default: '24h', description: 'A session ends this long after it was created, however active.' }),
  secure: Type.Boolean({ default: false, description: 'Always mark the cookie Secure (it is whenever the client connection is TLS).' }),
  required: Type.Boolean({ default: false, description: 'Answer 401 to requests without a valid session.' }),
  onStoreError: Type.Union([Type.Literal('deny'), Type.Literal('allow')], {
    default: 'deny',
    description: 'When the store cannot be reached: deny answers 503; allow lets the request through without a session.',
  }),
  forward: Type.Record(Type.String({ minLength: 1 }), Type.String({ pattern: HEADER_NAME_PATTERN }), {
    default: { sub: 'x-user-id' },
    description: 'Session fields sent upstream as headers: field → header (strings, numbers and booleans only). Client copies of these headers are always removed.',
  }),
  maxSize: Type.Integer({ minimum: 2, maximum: 1048576, default: 16384, description: 'Largest X-Session-Set value accepted from an upstream, in bytes (larger ones are ignored and logged).' }),
});

/** SessionOptions is the validated, defaulted options object. */
export type SessionOptions = Static<typeof SessionOptions>;

/** manifest names and describes the plugin and holds its options schema: what the registry knows of it before its code is loaded (src/plugins/builtins.ts). */
export const manifest = {
  name: 'session',
  description: 'Server-side sessions in the shared store: an opaque cookie, data set by upstreams with X-Session-Set, identity forwarded as headers.',
  options: SessionOptions,
};
