import { describe, expect, it } from 'vitest';
import { normalizePath } from '../../src/routing/normalize-path.js';

describe('normalizePath', () => {
  it.each([
    ['/api/users', '/api/users'],
    ['/', '/'],
    ['/api//users', '/api/users'],
    ['/api/./users', '/api/users'],
    ['/api/x/../users', '/api/users'],
    ['/api/users/..', '/api/'],
    ['/../../etc/passwd', '/etc/passwd'],
    ['/%61pi/users', '/api/users'],
    ['/api/%2e%2e/admin', '/admin'],
    ['/api/%2E%2E/admin', '/admin'],
    ['/api/.%2e/admin', '/admin'],
    ['/api/users/%7e', '/api/users/~'],
    ['/api/a%20b', '/api/a%20b'],
    ['/api/a%3fb', '/api/a%3Fb'],
    ['/api/users/', '/api/users/'],
    ['/a/b/./', '/a/b/'],
  ])('%s → %s', (raw, want) => {
    expect(normalizePath(raw)).toEqual({ ok: true, path: want });
  });

  it.each([
    ['api/users', 'request target must start with /'],
    ['http://evil.example/api', 'request target must start with /'],
    ['*', 'request target must start with /'],
    ['/api\\users', 'backslash in path'],
    ['/api/%2fadmin', 'encoded slash or backslash in path'],
    ['/api/%5Cadmin', 'encoded slash or backslash in path'],
    ['/api/%00', 'encoded control character in path'],
    ['/api/%zz', 'malformed percent-encoding in path'],
    ['/api/%4', 'malformed percent-encoding in path'],
    ['/public/..;/admin', 'path parameter (;) in path'],
    ['/public/.;x/admin', 'path parameter (;) in path'],
    ['/api/users;v=1', 'path parameter (;) in path'],
    ['/admin;x/secret', 'path parameter (;) in path'],
    ['/api/%3Bx', 'path parameter (;) in path'],
    ['/account#x', 'fragment (#) in request target'],
    ['/api/\u00e9', 'control or non-ASCII character in path'],
  ])('refuses %s', (raw, reason) => {
    expect(normalizePath(raw)).toEqual({ ok: false, reason });
  });

  it('returns the very same string when nothing needs normalizing (no allocation)', () => {
    const raw = '/api/users/42';
    const r = normalizePath(raw);
    expect(r.ok && r.path).toBe(raw);
  });
});
