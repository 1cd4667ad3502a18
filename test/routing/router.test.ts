import { describe, expect, it } from 'vitest';
import { compileMatch, type MatchSpec, type RequestView } from '../../src/routing/route-match.js';
import { Router } from '../../src/routing/router.js';
import { explain } from '../../src/routing/explain.js';

const route = (id: string, spec: MatchSpec) => ({ id, match: compileMatch(spec) });
const view = (over: Partial<RequestView> = {}): RequestView => ({ method: 'GET', host: 'api.example.com', headers: {}, rawQuery: '', memo: {}, ...over });

describe('Router', () => {
  const router = new Router([
    route('root', { path: '/*' }),
    route('api', { path: '/api/*' }),
    route('users', { path: '/api/users/*' }),
    route('users-exact', { path: '/api/users', methods: ['POST'] }),
    route('users-v2', { path: '/api/users/*', headers: { 'X-Api-Version': '2' } }),
    route('health', { path: '/healthz' }),
    route('canary', { path: '/api/*', cookies: { canary: 'yes' } }),
    route('beta', { path: '/api/*', query: { beta: '1' } }),
    route('tenant', { path: '/t/*', host: '*.example.com' }),
    route('tenant-exact', { path: '/t/*', host: 'admin.example.com' }),
  ]);
  const m = (path: string, over?: Partial<RequestView>) => router.match(path, view(over))?.id;

  it.each([
    ['/api/users/42', 'users'],
    ['/api/users', 'users'],
    ['/api/users/', 'users'],
    ['/api/usersX', 'api'],
    ['/api', 'api'],
    ['/apix', 'root'],
    ['/', 'root'],
    ['/healthz', 'health'],
    ['/healthz/x', 'root'],
    ['/api/orders/1', 'api'],
  ])('%s → %s (longest literal prefix wins)', (path, want) => {
    expect(m(path)).toBe(want);
  });

  it('prefers more conditions among equal paths', () => {
    expect(m('/api/users/1', { headers: { 'x-api-version': '2' } })).toBe('users-v2');
    expect(m('/api/users/1', { headers: { 'x-api-version': '3' } })).toBe('users');
    expect(m('/api/x', { headers: { cookie: 'a=b; canary=yes' } })).toBe('canary');
    expect(m('/api/x', { rawQuery: 'beta=1&x=2' })).toBe('beta');
  });

  it('an exact path with a method beats the prefix route for that method only', () => {
    expect(m('/api/users', { method: 'POST' })).toBe('users-exact');
    expect(m('/api/users', { method: 'GET' })).toBe('users');
  });

  it('matches hosts exactly and by wildcard (one or more labels, not the bare domain)', () => {
    expect(m('/t/1', { host: 'admin.example.com' })).toBe('tenant-exact');
    expect(m('/t/1', { host: 'a.example.com' })).toBe('tenant');
    expect(m('/t/1', { host: 'a.b.example.com' })).toBe('tenant');
    expect(m('/t/1', { host: 'example.com' })).toBe('root');
    expect(m('/t/1', { host: 'evilexample.com' })).toBe('root');
  });

  it('returns undefined when nothing matches', () => {
    const r = new Router([route('api', { path: '/api/*' })]);
    expect(r.match('/other', view())).toBeUndefined();
  });

  it('reports ambiguous routes and accepts disjoint ones', () => {
    const amb = new Router([route('a', { path: '/x/*' }), route('b', { path: '/x/*' })]).ambiguities();
    expect(amb.map((p) => [p.a.id, p.b.id])).toEqual([['a', 'b']]);
    const methods = new Router([route('a', { path: '/x/*', methods: ['GET'] }), route('b', { path: '/x/*', methods: ['POST'] })]);
    expect(methods.ambiguities()).toEqual([]);
    const headers = new Router([route('a', { path: '/x/*', headers: { v: '1' } }), route('b', { path: '/x/*', headers: { v: '2' } })]);
    expect(headers.ambiguities()).toEqual([]);
    const overlap = new Router([route('a', { path: '/x/*', headers: { v: '1' } }), route('b', { path: '/x/*', query: { q: '1' } })]);
    expect(overlap.ambiguities()).toHaveLength(1);
  });

  it('matches in time independent of the number of routes (trie walk)', () => {
    const many = new Router(Array.from({ length: 1000 }, (_, i) => route(`r${i}`, { path: `/svc${i}/*` })));
    expect(many.match('/svc999/x', view())?.id).toBe('r999');
    expect(many.match('/svc0', view())?.id).toBe('r0');
  });

  it.each([
    [{ path: '/a/*/b' }, '"*" is only allowed as a trailing "/*"'],
    [{ path: '/a/' }, 'must not end with "/"'],
    [{ path: '/a/../b' }, 'must be a normalized path'],
    [{ path: '/a', host: 'a.*.com' }, 'may only use "*." as a leading wildcard'],
  ])('rejects bad pattern %j', (spec, message) => {
    expect(() => compileMatch(spec as MatchSpec)).toThrow(message);
  });

  it('explains why other routes did not match', () => {
    const out = explain(router, 'GET', '/api/users/1?x=1', { host: 'api.example.com', 'x-api-version': '3' });
    expect(out.winner?.id).toBe('users');
    const reasons = Object.fromEntries(out.verdicts.map((v) => [v.route.id, v.reason]));
    expect(reasons['users-v2']).toBe('header x-api-version is "3", wanted "2"');
    expect(reasons['health']).toBe('path does not match');
    expect(reasons['users-exact']).toBe('path does not match');
    expect(reasons['canary']).toBe('cookie canary is missing, wanted "yes"');
    expect(reasons['api']).toBe('a more specific route matched first');
  });
});
