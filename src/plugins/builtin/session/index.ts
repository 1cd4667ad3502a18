/**
 * session: server-side sessions in the shared store (Redis when configured,
 * else the embedded store). The cookie holds only a random 256-bit id; the
 * data lives under `sy:sess:<id>` with a sliding idle TTL and an absolute
 * lifetime (createdAt is stored with the data).
 *
 * Upstreams drive sessions with response headers, which the core never lets
 * reach the client: `X-Session-Set: <JSON object>` merges fields into the
 * session (a null removes one) and `X-Session-Clear: 1` ends it; both
 * together rotate it (the old id dies, a new one carries only the new data —
 * what an upstream should do on login). Later requests reach the upstream
 * with `X-Session-Id` and chosen fields as headers (`sub` → `X-User-Id` by
 * default); client copies of those headers are always removed.
 *
 * Session fixation cannot happen: a request without a valid session that gets
 * X-Session-Set always gets a fresh id from crypto.randomBytes, so an id a
 * client made up (or planted in a victim's browser) is never adopted. A cookie
 * whose value is not exactly 43 base64url characters never reaches the store,
 * and keys are built from nothing else. An upstream cannot set the gateway's
 * session cookie itself: Set-Cookie lines with its name are dropped.
 */
import { randomBytes } from 'node:crypto';
import { definePlugin } from '../../define.js';
import { parseDuration } from '../../duration.js';
import type { Answer, PluginRequest, PluginResponse } from '../../types.js';
import { StoreUnavailableError } from '../../../stores/store-error.js';
import { checkHeaderNames, UNSAFE_VALUE } from '../internal/http-names.js';
import { manifest } from './schema.js';

/** SESSION_ID is the only accepted cookie value: base64url of 32 random bytes, no padding. */
export const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/** KEY_PREFIX namespaces session keys in the store. */
export const KEY_PREFIX = 'sy:sess:';

/** ID_HEADER carries the session id upstream. */
const ID_HEADER = 'x-session-id';

const noStore = { 'cache-control': 'no-store' };
const UNAUTHENTICATED: Answer = Object.freeze({ status: 401, code: 'SY_ERR_AUTH_REQUIRED', headers: noStore });
const UNAVAILABLE: Answer = Object.freeze({ status: 503, code: 'SY_ERR_STORE_UNAVAILABLE', headers: { ...noStore, 'retry-after': '5' } });

/** SessionRecord is what the store holds for one session. */
interface SessionRecord {
  createdAt: number;
  data: Record<string, unknown>;
}

/** Live is the state of a request that arrived with a valid session. */
interface Live {
  readonly id: string;
  readonly createdAt: number;
  readonly data: Record<string, unknown>;
}

/** STALE marks a request whose cookie is known to be dead (malformed, unknown or expired): the response expires it. */
const STALE = 'stale' as const;
/** UNKNOWN marks a request whose session could not be read (store down, onStoreError allow). */
const UNKNOWN = 'unknown' as const;

type State = Live | typeof STALE | typeof UNKNOWN;

/** newId makes a session id: 256 random bits, base64url. */
export function newId(): string {
  return randomBytes(32).toString('base64url');
}

/** decode reads a stored record; undefined when it is not one (treated as no session). */
function decode(text: string): SessionRecord | undefined {
  try {
    const v = JSON.parse(text) as Partial<SessionRecord>;
    if (typeof v !== 'object' || v === null || typeof v.createdAt !== 'number' || typeof v.data !== 'object' || v.data === null || Array.isArray(v.data)) return undefined;
    return v as SessionRecord;
  } catch {
    return undefined;
  }
}

/** merge applies a patch: a null removes a field. Object.fromEntries defines properties, so a `__proto__` key is plain data. */
function merge(base: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out = new Map(Object.entries(base));
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) out.delete(k);
    else out.set(k, v);
  }
  return Object.fromEntries(out);
}

/** headerText turns a session field into a header value (UTF-8 bytes, as HTTP carries them), or undefined when it cannot be one. */
function headerText(v: unknown): string | undefined {
  let s: string;
  if (typeof v === 'string') s = v;
  else if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'boolean') return String(v);
  else return undefined;
  if (UNSAFE_VALUE.test(s)) return undefined;
  // eslint-disable-next-line no-control-regex
  return /[^\x00-\x7f]/.test(s) ? Buffer.from(s, 'utf8').toString('latin1') : s;
}

