/**
 * Registry auth: HTTP Basic as Eureka clients send it when their service URL
 * carries credentials (http://svc:pw@gw:8761/eureka/), or a bearer token.
 * Both sides are hashed to fixed-length digests before timingSafeEqual, so the
 * comparison takes the same time whatever is sent, including its length.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ErrorCode } from '../errors.js';
import type { RegistryAuth } from './options.js';

/** REALM is the realm clients see in WWW-Authenticate. */
export const REALM = 'switchyard-registry';

/** AuthVerdict is the outcome of checking a request's Authorization header. */
export type AuthVerdict = { ok: true } | { ok: false; code: ErrorCode; challenge: string };

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

function same(given: string, want: Buffer): boolean {
  return timingSafeEqual(digest(given), want);
}

/** AuthCheck checks Authorization headers against the configured credentials. */
export class AuthCheck {
  private readonly want: Buffer | undefined;
  private readonly challenge: string;

  constructor(private readonly auth: RegistryAuth) {
    this.want = auth.kind === 'basic' ? digest(`${auth.user}:${auth.password}`) : auth.kind === 'token' ? digest(auth.token) : undefined;
    this.challenge = auth.kind === 'token' ? `Bearer realm="${REALM}"` : `Basic realm="${REALM}", charset="UTF-8"`;
  }

  /** required tells whether any credentials are configured. */
  get required(): boolean {
    return this.want !== undefined;
  }

  /** check decides on an Authorization header (undefined when absent). */
  check(header: string | undefined): AuthVerdict {
    if (!this.want) return { ok: true };
    if (!header) return { ok: false, code: 'SY_ERR_AUTH_REQUIRED', challenge: this.challenge };
    const space = header.indexOf(' ');
    const scheme = header.slice(0, space).toLowerCase();
    const value = header.slice(space + 1).trim();
    let given: string | undefined;
    if (this.auth.kind === 'basic' && scheme === 'basic' && /^[A-Za-z0-9+/=]{1,2048}$/.test(value)) given = Buffer.from(value, 'base64').toString('utf8');
    if (this.auth.kind === 'token' && scheme === 'bearer' && value.length <= 4096) given = value;
    if (given === undefined || !same(given, this.want)) return { ok: false, code: 'SY_ERR_AUTH_INVALID', challenge: this.challenge };
    return { ok: true };
  }
}
