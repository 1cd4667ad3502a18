/**
 * The jwt plugin's options. The algorithm list is explicit and can never
 * contain `none`; which algorithms fit which key source is checked when the
 * plugin is created (keys.ts), so a configuration open to key confusion does
 * not load.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Duration } from '../../duration.js';
import { HEADER_NAME_PATTERN } from '../internal/http-names.js';

/** HMAC_ALGORITHMS are the symmetric algorithms (keyed by `secret`). */
export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;

/** ASYMMETRIC_ALGORITHMS are the public-key algorithms (keyed by `publicKey`, `publicKeyFile` or `jwksUri`). */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512'] as const;

/** Algorithm is one accepted signature algorithm. */
export type Algorithm = (typeof HMAC_ALGORITHMS)[number] | (typeof ASYMMETRIC_ALGORITHMS)[number];

const ClaimValue = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);

/** JwtOptions is the schema of the jwt plugin's options. */
export const JwtOptions = Type.Object({
  algorithms: Type.Array(Type.Union([...HMAC_ALGORITHMS, ...ASYMMETRIC_ALGORITHMS].map((a) => Type.Literal(a))), {
    minItems: 1,
    uniqueItems: true,
    description: 'Signature algorithms accepted (required; `none` is never accepted). HS* need `secret`; RS*/PS*/ES* need a public key or `jwksUri`.',
  }),
  secret: Type.Optional(Type.String({ minLength: 1, description: 'HMAC secret for HS* (write `${JWT_SECRET}` to take it from the environment); at least as long as the hash (32 bytes for HS256).' })),
  secretEncoding: Type.Union([Type.Literal('utf8'), Type.Literal('base64'), Type.Literal('base64url')], { default: 'utf8', description: 'How `secret` is written: utf8 text (default) or base64/base64url bytes.' }),
  publicKey: Type.Optional(Type.String({ minLength: 1, description: 'PEM public key (SPKI or PKCS#1) for RS*/PS*/ES*.' })),
  publicKeyFile: Type.Optional(Type.String({ minLength: 1, description: 'File holding the PEM public key, relative to gateway.yaml.' })),
  jwksUri: Type.Optional(Type.String({ pattern: '^https?://', description: 'JWKS endpoint; keys are fetched by `kid`, cached and refetched (rate-limited) when an unknown kid appears (key rotation). Prefer https.' })),
  jwks: Type.Object(
    {
      cacheMaxAge: Duration({ default: '10m', description: 'How long a fetched key is trusted before it is fetched again.' }),
      requestsPerMinute: Type.Integer({ minimum: 1, default: 10, description: 'Most JWKS fetches per minute (unknown kids cannot make the gateway hammer the endpoint).' }),
      timeout: Duration({ default: '5s', description: 'Time allowed for one JWKS fetch.' }),
    },
    { default: {}, description: 'JWKS fetching (with `jwksUri`).' },
  ),
  issuer: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], { description: 'Accepted `iss` value(s).' })),
  audience: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], { description: 'Accepted `aud` value(s); a token naming any one of them passes.' })),
  clockSkew: Duration({ default: '30s', description: 'Tolerance for `exp` and `nbf` (clocks of issuers and gateways drift).' }),
  requiredClaims: Type.Array(Type.String({ minLength: 1 }), { default: ['exp'], description: 'Claims a token must carry (missing → 401). Default [exp]: a token that never expires is refused; set [] to accept them.' }),
  claims: Type.Record(Type.String({ minLength: 1 }), Type.Union([ClaimValue, Type.Array(ClaimValue, { minItems: 1 })]), {
    default: {},
    description: 'Claim requirements: claim → required value or list of accepted values (an array claim passes when it contains one of them). Failing → 403.',
  }),
  forward: Type.Record(Type.String({ minLength: 1 }), Type.String({ pattern: HEADER_NAME_PATTERN }), {
    default: { sub: 'x-user-id' },
    description: 'Claims sent upstream as headers: claim → header. Client copies of these headers are always removed.',
  }),
  maxTokenLength: Type.Integer({ minimum: 16, maximum: 65536, default: 8192, description: 'Longest token accepted, in characters (longer → 401 before any decoding).' }),
  optional: Type.Boolean({ default: false, description: 'Let requests without an Authorization header through (unauthenticated); a token that is present must still be valid.' }),
});

/** JwtOptions is the validated, defaulted options object. */
export type JwtOptions = Static<typeof JwtOptions>;

/** manifest names and describes the plugin and holds its options schema: what the registry knows of it before its code is loaded (src/plugins/builtins.ts). */
export const manifest = {
  name: 'jwt',
  description: 'Authenticate Bearer JSON Web Tokens (HMAC, public key or JWKS) and forward chosen claims upstream.',
  options: JwtOptions,
};