/** cookieNameOf returns the name of a Set-Cookie line. */
function cookieNameOf(line: string): string {
  const eq = line.indexOf('=');
  return (eq === -1 ? line : line.slice(0, eq)).trim();
}

/** appendHeader adds a value to a response header that may already hold one or several. */
function appendHeader(h: Record<string, string | string[] | undefined>, name: string, value: string): void {
  const cur = h[name];
  h[name] = cur === undefined ? value : Array.isArray(cur) ? [...cur, value] : [cur, value];
}

export default definePlugin({
  ...manifest,
  create(opts, ctx) {
    const idleMs = parseDuration(opts.idleTimeout);
    const absoluteMs = parseDuration(opts.absoluteTimeout);
    if (idleMs < 1000) throw new Error('idleTimeout must be at least 1s');
    if (absoluteMs < idleMs) throw new Error('absoluteTimeout must not be shorter than idleTimeout');
    const forwardFields = Object.keys(opts.forward);
    const forwardHeaders = forwardFields.map((f) => opts.forward[f]!.toLowerCase());
    checkHeaderNames(forwardHeaders, 'request', 'forward');
    if (forwardHeaders.includes(ID_HEADER)) throw new Error(`forward: ${ID_HEADER} is set by the session plugin itself`);
    const { store, log, metrics, clock } = ctx;
    // A per-route instance's logger names its route already (one key per line): only a gateway-wide instance adds it.
    const whereOf = (req: PluginRequest) => (ctx.routeId === undefined ? { reqId: req.id, route: req.routeId } : { reqId: req.id });
    const name = opts.cookie;
    const lowerName = name.toLowerCase();
    const maxSize = opts.maxSize;
    const deny = opts.onStoreError === 'deny';
    const attributes = `; Path=/; HttpOnly; SameSite=Lax`;
    const expired = `${name}=; Max-Age=0${attributes}`;
    /** states remembers, per request, what onRequest found (requests without a cookie have no entry). */
    const states = new WeakMap<PluginRequest, State>();

    // Store failures are logged at most every 5s per instance: an outage must not flood the log.
    let lastLogged = 0;
    let suppressed = 0;
    const storeFailed = (err: unknown, during: string) => {
      metrics.count('store_error', { plugin: 'session' });
      const now = Date.now();
      if (now - lastLogged < 5000) {
        suppressed++;
        return;
      }
      log.warn({ err: { message: (err as Error).message }, during, suppressed }, 'session store unavailable');
      lastLogged = now;
      suppressed = 0;
    };
    const background = (p: Promise<unknown>, during: string) => {
      p.catch((err: unknown) => storeFailed(err, during));
    };

    const secureOf = (req: PluginRequest) => (opts.secure || req.secure ? '; Secure' : '');

    const noSession = (req: PluginRequest, state: State | undefined): Answer | undefined => {
      if (state !== undefined) states.set(req, state);
      return opts.required ? UNAUTHENTICATED : undefined;
    };

    const load = async (req: PluginRequest, id: string): Promise<Answer | undefined> => {
      const key = KEY_PREFIX + id;
      let text: string | undefined;
      try {
        text = await store.get(key);
      } catch (err) {
        if (!(err instanceof StoreUnavailableError)) throw err;
        storeFailed(err, 'read');
        // A required session that cannot be checked is never waved through.
        if (deny || opts.required) return UNAVAILABLE;
        states.set(req, UNKNOWN);
        return undefined;
      }
      const rec = text === undefined ? undefined : decode(text);
      const now = clock.now();
      if (rec === undefined || now >= rec.createdAt + absoluteMs) {
        if (text !== undefined) background(store.del(key), 'delete');
        return noSession(req, STALE);
      }
      // Sliding expiry, not awaited: the request does not wait for a second round trip.
      background(store.expire(key, Math.min(idleMs, rec.createdAt + absoluteMs - now)), 'touch');
      states.set(req, { id, createdAt: rec.createdAt, data: rec.data });
      req.locals.session = rec.data;
      req.setUpstreamHeader(ID_HEADER, id);
      for (let i = 0; i < forwardFields.length; i++) {
        const v = rec.data[forwardFields[i]!];
        if (v === undefined) continue;
        const text = headerText(v);
        if (text === undefined) log.debug({ field: forwardFields[i], reqId: req.id }, 'session field not forwarded: not a header-safe scalar');
        else req.setUpstreamHeader(forwardHeaders[i]!, text);
      }
      return undefined;
    };

    /** parsePatch reads X-Session-Set; undefined (logged) when it is too large, not JSON or not an object. */
    const parsePatch = (req: PluginRequest, value: string | string[]): Record<string, unknown> | undefined => {
      if (Array.isArray(value)) {
        log.warn(whereOf(req), 'ignored X-Session-Set: sent more than once');
        return undefined;
      }
      // undici hands header values over as latin1: value.length is the byte count.
      if (value.length > maxSize) {
        log.warn({ ...whereOf(req), bytes: value.length, maxSize }, 'ignored X-Session-Set: too large');
        return undefined;
      }
      let patch: unknown;
      try {
        patch = JSON.parse(Buffer.from(value, 'latin1').toString('utf8'));
      } catch {
        log.warn(whereOf(req), 'ignored X-Session-Set: not valid JSON');
        return undefined;
      }
      if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
        log.warn(whereOf(req), 'ignored X-Session-Set: not a JSON object');
        return undefined;
      }
      return patch as Record<string, unknown>;
    };

    /** apply carries out an upstream's X-Session-Clear and X-Session-Set. */
    const apply = async (req: PluginRequest, res: PluginResponse, state: State | undefined, set: string | string[] | undefined, clear: string | string[] | undefined): Promise<void> => {
      const h = res.headers;
      let live = typeof state === 'object' ? state : undefined;
      // The client holds a cookie of ours that must go unless a new one replaces it.
      let expireCookie = state === STALE;
      if (clear !== undefined) {
        if (clear === '1' || (typeof clear === 'string' && clear.toLowerCase() === 'true')) {
          if (live !== undefined) {
            try {
              await store.del(KEY_PREFIX + live.id);
            } catch (err) {
              if (!(err instanceof StoreUnavailableError)) throw err;
              storeFailed(err, 'clear');
            }
            expireCookie = true;
            live = undefined;
            delete req.locals.session;
          }
          if (state === UNKNOWN) expireCookie = true;
        } else log.warn(whereOf(req), 'ignored X-Session-Clear: expected "1"');
      }
      const patch = set === undefined ? undefined : parsePatch(req, set);
      if (patch !== undefined) {
        const now = clock.now();
        const id = live?.id ?? newId();
        const createdAt = live?.createdAt ?? now;
        const data = merge(live?.data ?? {}, patch);
        const text = JSON.stringify({ createdAt, data } satisfies SessionRecord);
        if (Buffer.byteLength(text) > maxSize + 64) {
          log.warn({ ...whereOf(req), bytes: text.length, maxSize }, 'ignored X-Session-Set: session data would exceed maxSize');
        } else {
          const left = createdAt + absoluteMs - now;
          try {
            await store.set(KEY_PREFIX + id, text, Math.min(idleMs, left));
            req.locals.session = data;
            if (live === undefined) {
              metrics.count('session_created', { plugin: 'session' });
              appendHeader(h, 'set-cookie', `${name}=${id}; Max-Age=${Math.floor(left / 1000)}${attributes}${secureOf(req)}`);
              // A response that starts a session must never be served from a shared cache to someone else.
              if (h['cache-control'] === undefined) h['cache-control'] = 'no-store';
              return;
            }
          } catch (err) {
            if (!(err instanceof StoreUnavailableError)) throw err;
            storeFailed(err, 'write');
          }
        }
      }
      if (expireCookie) appendHeader(h, 'set-cookie', expired + secureOf(req));
    };

    return {
      ownsHeaders: [ID_HEADER, ...forwardHeaders],

      onRequest(req) {
        const raw = req.cookie(name);
        if (raw === undefined) return noSession(req, undefined);
        // Strict shape check before any store access: nothing else ever becomes part of a key.
        if (!SESSION_ID.test(raw)) return noSession(req, STALE);
        return load(req, raw);
      },

      onResponse(req, res) {
        const h = res.headers;
        const state = states.get(req);
        if (res.fromUpstream) {
          const cookies = h['set-cookie'];
          if (cookies !== undefined) {
            // The session cookie is the gateway's: an upstream may not set (or fix) it.
            const list = (Array.isArray(cookies) ? cookies : [cookies]).filter((c) => cookieNameOf(c).toLowerCase() !== lowerName);
            if (list.length === 0) delete h['set-cookie'];
            else h['set-cookie'] = list;
          }
          const set = h['x-session-set'];
          const clear = h['x-session-clear'];
          if (set !== undefined || clear !== undefined) return apply(req, res, state, set, clear);
        }
        if (state === STALE) appendHeader(h, 'set-cookie', expired + secureOf(req));
      },
    };
  },
});
