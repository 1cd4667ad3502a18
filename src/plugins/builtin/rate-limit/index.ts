/**
 * rate-limit: counts requests per key (client IP, a header or a claim) in the
 * shared store, so every gateway instance on one Redis enforces one limit.
 * Over the limit it answers 429 with Retry-After; every answer carries
 * RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset (seconds).
 *
 * Counters are `sy:rl:<scope>:<windowStart>:<key>`, scope being the route id
 * (or "global" for the global chain, whose single instance every route
 * shares). The key part is the raw value when it is short and made of safe
 * characters, else `#` + its SHA-1, so a client can neither make keys long
 * nor inject key syntax. Counting is one atomic INCR-with-TTL per request
 * (fixed) or that plus a GET of the previous window, sent together (sliding).
 *
 * Why not @fastify/rate-limit: it is a fastify route hook, and the public
 * request path is not fastify — the gateway's own chain runs before any
 * proxying, over the gateway's Store (with its fail-fast Redis client and
 * its embedded fallback), and needs the key kinds above (claims from
 * jwt/session locals) and a sliding window, which it does not offer.
 */
import { createHash } from 'node:crypto';
import { claimValue } from '../../claims.js';
import { definePlugin } from '../../define.js';
import { parseDuration } from '../../duration.js';
import type { Answer, PluginRequest } from '../../types.js';
import { StoreUnavailableError } from '../../../stores/store-error.js';
import { manifest } from './schema.js';
import { fixedVerdict, slidingVerdict, windowStart, type Verdict } from './windows.js';

/** SAFE_KEY is a key value used as is; anything else is hashed. */
const SAFE_KEY = /^[A-Za-z0-9._:-]{1,64}$/;

/** keyPart turns a counted value into the last segment of a counter key. */
export function keyPart(value: string): string {
  return SAFE_KEY.test(value) ? value : '#' + createHash('sha1').update(value).digest('hex');
}

const UNAVAILABLE: Answer = Object.freeze({ status: 503, code: 'SY_ERR_STORE_UNAVAILABLE', headers: { 'cache-control': 'no-store', 'retry-after': '5' } });

export default definePlugin({
  ...manifest,
  create(opts, ctx) {
    const windowMs = parseDuration(opts.window);
    if (windowMs < 1000) throw new Error('window must be at least 1s');
    const { store, clock, log, metrics } = ctx;
    // A per-route instance's logger names its route already (one key per line): only a gateway-wide instance adds it.
    const whereOf = (req: PluginRequest) => (ctx.routeId === undefined ? { reqId: req.id, route: req.routeId } : { reqId: req.id });
    const max = opts.max;
    const limit = String(max);
    const prefix = `sy:rl:${opts.scope ?? ctx.routeId ?? 'global'}:`;
    const sliding = opts.algorithm === 'sliding';
    const deny = opts.onStoreError === 'deny';
    const ttlMs = sliding ? 2 * windowMs : windowMs;

    // What is counted, decided once: the hook only reads one value.
    let keyOf: (req: PluginRequest) => string;
    if (opts.key === 'ip') keyOf = (req) => 'ip:' + req.clientIp;
    else if (opts.key.startsWith('header:')) {
      const header = opts.key.slice(7).toLowerCase();
      keyOf = (req) => {
        const v = req.headers[header];
        return typeof v === 'string' && v !== '' ? 'h:' + v : 'ip:' + req.clientIp;
      };
    } else {
      const claim = opts.key.slice(6);
      keyOf = (req) => {
        const v = claimValue(req.locals, claim);
        return v === undefined ? 'ip:' + req.clientIp : 'c:' + v;
      };
    }

    /** verdicts holds the outcome of allowed requests until their response (for the RateLimit-* headers). */
    const verdicts = opts.headers ? new WeakMap<PluginRequest, Verdict>() : undefined;

    let lastLogged = 0;
    let suppressed = 0;
    const storeFailed = (err: unknown): Answer | undefined => {
      metrics.count('store_error', { plugin: 'rate-limit' });
      const t = Date.now();
      if (t - lastLogged >= 5000) {
        log.warn({ err: { message: (err as Error).message }, suppressed, onStoreError: opts.onStoreError }, 'rate-limit store unavailable');
        lastLogged = t;
        suppressed = 0;
      } else suppressed++;
      return deny ? UNAVAILABLE : undefined;
    };

    const judge = async (req: PluginRequest): Promise<Answer | undefined> => {
      const now = clock.now();
      const start = windowStart(now, windowMs);
      const key = keyPart(keyOf(req));
      let verdict: Verdict;
      try {
        if (sliding) {
          const [current, previous] = await Promise.all([store.incr(prefix + start + ':' + key, ttlMs), store.get(prefix + (start - windowMs) + ':' + key)]);
          verdict = slidingVerdict(current.count, Number(previous ?? 0) || 0, max, now, windowMs);
        } else {
          const current = await store.incr(prefix + start + ':' + key, ttlMs);
          verdict = fixedVerdict(current.count, max, now, windowMs);
        }
      } catch (err) {
        if (err instanceof StoreUnavailableError) return storeFailed(err);
        throw err;
      }
      if (verdict.allowed) {
        verdicts?.set(req, verdict);
        return undefined;
      }
      metrics.count('rate_limited', { plugin: 'rate-limit' });
      log.debug(whereOf(req), 'rate limited');
      const retryAfter = String(Math.max(1, Math.ceil(verdict.resetMs / 1000)));
      return {
        status: 429,
        code: 'SY_ERR_RATE_LIMITED',
        headers: { 'retry-after': retryAfter, 'ratelimit-limit': limit, 'ratelimit-remaining': '0', 'ratelimit-reset': retryAfter, 'cache-control': 'no-store' },
      };
    };

    return {
      onRequest: judge,
      ...(verdicts === undefined
        ? {}
        : {
            onResponse(req, res) {
              const v = verdicts.get(req);
              if (v === undefined) return;
              const h = res.headers;
              h['ratelimit-limit'] = limit;
              h['ratelimit-remaining'] = String(v.remaining);
              h['ratelimit-reset'] = String(Math.ceil(v.resetMs / 1000));
            },
          }),
    };
  },
});
