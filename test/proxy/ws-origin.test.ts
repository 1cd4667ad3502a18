/**
 * The cross-site WebSocket rule as a table: which upgrades are checked
 * (ambient credentials, or a route that lists origins), what counts as the
 * gateway's own origin, and which `websocketOrigins` lists load.
 */
import { describe, expect, it } from 'vitest';
import type { IncomingHttpHeaders } from 'node:http';
import { checkOrigin, compileWebSocketOrigins } from '../../src/proxy/ws-origin.js';

const OWN = 'https://app.example.com';
const listed = compileWebSocketOrigins(['https://partner.example.org', 'https://*.trusted.example', 'http://localhost:*']);

describe('checkOrigin without websocketOrigins', () => {
  it.each<[string, IncomingHttpHeaders, string | undefined]>([
    ['no Origin, with a cookie (not a browser page)', { cookie: 'sid=1' }, undefined],
    ['a foreign Origin without credentials (nothing to hijack)', { origin: 'https://evil.example' }, undefined],
    ['a foreign Origin with a Bearer token (a page cannot set it on a WebSocket)', { origin: 'https://evil.example', authorization: 'Bearer abc' }, undefined],
    ['its own Origin with a cookie', { origin: OWN, cookie: 'sid=1' }, undefined],
    ['its own Origin in another case, with the default port', { origin: 'HTTPS://App.Example.COM:443', cookie: 'sid=1' }, undefined],
    ['an empty Cookie header (no credentials)', { origin: 'https://evil.example', cookie: '' }, undefined],
    ['a foreign Origin with a cookie', { origin: 'https://evil.example', cookie: 'sid=1' }, 'credentials'],
    ['Origin null with a cookie (sandboxed frames, file: pages)', { origin: 'null', cookie: 'sid=1' }, 'credentials'],
    ['a look-alike host with a cookie', { origin: 'https://app.example.com.evil.example', cookie: 'sid=1' }, 'credentials'],
    ['another scheme of its own host with a cookie', { origin: 'http://app.example.com', cookie: 'sid=1' }, 'credentials'],
    ['another port of its own host with a cookie', { origin: 'https://app.example.com:8443', cookie: 'sid=1' }, 'credentials'],
    ['its own Origin with a path (not an origin) and a cookie', { origin: `${OWN}/`, cookie: 'sid=1' }, 'credentials'],
    ['two Origin headers joined (own and foreign) with a cookie', { origin: `${OWN}, https://evil.example`, cookie: 'sid=1' }, 'credentials'],
    ['a foreign Origin with Basic credentials (browsers replay them)', { origin: 'https://evil.example', authorization: 'Basic dTpw' }, 'credentials'],
    ['a foreign Origin with Negotiate credentials', { origin: 'https://evil.example', authorization: 'negotiate YII=' }, 'credentials'],
  ])('%s → %s', (_name, headers, verdict) => {
    expect(checkOrigin(headers, undefined, () => OWN)).toBe(verdict);
  });

  it('does not compute its own origin unless an Origin must be checked', () => {
    let asked = 0;
    const own = () => (asked++, OWN);
    checkOrigin({ cookie: 'a=1' }, undefined, own);
    checkOrigin({ origin: 'https://evil.example' }, undefined, own);
    expect(asked).toBe(0);
    checkOrigin({ origin: 'https://evil.example', cookie: 'a=1' }, undefined, own);
    expect(asked).toBe(1);
  });

  it('refuses when the gateway cannot tell its own origin (no Host)', () => {
    expect(checkOrigin({ origin: 'http://', cookie: 'a=1' }, undefined, () => '')).toBe('credentials');
  });
});

describe('checkOrigin with websocketOrigins', () => {
  it.each<[string, IncomingHttpHeaders, string | undefined]>([
    ['a listed origin with a cookie', { origin: 'https://partner.example.org', cookie: 'sid=1' }, undefined],
    ['a wildcard-listed origin (one label)', { origin: 'https://a.trusted.example', cookie: 'sid=1' }, undefined],
    ['a wildcard-listed origin (two labels)', { origin: 'https://a.b.trusted.example' }, undefined],
    ['any port of a port-wildcard origin', { origin: 'http://localhost:5173' }, undefined],
    ['its own origin, not listed', { origin: OWN }, undefined],
    ['no Origin', {}, undefined],
    ['a foreign Origin without credentials (the list applies to every browser page)', { origin: 'https://evil.example' }, 'unlisted'],
    ['the apex of a wildcard (not matched by *.)', { origin: 'https://trusted.example' }, 'unlisted'],
    ['a listed host with another scheme', { origin: 'http://partner.example.org' }, 'unlisted'],
    ['Origin null', { origin: 'null' }, 'unlisted'],
    ['a foreign Origin with a cookie', { origin: 'https://evil.example', cookie: 'sid=1' }, 'credentials'],
  ])('%s → %s', (_name, headers, verdict) => {
    expect(checkOrigin(headers, listed, () => OWN)).toBe(verdict);
  });
});

describe('compileWebSocketOrigins', () => {
  it('is undefined without a list', () => {
    expect(compileWebSocketOrigins(undefined)).toBeUndefined();
  });

  it.each([
    ['"*"', ['*'], /any site/],
    ['"null"', ['null'], /"null" cannot be allowed/],
    ['a URL with a path', ['https://app.example.com/chat'], /is not an origin/],
    ['a bare host', ['app.example.com'], /is not an origin/],
    ['a wildcard in the middle', ['https://app.*.example.com'], /is not an origin/],
  ])('refuses %s', (_name, list, message) => {
    expect(() => compileWebSocketOrigins(list)).toThrow(message);
  });
});
