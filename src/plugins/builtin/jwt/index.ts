/**
 * jwt: authenticates requests by a Bearer JSON Web Token in the
 * Authorization header. Tokens are verified with jsonwebtoken against one key
 * source (an HMAC secret, a PEM public key, or a JWKS endpoint through
 * jwks-rsa); verified claims land in `req.locals.jwt` for later plugins
 * (session, rate-limit) and chosen claims are forwarded upstream as headers
 * whose client copies are always removed. With a secret or a PEM key the hook
 * is synchronous (no microtask); only JWKS lookups are asynchronous.
 *
 * Answers: 401 `WWW-Authenticate: Bearer` when no token is given, 401
 * `Bearer error="invalid_token"` for a bad one, 400 `invalid_request` for
 * duplicate Authorization headers, 403 `insufficient_scope` when a `claims`
 * requirement fails, 503 when the JWKS endpoint cannot be reached.
 */
import type { KeyObject } from 'node:crypto';
import type jwt from 'jsonwebtoken';
import { definePlugin } from '../../define.js';
import { parseDuration } from '../../duration.js';
import type { Answer, PluginRequest } from '../../types.js';
import { compileClaimRules, headerValue, claimOf, meetsRequirements, missingClaim, type Claims } from './claims.js';
import { VerifiedTokens } from './cache.js';
import { JwksFailure, JwksKeys, KID } from './jwks.js';
import { resolveKeySource } from './keys.js';
import { manifest } from './schema.js';

const noStore = { 'cache-control': 'no-store' };
const MISSING: Answer = Object.freeze({ status: 401, code: 'SY_ERR_AUTH_REQUIRED', headers: { ...noStore, 'www-authenticate': 'Bearer' } });
const INVALID: Answer = Object.freeze({ status: 401, code: 'SY_ERR_AUTH_INVALID', headers: { ...noStore, 'www-authenticate': 'Bearer error="invalid_token"' } });
const DUPLICATE: Answer = Object.freeze({ status: 400, code: 'SY_ERR_BAD_REQUEST', headers: { ...noStore, 'www-authenticate': 'Bearer error="invalid_request"' } });
const FORBIDDEN: Answer = Object.freeze({ status: 403, code: 'SY_ERR_FORBIDDEN', headers: { ...noStore, 'www-authenticate': 'Bearer error="insufficient_scope"' } });
const UNAVAILABLE: Answer = Object.freeze({ status: 503, code: 'SY_ERR_AUTH_UNAVAILABLE', headers: { ...noStore, 'retry-after': '5' } });

/** JWS_COMPACT is the shape of a signed JWT: three base64url parts (the third may not be empty: unsigned tokens never pass). */
const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** reasonOf names a jsonwebtoken failure for metrics and logs (never the token itself). */
function reasonOf(err: unknown): string {
  const e = err as Error;
  if (e.name === 'TokenExpiredError') return 'expired';
  if (e.name === 'NotBeforeError') return 'not_before';
  const m = e.message ?? '';
  if (m === 'invalid signature') return 'signature';
  if (m === 'invalid algorithm' || m === 'jwt signature is required' || m.startsWith('secretOrPublicKey must be')) return 'algorithm';
  if (m.startsWith('jwt audience invalid')) return 'audience';
  if (m.startsWith('jwt issuer invalid')) return 'issuer';
  return 'malformed';
}

/** countAuthorization counts Authorization lines as received (node keeps only the first in `headers`). */
function countAuthorization(raw: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 13 && name.toLowerCase() === 'authorization') n++;
  }
  return n;
}

