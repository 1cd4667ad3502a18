/**
 * Sticky sessions by cookie (`sticky: { cookie, ttl }` on an upstream): the
 * first response carries a cookie naming the target that served it, and
 * later requests with that cookie go back to that target while it is a
 * current, eligible (healthy, not draining) target of the pool. Otherwise the
 * balancer picks as usual and the cookie is re-issued for the new target.
 *
 * The cookie is an opaque signed token, `<index>.<tag>.<expiry>.<mac>`:
 * the target's position in the pool, a hash of its id (so a reordered or
 * replaced target is not mistaken for another), an expiry in seconds, and an
 * HMAC-SHA256 (truncated to 128 bits) under a key derived per upstream from
 * the gateway's sticky secret. A cookie never holds an address and one is
 * never parsed out of it: the token can only select among the pool's current
 * targets, so a tampered, expired or foreign cookie (another upstream, another
 * secret) is simply ignored.
 *
 * The secret is `stickySecret` in gateway.yaml, else SWITCHYARD_STICKY_SECRET,
 * else a random key made once per process (then cookies survive neither a
 * restart nor a hop to another instance: set a secret when running several).
 * Per request: one regex, one HMAC with a prepared key; nothing is cached per
 * client.
 */
import { createHash, createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { Target } from './target.js';

/** STICKY_SECRET_ENV names the environment variable holding the shared sticky secret. */
export const STICKY_SECRET_ENV = 'SWITCHYARD_STICKY_SECRET';

/** TOKEN is the only cookie shape looked at further: index, 11-char tag, base-36 expiry, 22-char MAC. */
const TOKEN = /^(\d{1,4})\.([A-Za-z0-9_-]{11})\.([0-9a-z]{1,9})\.([A-Za-z0-9_-]{22})$/;

/** MAC_BYTES is the length of the truncated HMAC. */
const MAC_BYTES = 16;

let processSecret: Buffer | undefined;

/** StickySecret is the root key sticky cookies are signed under, with a fingerprint that changes when it does. */
export interface StickySecret {
  readonly key: Buffer;
  readonly fingerprint: string;
}

/** stickySecret resolves the secret: the configured one, else the environment's, else one random key per process. */
export function stickySecret(configured: string | undefined, env: NodeJS.ProcessEnv = process.env): StickySecret {
  const text = configured ?? env[STICKY_SECRET_ENV];
  const key = text !== undefined && text !== '' ? Buffer.from(text, 'utf8') : (processSecret ??= randomBytes(32));
  return { key, fingerprint: createHash('sha256').update(key).digest('base64url').slice(0, 16) };
}

/** StickyHit is a request's valid cookie, resolved: the target and whether the cookie should be renewed. */
export interface StickyHit {
  readonly target: Target;
  /** renew is true when the cookie is past half its lifetime (it is re-issued, so an active client keeps its target). */
  readonly renew: boolean;
}

/** Sticky signs and reads one upstream's sticky cookies. */
export class Sticky {
  private readonly key: KeyObject;
  private readonly tags = new WeakMap<Target, string>();
  private readonly attributes: string;

  constructor(
    /** upstream names the pool; the signing key is derived from it, so a cookie of another upstream never verifies. */
    readonly upstream: string,
    readonly cookie: string,
    readonly ttlMs: number,
    secret: StickySecret,
  ) {
    this.key = createSecretKey(createHmac('sha256', secret.key).update(`switchyard sticky\0${upstream}`).digest());
    this.attributes = `; Max-Age=${Math.max(1, Math.floor(ttlMs / 1000))}; Path=/; HttpOnly; SameSite=Lax`;
  }

  /**
   * find returns the target a cookie value names when the token is well
   * formed, signed by this upstream's key, unexpired, and the target at its
   * index is the one it was issued for and is eligible now.
   */
  find(value: string | undefined, targets: readonly Target[], now: number): StickyHit | undefined {
    if (value === undefined || value.length > 64) return undefined;
    const m = TOKEN.exec(value);
    if (m === null) return undefined;
    const [, index, tag, expiry, mac] = m as unknown as [string, string, string, string, string];
    const expiresAt = Number.parseInt(expiry, 36) * 1000;
    if (expiresAt <= now) return undefined;
    const payload = value.slice(0, value.length - 23); // without ".<mac>"
    const expected = createHmac('sha256', this.key).update(payload).digest().subarray(0, MAC_BYTES);
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== MAC_BYTES || !timingSafeEqual(given, expected)) return undefined;
    const i = Number(index);
    const target = targets[i];
    if (target === undefined || target.index !== i || this.tagOf(target) !== tag || !target.eligible(now)) return undefined;
    return { target, renew: expiresAt - now < this.ttlMs / 2 };
  }

  /** setCookie returns the Set-Cookie line pinning a client to `target`. */
  setCookie(target: Target, now: number, secure: boolean): string {
    const payload = `${target.index}.${this.tagOf(target)}.${Math.ceil((now + this.ttlMs) / 1000).toString(36)}`;
    const mac = createHmac('sha256', this.key).update(payload).digest().subarray(0, MAC_BYTES).toString('base64url');
    return `${this.cookie}=${payload}.${mac}${this.attributes}${secure ? '; Secure' : ''}`;
  }

  /** tagOf is a short hash of the target's id (its origin), computed once per target. */
  private tagOf(target: Target): string {
    let tag = this.tags.get(target);
    if (tag === undefined) {
      tag = createHash('sha256').update(target.id).digest('base64url').slice(0, 11);
      this.tags.set(target, tag);
    }
    return tag;
  }
}

/** StickyRequest is what sticky routing needs from a request (the Exchange provides it). */
export interface StickyRequest {
  readonly clientIp: string;
  readonly secure: boolean;
  cookie(name: string): string | undefined;
  /** stickyCookie is the Set-Cookie line the response must carry (undefined: the client's cookie stands). */
  stickyCookie: string | undefined;
}

/** StickyPool is the part of an Upstream sticky routing uses. */
export interface StickyPool {
  readonly targets: readonly Target[];
  readonly now: () => number;
  pick(clientKey: string, exclude?: Target): Target | undefined;
}

/**
 * chooseTarget picks a target for one attempt of a sticky pool: the cookie's
 * target on a first attempt when it is valid and eligible, else the
 * balancer's pick (retries always go through the balancer, away from
 * `exclude`). It records on the request the cookie to send, if any.
 */
export function chooseTarget(sticky: Sticky, req: StickyRequest, pool: StickyPool, exclude?: Target): Target | undefined {
  const now = pool.now();
  const hit = exclude === undefined ? sticky.find(req.cookie(sticky.cookie), pool.targets, now) : undefined;
  const target = hit?.target ?? pool.pick(req.clientIp, exclude);
  req.stickyCookie = target === undefined || (hit !== undefined && !hit.renew) ? undefined : sticky.setCookie(target, now, req.secure);
  return target;
}

/** addSetCookie appends a Set-Cookie line to response headers that may already hold some. */
export function addSetCookie(headers: Record<string, string | string[] | undefined>, line: string): void {
  const cur = headers['set-cookie'];
  headers['set-cookie'] = cur === undefined ? line : Array.isArray(cur) ? [...cur, line] : [cur, line];
}
