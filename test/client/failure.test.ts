/**
 * The client's reading of a failed attempt (src/client/failure.ts), pinned
 * next to the gateway's (src/proxy/forward.ts, classify): the same codes,
 * the same "nothing was sent" cases, timeouts marked so they are never retried.
 */
import { describe, expect, it } from 'vitest';
import { classifyFailure } from '../../src/client/failure.js';
import { classify } from '../../src/proxy/upstream-failure.js';

const err = (code: string) => Object.assign(new Error(code), { code });

describe('classifyFailure', () => {
  it.each([
    { code: 'ECONNREFUSED', sent: false, want: { code: 'SY_ERR_UPSTREAM_CONNECT', notSent: true, timeout: false } },
    { code: 'EHOSTUNREACH', sent: false, want: { code: 'SY_ERR_UPSTREAM_CONNECT', notSent: true, timeout: false } },
    { code: 'UND_ERR_CONNECT_TIMEOUT', sent: false, want: { code: 'SY_ERR_UPSTREAM_TIMEOUT', notSent: true, timeout: false } },
    { code: 'UND_ERR_HEADERS_TIMEOUT', sent: true, want: { code: 'SY_ERR_UPSTREAM_TIMEOUT', notSent: false, timeout: true } },
    { code: 'UND_ERR_BODY_TIMEOUT', sent: true, want: { code: 'SY_ERR_UPSTREAM_TIMEOUT', notSent: false, timeout: true } },
    { code: 'ECONNRESET', sent: false, want: { code: 'SY_ERR_UPSTREAM_RESET', notSent: true, timeout: false } },
    { code: 'ECONNRESET', sent: true, want: { code: 'SY_ERR_UPSTREAM_RESET', notSent: false, timeout: false } },
    { code: 'UND_ERR_SOCKET', sent: true, want: { code: 'SY_ERR_UPSTREAM_RESET', notSent: false, timeout: false } },
    { code: 'ERR_TLS_CERT_ALTNAME_INVALID', sent: false, want: { code: 'SY_ERR_UPSTREAM_CONNECT', notSent: true, timeout: false } },
    { code: 'HPE_INVALID_CONSTANT', sent: true, want: { code: 'SY_ERR_UPSTREAM_BAD_RESPONSE', notSent: false, timeout: false } },
  ])('$code (sent: $sent)', ({ code, sent, want }) => {
    const f = classifyFailure(err(code), sent);
    expect(f).toMatchObject(want);
    // The gateway reads the same error the same way.
    const g = classify(err(code), sent);
    expect({ code: g.code, notSent: g.notSent }).toEqual({ code: want.code, notSent: want.notSent });
  });
});
