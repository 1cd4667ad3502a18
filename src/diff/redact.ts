/**
 * Secrets in a configuration model: what the admin API returns and what a
 * diff prints must never hold a JWT secret, a Redis password or the admin
 * token. A secret is replaced by a fingerprint, so two configurations can
 * still be compared ("changed (secret)") without either value leaving the
 * process. The fingerprint is a salted scrypt hash, slow on purpose: a
 * dictionary attack on a weak secret costs real time per guess. N = 4096
 * (about 10 ms and 4 MiB per value; cached) because a reload computes it on
 * the event loop; the default N = 16384 took over 100 ms on a busy machine.
 */
import { scryptSync } from 'node:crypto';

/** SECRET_PREFIX starts every fingerprint: `secret:` and 24 hex digits. */
export const SECRET_PREFIX = 'secret:';

/** SECRET_KEY matches option names whose values are secrets (jwt `secret`, `password`, `token`, `privateKey`, `apiKey`, `authorization`...). */
const SECRET_KEY = /(secret|password|passwd|token|key|authorization|credential)$/i;

/** KEYS_NOT_SECRET are names SECRET_KEY would catch that hold no secret. */
const KEYS_NOT_SECRET = new Set(['by', 'keyBy', 'key', 'publicKey', 'sessionCookie']);

/** SECRET_PATHS are gateway.yaml values that are secrets whatever their name. */
const SECRET_PATHS = new Set(['admin.token', 'stickySecret', 'tracing.otlp.headers']);

/** SCRYPT_COST is scrypt's N (see above). */
const SCRYPT_COST = 4096;
/** CACHE_MAX bounds the cache: values come from configuration edits, but a process may live long. */
const CACHE_MAX = 1000;
const cache = new Map<string, string>();

/** fingerprint replaces a secret by `secret:<hash>` (the same value always gives the same fingerprint). */
export function fingerprint(value: string): string {
  let f = cache.get(value);
  if (f === undefined) {
    f = SECRET_PREFIX + scryptSync(value, 'switchyard-diff-fingerprint', 12, { N: SCRYPT_COST }).toString('hex');
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(value, f);
  }
  return f;
}

/** isSecret tells whether a model value is a fingerprint. */
export function isSecret(v: unknown): boolean {
  return typeof v === 'string' && v.startsWith(SECRET_PREFIX);
}

/** redactUrl hides the password of a URL (redis://user:pass@host) behind a fingerprint of the whole URL. */
function redactUrl(s: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@/i.test(s) ? fingerprint(s) : s;
}

/**
 * redact copies a document with every secret replaced by its fingerprint:
 * values under secret-looking keys, URLs with passwords, and the paths of
 * SECRET_PATHS (`at` is the dotted path of `value` in its document).
 */
export function redact(value: unknown, at = ''): unknown {
  if (SECRET_PATHS.has(at) && value !== undefined) return typeof value === 'string' ? fingerprint(value) : fingerprint(JSON.stringify(value));
  if (typeof value === 'string') return redactUrl(value);
  if (Array.isArray(value)) return value.map((v) => redact(v, at));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const path = at === '' ? k : `${at}.${k}`;
    out[k] = typeof v === 'string' && SECRET_KEY.test(k) && !KEYS_NOT_SECRET.has(k) ? fingerprint(v) : redact(v, path);
  }
  return out;
}
