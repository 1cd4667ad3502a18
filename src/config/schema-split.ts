/**
 * The `split` block of a route: a canary split that keeps each client in one
 * cohort. A cohort key (`by`) hashes to a bucket 0-99; weighted legs take
 * buckets from 0 in the order they are listed, overrides (`when`) win over
 * the buckets, and the route's own upstream (the primary) takes the rest.
 * What each choice means at run time is in src/proxy/split.ts; the checks no
 * schema can make (weights summing to at most 100, known upstreams, cookie
 * names that clash with sticky cookies) are in src/compile/split.ts.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Strict, StringMap } from './schema-common.js';

/** SplitWhenSchema declares an override's conditions: the request conditions of `match`, without the path (the route has it). */
export const SplitWhenSchema = Strict(
  {
    methods: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z]+$' }), { minItems: 1, uniqueItems: true })),
    host: Type.Optional(Type.String({ description: 'Host name; "*.example.com" matches one or more labels.' })),
    headers: Type.Optional(StringMap('Headers that must all be present with these values.')),
    query: Type.Optional(StringMap('Query parameters that must all be present with these values.')),
    cookies: Type.Optional(StringMap('Cookies that must all be present with these values.')),
  },
  { minProperties: 1, description: 'Conditions (all must hold) under which every request takes this leg, whatever its cohort.' },
);

/** SplitLegSchema declares one leg: a share of the cohorts (`weight`) or an override (`when`), never both. */
export const SplitLegSchema = Strict(
  {
    upstream: Type.String({ description: 'Name of an upstream (from any route file): a full pool with its own balancer, health checks and retries.' }),
    weight: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, description: 'Percent of cohorts (buckets) this leg takes, counted from bucket 0 in the order legs are listed.' })),
    when: Type.Optional(SplitWhenSchema),
  },
  { description: 'A leg of the split: { upstream, weight } or { upstream, when }.' },
);

/** SplitSchema declares a route's canary split. */
export const SplitSchema = Strict(
  {
    by: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Cohort key: claim:NAME (a verified JWT claim, else a session field), cookie:NAME, header:NAME, session (the session id) or ip. Default: a random id in a cookie the gateway sets (see `cookie`). A request without the key goes to the primary.',
      }),
    ),
    cookie: Type.String({
      pattern: '^[!#$%&\'*+.^_`|~0-9A-Za-z-]+$',
      default: 'sy-cohort',
      description: 'Name of the cohort cookie the gateway sets when `by` is not given (HttpOnly, SameSite=Lax, Secure on TLS listeners, one year).',
    }),
    salt: Type.Optional(Type.String({ minLength: 1, description: 'Mixed into the hash with the key (default: the route id): routes with the same salt and key put a client in the same cohort.' })),
    to: Type.Array(SplitLegSchema, { minItems: 1, description: 'The legs: weighted shares of the cohorts and overrides; overrides are tried first, in order.' }),
    // 503 unquoted in YAML is a number: both spellings mean the same.
    fallback: Type.Union([Type.Literal('primary'), Type.Literal('503'), Type.Literal(503)], {
      default: 'primary',
      description: 'When a leg\'s pool has no healthy target: send its cohort to the primary, or answer 503.',
    }),
  },
  { description: 'Canary split: keeps each client in one cohort while a share of cohorts goes to other upstreams.' },
);

/** SplitDoc is a validated `split` block. */
export type SplitDoc = Static<typeof SplitSchema>;
/** SplitLegDoc is one validated leg. */
export type SplitLegDoc = Static<typeof SplitLegSchema>;
