/**
 * A route's `mirror` block as a person writes it: the mistakes the loader
 * reports with file:line (unknown shadow upstream with a suggestion, the
 * route's own upstream, a tcp:// pool, a bad size or percent), and what the
 * compiled mirror holds for a valid block (defaults, sizes, the cap).
 */
import { describe, expect, it, vi } from 'vitest';
import { loadErrors, loadValid, UPSTREAM } from '../config/helpers.js';
import { startGateway, startUpstream, waitFor } from '../../src/testing/index.js';
import { request } from 'undici';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli, tempDir } from '../cli/helpers.js';

// The explain case runs the CLI twice as child processes: allow for a loaded machine.
vi.setConfig({ testTimeout: 60_000 });

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
      name: 'a timeout of 0',
      files: { 'routes/shadow.yaml': SHADOW, 'routes/users.yaml': route('{ upstream: users-shadow, timeout: 0s }') },
      errors: ['routes/users.yaml:9:48: routes[0].mirror.timeout: mirror.timeout must be above 0: a copy without a deadline could hold its slot of limits.mirrorConcurrency forever'],
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

  it('switchyard explain shows the mirror and whether this request would be copied; switchyard routes shows it', async () => {
    const { dir, remove } = await tempDir('sy-mirror-');
    try {
      await writeFile(join(dir, 'gateway.yaml'), 'log: { level: silent }\nlisten: { host: 127.0.0.1, port: 0 }\nadmin: { host: 127.0.0.1, port: 0 }\nroutes: [./orders.yaml]\nreload: { watch: false }\n');
      await writeFile(
        join(dir, 'orders.yaml'),
        'upstreams:\n  orders: { targets: [ { url: "http://127.0.0.1:9" } ] }\n  orders-shadow: { targets: [ { url: "http://127.0.0.1:9" } ] }\nroutes:\n  - { id: orders, match: { path: /orders/* }, upstream: orders, mirror: { upstream: orders-shadow, percent: 5, bodyLimit: 64kb, methods: [GET, POST] } }\n',
      );
      const get = await runCli(['explain', 'GET', '/orders/1', '--config', join(dir, 'gateway.yaml')]);
      expect(get.code).toBe(0);
      expect(get.stdout).toContain('  mirror:   5% of GET, POST (bodies up to 65536 bytes) → orders-shadow, timeout 5000 ms; this request: copied with probability 5% if its body is at most 65536 bytes');
      const del = await runCli(['explain', 'DELETE', '/orders/1', '--config', join(dir, 'gateway.yaml')]);
      expect(del.stdout).toContain('this request: not copied (DELETE is not mirrored)');
      const table = await runCli(['routes', '--config', join(dir, 'gateway.yaml')]);
      expect(table.stdout).toMatch(/^orders +\* \/orders\/\* +orders \(mirror 5% → orders-shadow\) /m);
    } finally {
      await remove();
    }
  });

  it('a reload keeps the counters of a route that keeps its id and shadow pool, and starts new ones for a new pool', async () => {
    const [primary, shadow] = await Promise.all([startUpstream('primary'), startUpstream('shadow')]);
    const { dir, remove } = await tempDir('sy-mirror-reload-');
    const file = (percent: number, pool: string) =>
      `upstreams:\n  a: { targets: [ { url: "${primary.url}" } ] }\n  s1: { targets: [ { url: "${shadow.url}" } ] }\n  s2: { targets: [ { url: "${shadow.url}" } ] }\nroutes:\n  - { id: a, match: { path: /a/* }, upstream: a, mirror: { upstream: ${pool}, percent: ${percent} } }\n`;
    await writeFile(join(dir, 'gateway.yaml'), 'listen: { host: 127.0.0.1, port: 0 }\nadmin: { host: 127.0.0.1, port: 0 }\nroutes: [./a.yaml]\nreload: { watch: false }\n');
    await writeFile(join(dir, 'a.yaml'), file(100, 's1'));
    const gw = await startGateway({ configFile: join(dir, 'gateway.yaml') });
    try {
      const mirror = () => gw.gateway.runtime.routes[0]!.mirror!;
      await request(gw.url + '/a/1').then((r) => r.body.dump());
      await waitFor(() => mirror().stats.ok === 1, { message: 'the first copy answered' });
      const before = mirror();
      await writeFile(join(dir, 'a.yaml'), file(50, 's1'));
      expect((await gw.gateway.reload()).ok).toBe(true);
      expect(mirror().percent).toBe(50);
      expect(mirror().stats).toBe(before.stats);
      expect(mirror().gate).toBe(before.gate);
      await writeFile(join(dir, 'a.yaml'), file(50, 's2'));
      expect((await gw.gateway.reload()).ok).toBe(true);
      expect(mirror().upstream.name).toBe('s2');
      expect(mirror().stats.sent).toBe(0);
      expect(mirror().gate).toBe(before.gate);
    } finally {
      await gw.close();
      await Promise.all([primary.close(), shadow.close(), remove()]);
    }
  });
});
