/**
 * A route's `mirror` block as a person writes it: the mistakes the loader
 * reports with file:line (unknown shadow upstream with a suggestion, the
 * route's own upstream, a tcp:// pool, a bad size or percent), and what the
 * compiled mirror holds for a valid block (defaults, sizes, the cap).
 */
import { describe, expect, it } from 'vitest';
import { loadErrors, loadValid, UPSTREAM } from '../config/helpers.js';
import { startGateway } from '../../src/testing/index.js';

const SHADOW = 'upstreams:\n  users-shadow:\n    targets:\n      - url: http://shadow:8080\n';
const route = (mirror: string) => `${UPSTREAM}routes:\n  - id: users\n    match: { path: /users/* }\n    upstream: users\n    mirror: ${mirror}\n`;

describe('mirror validation', () => {
  it.each([
    {
      name: 'unknown shadow upstream, with the closest name',
      files: { 'routes/shadow.yaml': SHADOW, 'routes/users.yaml': route('{ upstream: users-shadw }') },
      errors: ['routes/users.yaml:9:25: routes[0].mirror.upstream: unknown upstream "users-shadw"; did you mean "users-shadow"?'],
    },
    {
      name: "the route's own upstream",
      files: { 'routes/users.yaml': route('{ upstream: users }') },
      errors: [
        `routes/users.yaml:9:25: routes[0].mirror.upstream: mirror.upstream "users" is the route's own upstream: a shadow copy must go to another pool (a copy to the primary doubles its load, and shadow failures would eject its targets)`,
      ],
    },
    {
      name: 'a tcp:// pool',
      files: { 'routes/db.yaml': 'upstreams:\n  db:\n    targets:\n      - url: tcp://db:5432\n', 'routes/users.yaml': route('{ upstream: db }') },
      errors: ['routes/users.yaml:9:25: routes[0].mirror.upstream: upstream "db" has tcp:// targets: a mirror copies HTTP requests and needs http:// or https:// targets'],
    },
    {
      name: 'percent over 100 and a size without a unit',
      files: { 'routes/shadow.yaml': SHADOW, 'routes/users.yaml': route('{ upstream: users-shadow, percent: 150, bodyLimit: 64k }') },
      errors: expect.arrayContaining([expect.stringMatching(/^routes\/users\.yaml:9:\d+: routes\[0\]\.mirror\.percent: /), expect.stringMatching(/^routes\/users\.yaml:9:\d+: routes\[0\]\.mirror\.bodyLimit/)]),
    },
  ])('$name', async ({ files, errors }) => {
    expect(await loadErrors(files)).toEqual(errors);
  });

  it('accepts fractional percents, sizes with units and a method list', async () => {
    const cfg = await loadValid({ 'routes/shadow.yaml': SHADOW, 'routes/users.yaml': route('{ upstream: users-shadow, percent: 0.5, bodyLimit: 16kb, methods: [GET, POST], timeout: 2s }') });
    expect(cfg.files.flatMap((f) => f.doc.routes ?? [])[0]!.mirror).toEqual({ upstream: 'users-shadow', percent: 0.5, bodyLimit: '16kb', methods: ['GET', 'POST'], timeout: '2s' });
  });

  it('compiles defaults: all requests, 64kb, safe methods, 5s, the cap from limits.mirrorConcurrency', async () => {
    const gw = await startGateway({
      gateway: { limits: { mirrorConcurrency: 7 } },
      routeFiles: {
        'a.yaml': {
          upstreams: { a: { targets: [{ url: 'http://127.0.0.1:9' }] }, b: { targets: [{ url: 'http://127.0.0.1:9' }] } },
          routes: [
            { id: 'a', match: { path: '/a/*' }, upstream: 'a', mirror: { upstream: 'b' } },
            { id: 'big', match: { path: '/big/*' }, upstream: 'a', retry: { bufferBody: 1024 }, mirror: { upstream: 'b', bodyLimit: '1mb' } },
          ],
        },
      },
    });
    try {
      const [a, big] = gw.gateway.runtime.routes.map((r) => r.mirror!);
      expect({ percent: a!.percent, bodyLimit: a!.bodyLimit, methods: [...a!.methods], timeoutMs: a!.timeoutMs, max: a!.max, shadow: a!.upstream.name }).toEqual({
        percent: 100,
        bodyLimit: 65536,
        methods: ['GET', 'HEAD', 'OPTIONS'],
        timeoutMs: 5000,
        max: 7,
        shadow: 'b',
      });
      // Bodies past retry.bufferBody stream to the primary and are never held back for a copy.
      expect(big!.bodyLimit).toBe(1024);
      expect(big!.gate).toBe(a!.gate);
    } finally {
      await gw.close();
    }
  });
});