export default definePlugin({
  ...manifest,
  async create(opts, ctx) {
    // Loaded when a jwt entry is configured, not with the built-ins: a gateway without one does not carry it.
    const { default: jsonwebtoken } = await import('jsonwebtoken');
    const source = resolveKeySource(opts, ctx.baseDir);
    const rules = compileClaimRules(opts);
    const algorithms = new Set<string>(opts.algorithms);
    const staticKey = source.kind === 'static' ? source.key : undefined;
    const jwks =
      source.kind === 'jwks'
        ? await JwksKeys.open(source.uri, { cacheMaxAgeMs: parseDuration(opts.jwks.cacheMaxAge), requestsPerMinute: opts.jwks.requestsPerMinute, timeoutMs: parseDuration(opts.jwks.timeout) })
        : undefined;
    // One options object, updated before each (synchronous) verify call: jsonwebtoken copies it.
    const verifyOptions: jwt.VerifyOptions & { complete: true } = {
      algorithms: opts.algorithms as jwt.Algorithm[],
      clockTolerance: Math.floor(parseDuration(opts.clockSkew) / 1000),
      complete: true,
      ...(opts.issuer === undefined ? {} : { issuer: opts.issuer as string | [string, ...string[]] }),
      ...(opts.audience === undefined ? {} : { audience: opts.audience as string | [string, ...string[]] }),
    };
    const maxLength = opts.maxTokenLength;
    // Per instance: a token verified for one route's keys and rules says nothing about another route's.
    const verified = new VerifiedTokens(verifyOptions.clockTolerance!);
    const { log, metrics } = ctx;

    const reject = (answer: Answer, reason: string, req: PluginRequest): Answer => {
      metrics.count('auth_rejected', { plugin: 'jwt', reason });
      log.debug({ reason, reqId: req.id }, 'jwt rejected');
      return answer;
    };

    /** accept checks a verified token's claims and, when they pass, records and forwards them. */
    const accept = (req: PluginRequest, claims: Claims): Answer | undefined => {
      const missing = missingClaim(rules, claims);
      if (missing !== undefined) return reject(INVALID, 'claim_missing', req);
      const { forwardClaims, forwardHeaders } = rules;
      for (let i = 0; i < forwardClaims.length; i++) {
        if (headerValue(claimOf(claims, forwardClaims[i]!)) === null) return reject(INVALID, 'claim_value', req);
      }
      if (!meetsRequirements(rules, claims)) return reject(FORBIDDEN, 'forbidden', req);
      for (let i = 0; i < forwardClaims.length; i++) {
        const value = headerValue(claimOf(claims, forwardClaims[i]!));
        if (typeof value === 'string') req.setUpstreamHeader(forwardHeaders[i]!, value);
      }
      req.locals.jwt = claims;
      return undefined;
    };

    /** verify checks the signature and registered claims with a known key; returns the claims or an Answer. */
    const verify = (req: PluginRequest, token: string, key: KeyObject): Answer | undefined => {
      let decoded: jwt.Jwt;
      const now = ctx.clock.now();
      try {
        verifyOptions.clockTimestamp = Math.floor(now / 1000);
        decoded = jsonwebtoken.verify(token, key, verifyOptions);
      } catch (err) {
        return reject(INVALID, reasonOf(err), req);
      }
      // Critical extensions we do not implement must fail the token (RFC 7515 §4.1.11).
      if ((decoded.header as { crit?: unknown }).crit !== undefined) return reject(INVALID, 'crit', req);
      const payload = decoded.payload;
      if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return reject(INVALID, 'malformed', req);
      const answer = accept(req, payload as Claims);
      if (answer === undefined) verified.set(token, payload as Claims, now);
      return answer;
    };

    /** verifyJwks reads the token header (alg, kid) before any key lookup, so bad tokens never cause a fetch. */
    const verifyJwks = async (req: PluginRequest, token: string, keys: JwksKeys): Promise<Answer | undefined> => {
      let header: { alg?: unknown; kid?: unknown };
      try {
        header = JSON.parse(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8')) as typeof header;
      } catch {
        return reject(INVALID, 'malformed', req);
      }
      if (header === null || typeof header !== 'object' || typeof header.alg !== 'string' || !algorithms.has(header.alg)) return reject(INVALID, 'algorithm', req);
      const kid = header.kid;
      if (kid !== undefined && (typeof kid !== 'string' || !KID.test(kid))) return reject(INVALID, 'kid', req);
      let key;
      try {
        key = await keys.key(kid, header.alg);
      } catch (err) {
        if (err instanceof JwksFailure && err.reason === 'jwks_unavailable') {
          log.warn({ err: err.cause, reqId: req.id }, 'jwks endpoint unavailable');
          return reject(UNAVAILABLE, err.reason, req);
        }
        return reject(INVALID, err instanceof JwksFailure ? err.reason : 'kid', req);
      }
      return verify(req, token, key);
    };

    const onRequest = (req: PluginRequest): Answer | undefined | Promise<Answer | undefined> => {
      const auth = req.headers.authorization;
      if (auth === undefined) return opts.optional ? undefined : reject(MISSING, 'missing', req);
      if (countAuthorization(req.rawHeaders) > 1) return reject(DUPLICATE, 'duplicate', req);
      // "Bearer" is case-insensitive (RFC 9110 §11.1); one or more spaces before the token.
      if (auth.length < 8 || auth.charCodeAt(6) !== 32 || auth.slice(0, 6).toLowerCase() !== 'bearer') return reject(MISSING, 'scheme', req);
      let start = 7;
      while (auth.charCodeAt(start) === 32) start++;
      if (auth.length - start > maxLength) return reject(INVALID, 'too_long', req);
      const token = auth.slice(start);
      if (!JWS_COMPACT.test(token)) return reject(INVALID, 'malformed', req);
      const claims = verified.get(token, ctx.clock.now());
      if (claims !== undefined) return accept(req, claims);
      if (jwks !== undefined) return verifyJwks(req, token, jwks);
      return verify(req, token, staticKey!);
    };

    return { onRequest, ownsHeaders: rules.forwardHeaders };
  },
});
