/**
 * The shape of a route's `mirror` block: shadow traffic. A sampled copy of a
 * route's requests goes to another upstream pool after the client's request
 * was accepted; its answer is read and thrown away. The copy can never slow or
 * fail the client's request (see src/proxy/mirror.ts for how). Part of the
 * route schema (schema-route.ts).
 */
import { Type, type Static } from '@sinclair/typebox';
import { Strict } from './schema-common.js';
import { Duration } from './duration.js';
import { SIZE_PATTERN } from './size.js';

/**
 * MIRROR_DEFAULT_METHODS are the methods mirrored when `methods` is not
 * given: the safe ones (RFC 9110 §9.2.1). Writes are opt-in: a shadow that
 * shares a database, a queue or a mail relay with the primary would do every
 * POST a second time.
 */
export const MIRROR_DEFAULT_METHODS = ['GET', 'HEAD', 'OPTIONS'] as const;

/** MirrorSchema declares where a route's shadow copies go and which requests are copied. */
export const MirrorSchema = Strict(
  {
    upstream: Type.String({ description: "Name of the shadow upstream (from any route file); never the route's own upstream, never a tcp:// or udp:// pool." }),
    percent: Type.Number({ minimum: 0, maximum: 100, default: 100, description: 'Share of the matching requests copied, 0-100 (fractions allowed: 0.5 = one in two hundred).' }),
    bodyLimit: Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: SIZE_PATTERN })], {
      default: '64kb',
      description:
        'Largest request body copied: bytes, or a size such as 64kb (1024-based). Larger bodies, and bodies that stream past retry.bufferBody, are not copied (counted as over_limit); the client request is never held back for the copy.',
    }),
    methods: Type.Optional(
      Type.Array(Type.String({ pattern: '^[A-Za-z]+$' }), {
        minItems: 1,
        uniqueItems: true,
        description: 'Methods copied (default GET, HEAD, OPTIONS: writes are opt-in, as a shadow may share a database with the primary).',
      }),
    ),
    timeout: Duration({ default: '5s', description: 'Longest a copy may take, from dispatch to the end of its response (waiting for a connection included), above 0; then it is cut and counted as a timeout.' }),
  },
  { description: 'Shadow traffic: send a copy of sampled requests to another upstream and discard its answer (never seen by the client).' },
);

/** MirrorDoc is a validated `mirror` block. */
export type MirrorDoc = Static<typeof MirrorSchema>;
