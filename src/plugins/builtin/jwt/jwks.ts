/**
 * Keys from a JWKS endpoint, through jwks-rsa: looked up by `kid`, cached
 * for `cacheMaxAge`, and fetched again when a kid is not in the cache (key
 * rotation), at most `requestsPerMinute` times a minute so tokens with
 * made-up kids cannot make the gateway hammer the endpoint. Only the
 * configured URI is ever fetched (never a token's `jku` or `x5u`), without
 * following redirects, with a deadline and a size cap.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import type jwksRsa from 'jwks-rsa';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** KID is what a usable `kid` looks like: short, printable, no spaces or quotes (it is only a lookup key, but it reaches logs and caches). */
export const KID = /^[A-Za-z0-9._~+/=:-]{1,128}$/;

/** MAX_JWKS_BYTES caps a JWKS document (a real one is a few kilobytes). */
const MAX_JWKS_BYTES = 1024 * 1024;

/** JwksFailure says why no key came back: the kid is unknown (the token is bad) or the endpoint failed (we cannot tell). */
export class JwksFailure extends Error {
  constructor(
    readonly reason: 'unknown_kid' | 'jwks_rate_limited' | 'jwks_unavailable',
    cause: unknown,
  ) {
    super(`jwks: ${reason}`, { cause });
    this.name = 'JwksFailure';
  }
}

/** JwksKeys looks up verification keys on a JWKS endpoint. */
export class JwksKeys {
  private readonly client: jwksRsa.JwksClient;
  /** keyObjects keeps the parsed key of each cached signing key (jwks-rsa hands out PEM; parsing it per request would be waste). */
  private readonly keyObjects = new WeakMap<object, KeyObject>();
  /** fetches counts JWKS documents fetched (tests and logs). */
  fetches = 0;

  /**
   * open creates the key source. jwks-rsa is loaded here, only when a route
   * uses a JWKS endpoint: a gateway without one does not carry it.
   */
  static async open(uri: string, opts: { cacheMaxAgeMs: number; requestsPerMinute: number; timeoutMs: number }): Promise<JwksKeys> {
    const { default: lib } = await import('jwks-rsa');
    return new JwksKeys(lib, uri, opts);
  }

  private constructor(lib: typeof jwksRsa, uri: string, opts: { cacheMaxAgeMs: number; requestsPerMinute: number; timeoutMs: number }) {
    this.client = new lib.JwksClient({
      jwksUri: uri,
      cache: true,
      cacheMaxAge: opts.cacheMaxAgeMs,
      cacheMaxEntries: 16,
      rateLimit: true,
      jwksRequestsPerMinute: opts.requestsPerMinute,
      fetcher: (u) => {
        this.fetches++;
        return fetchJwks(u, opts.timeoutMs);
      },
    });
  }

  /** key returns the verification key for a kid and algorithm; rejects with JwksFailure. */
  async key(kid: string | undefined, alg: string): Promise<KeyObject> {
    let signing: jwksRsa.SigningKey;
    try {
      signing = await this.client.getSigningKey(kid);
    } catch (err) {
      const name = (err as Error).name;
      if (name === 'SigningKeyNotFoundError') throw new JwksFailure('unknown_kid', err);
      if (name === 'JwksRateLimitError') throw new JwksFailure('jwks_rate_limited', err);
      throw new JwksFailure('jwks_unavailable', err);
    }
    // A key published for one algorithm must not verify another.
    if (signing.alg !== undefined && signing.alg !== alg) throw new JwksFailure('unknown_kid', new Error(`key ${kid} is for ${signing.alg}, token says ${alg}`));
    let key = this.keyObjects.get(signing);
    if (key === undefined) {
      key = createPublicKey(signing.getPublicKey());
      this.keyObjects.set(signing, key);
    }
    return key;
  }
}

/**
 * fetchJwks GETs a JWKS document: no redirects, a deadline, a size cap, and a
 * `keys` array or an error. node:http, not undici: built-in plugins use what
 * any third-party plugin can (the SDK, src/http/index.ts and Node), and
 * undici's loader lives in the core (src/http/undici.ts).
 */
async function fetchJwks(uri: string, timeoutMs: number): Promise<{ keys: unknown[] }> {
  const url = new URL(uri);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  // One deadline for the whole exchange: aborting destroys the response too, which fails the read below.
  const signal = AbortSignal.timeout(timeoutMs);
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    request(url, { method: 'GET', headers: { accept: 'application/json' }, signal }, resolve).on('error', reject).end();
  });
  if (res.statusCode !== 200) {
    res.resume();
    throw new Error(`JWKS endpoint answered ${res.statusCode}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_JWKS_BYTES) {
      res.destroy();
      throw new Error(`JWKS document is larger than ${MAX_JWKS_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  const doc = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { keys?: unknown };
  if (doc === null || typeof doc !== 'object' || !Array.isArray(doc.keys)) throw new Error('JWKS document has no "keys" array');
  return { keys: doc.keys };
}
