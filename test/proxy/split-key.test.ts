/**
 * The cohort key readers (`by`) and when a leg counts as unavailable, table-driven
 * over plain request objects (the end-to-end behaviour is in split.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { cohortKey, type CohortRequest } from '../../src/proxy/split-plan.js';
import { unavailable } from '../../src/proxy/split.js';
import type { Upstream } from '../../src/upstream/upstream.js';

function req(over: Partial<CohortRequest> & { cookies?: Record<string, string> } = {}): CohortRequest {
  const cookies = over.cookies ?? {};
  return { clientIp: '10.0.0.7', headers: {}, locals: {}, extraHeaders: undefined, cookie: (n) => cookies[n], ...over };
}

describe('cohort keys', () => {
  it.each([
    ['claim:sub from the verified JWT', 'claim:sub', req({ locals: { jwt: { sub: 'alice' }, session: { sub: 'bob' } } }), 'alice'],
    ['claim:sub from the session when no JWT has it', 'claim:sub', req({ locals: { session: { sub: 'bob' } } }), 'bob'],
    ['a numeric claim', 'claim:tenant', req({ locals: { jwt: { tenant: 42 } } }), '42'],
    ['an object claim is no key', 'claim:sub', req({ locals: { jwt: { sub: { id: 1 } } } }), undefined],
    ['an empty claim is no key', 'claim:sub', req({ locals: { jwt: { sub: '' } } }), undefined],
    ['no claim at all', 'claim:sub', req(), undefined],
    ['a header (name case-insensitive)', 'header:X-User', req({ headers: { 'x-user': 'u1' } }), 'u1'],
    ['a repeated header: its first value', 'header:x-user', req({ headers: { 'x-user': ['u1', 'u2'] } }), 'u1'],
    ['an empty header is no key', 'header:x-user', req({ headers: { 'x-user': '' } }), undefined],
    ['a cookie', 'cookie:uid', req({ cookies: { uid: 'c9' } }), 'c9'],
    ['the session id the session plugin forwards', 'session', req({ extraHeaders: ['x-user-id', 'alice', 'x-session-id', 'S'.repeat(43)] }), 'S'.repeat(43)],
    ['no session', 'session', req({ extraHeaders: ['x-user-id', 'alice'] }), undefined],
    ['the client ip', 'ip', req(), '10.0.0.7'],
    ['the default cohort cookie', undefined, req({ cookies: { 'sy-cohort': 'abc' } }), 'abc'],
  ])('%s', (_name, by, r, expected) => {
    expect(cohortKey(by, 'sy-cohort')(r)).toBe(expected);
  });

  it.each([['claims:sub'], ['header:'], ['user'], ['cookie']])('refuses by: %s', (by) => {
    expect(() => cohortKey(by, 'sy-cohort')).toThrow();
  });
});

describe('an unavailable leg', () => {
  const pool = (eligible: number, panic: boolean) => ({ eligible: new Array(eligible).fill({}), panic }) as unknown as Upstream;
  it.each([
    [1, false, false],
    [0, false, true],
    // In panic mode the pool balances over unhealthy targets: a canary in that state hands its cohort back to the primary.
    [3, true, true],
  ])('eligible %i, panic %s: unavailable %s', (eligible, panic, expected) => {
    expect(unavailable(pool(eligible, panic))).toBe(expected);
  });
});
