/**
 * loadConfig on valid configurations: which files are read and in what
 * order, defaults applied, variables substituted, hashes and positions kept
 * for reloads and later errors; and inline configuration for embedders.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigInvalid } from '../../src/config/errors.js';
import { INLINE_GATEWAY, loadConfig } from '../../src/config/load.js';
import { loadErrors, loadValid, relative, UPSTREAM, writeTree } from './helpers.js';

const ROUTE = 'routes:\n  - id: users\n    match: { path: /users/* }\n    upstream: users\n';

describe('loadConfig', () => {
  it('applies defaults to gateway.yaml and route files', async () => {
    const c = await loadValid({ 'routes/users.yaml': UPSTREAM + ROUTE });
    expect(c.gateway.listen).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(c.gateway.routes).toBe('./routes');
    expect(c.gateway.limits?.bodyLimit).toBe(10485760);
    const up = c.files[0]!.doc.upstreams!.users!;
    expect(up.balancer).toBe('round-robin');
    expect(up.targets).toEqual([{ url: 'http://users:8080', weight: 1 }]);
    expect(up.hostHeader).toBe('target');
    expect(up.outlierDetection?.consecutiveFailures).toBe(5);
    expect(c.files[0]!.doc.routes![0]).toMatchObject({ stripPrefix: false, websocket: true });
  });

  it('reads a routes directory: yaml, yml and json, sorted by name, not recursive, no dot files', async () => {
    const c = await loadValid({
      'routes/b.yml': 'routes: []\n',
      'routes/a.json': '{ "upstreams": {} }\n',
      'routes/c.yaml': UPSTREAM,
      'routes/README.md': '# not config\n',
      'routes/.#c.yaml': 'not: [valid\n',
      'routes/nested/d.yaml': 'not: [valid\n',
    });
    expect(c.files.map((f) => path.basename(f.file))).toEqual(['a.json', 'b.yml', 'c.yaml']);
  });

  it('reads routes given as a list of files, in the order given, relative to gateway.yaml', async () => {
    const c = await loadValid({
      'gateway.yaml': 'routes:\n  - teams/users.yaml\n  - ./shared/upstreams.json\n',
      'teams/users.yaml': ROUTE,
      'shared/upstreams.json': '{"upstreams": {"users": {"targets": [{"url": "https://users.internal"}]}}}',
    });
    expect(c.files.map((f) => relative(f.file, path.dirname(c.gatewayFile!)))).toEqual(['teams/users.yaml', 'shared/upstreams.json']);
    expect(c.files[1]!.doc.upstreams!.users!.targets[0]!.weight).toBe(1);
  });

  it('reads routes given as a single file', async () => {
    const c = await loadValid({ 'gateway.yaml': 'routes: all.yaml\n', 'all.yaml': UPSTREAM + ROUTE });
    expect(c.files).toHaveLength(1);
  });

  it('substitutes variables: set, default, empty default, escape; numbers and booleans from variables', async () => {
    const c = await loadValid(
      {
        'gateway.yaml': [
          'listen:',
          '  port: ${PORT:-9000}',
          'admin:',
          '  token: ${ADMIN_TOKEN}',
          '  enabled: ${ADMIN:-false}',
          'redis:',
          '  url: ${REDIS_URL:-}',
          'log:',
          '  redact: ["$${NOT_A_VAR}", "a$$b", "x-${HEADER:-secret}"]',
          '',
        ].join('\n'),
        'routes/users.yaml': 'upstreams:\n  users:\n    targets:\n      - url: ${USERS_URL}\n',
      },
      { ADMIN_TOKEN: 's3cret', USERS_URL: 'http://users:8080', HEADER: '' },
    );
    expect(c.gateway.listen.port).toBe(9000);
    expect(c.gateway.admin).toMatchObject({ token: 's3cret', enabled: false });
    expect(c.gateway.redis).toEqual({ url: '' });
    expect(c.gateway.log.redact).toEqual(['${NOT_A_VAR}', 'a$$b', 'x-secret']);
    expect(c.files[0]!.doc.upstreams!.users!.targets[0]!.url).toBe('http://users:8080');
  });

  it('keeps a hash of each file and its positions', async () => {
    const c = await loadValid({ 'routes/users.yaml': UPSTREAM + ROUTE });
    const f = c.files[0]!;
    expect(f.hash).toBe(createHash('sha256').update(await readFile(f.file)).digest('hex'));
    expect(c.gatewayHash).toBe(createHash('sha256').update('').digest('hex'));
    expect(f.locate(['routes', 0])).toEqual({ line: 6, col: 5 });
    expect(f.locate(['routes', 0, 'match', 'path'])).toEqual({ line: 7, col: 20 });
    expect(c.locateGateway(['listen', 'port'])).toEqual({ line: 1, col: 1 });
    expect(c.baseDir).toBe(path.dirname(c.gatewayFile!));
  });

  it('reports a missing gateway file', async () => {
    const dir = await writeTree({});
    const err = await loadConfig({ configFile: path.join(dir, 'gateway.yaml') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigInvalid);
    expect((err as ConfigInvalid).errors.map((e) => relative(e.format(), dir))).toEqual(['gateway.yaml: file not found']);
  });

  it('reports a missing default routes directory with a hint', async () => {
    const dir = await writeTree({ 'gateway.yaml': 'listen: { port: 80 }\n' });
    const err = (await loadConfig({ configFile: path.join(dir, 'gateway.yaml') }).catch((e: unknown) => e)) as ConfigInvalid;
    expect(err.errors.map((e) => relative(e.format(), dir))).toEqual([
      'gateway.yaml:1:1: routes: routes directory "routes" not found (the default; set "routes" in the gateway file to a directory or a list of files)',
    ]);
  });

  it('does not report unknown upstreams when a file that might define them failed to parse', async () => {
    expect(await loadErrors({ 'routes/a.yaml': ROUTE, 'routes/b.yaml': 'upstreams: {\n' })).toEqual([
      'routes/b.yaml:2:1: syntax error: flow map in block collection must be sufficiently indented and end with a }',
    ]);
  });
});

describe('loadConfig inline', () => {
  it('validates inline objects the same way, without positions, and never mutates them', async () => {
    const route = { routes: [{ id: 'users', match: { path: '/users' }, upstream: 'user' }] };
    const before = structuredClone(route);
    const err = (await loadConfig({ routeFiles: { 'users.yaml': route, 'up.yaml': { upstreams: { users: { targets: [{ url: 'http://u:1' }] } } } } }).catch(
      (e: unknown) => e,
    )) as ConfigInvalid;
    expect(err.errors.map((e) => e.format())).toEqual(['users.yaml: routes[0].upstream: unknown upstream "user"; did you mean "users"?']);
    expect(route).toEqual(before);
  });

  it('loads inline documents with defaults applied and no disk access', async () => {
    const c = await loadConfig({ gateway: { listen: { port: 0 } }, routeFiles: { 'users.yaml': { upstreams: { users: { targets: [{ url: 'http://u:1' }] } } } }, baseDir: '/srv' });
    expect(c.gatewayFile).toBeUndefined();
    expect(c.baseDir).toBe(path.resolve('/srv'));
    expect(c.gateway.listen).toEqual({ host: '0.0.0.0', port: 0 });
    expect(c.files[0]!.doc.upstreams!.users!.balancer).toBe('round-robin');
    expect(c.files[0]!.locate(['upstreams'])).toEqual({ line: 0, col: 0 });
    expect(c.files[0]!.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('accepts inline YAML text, with positions', async () => {
    const err = (await loadConfig({ gateway: 'listen:\n  port: 99999\n', routeFiles: {} }).catch((e: unknown) => e)) as ConfigInvalid;
    expect(err.errors.map((e) => e.format())).toEqual([`${INLINE_GATEWAY}:2:9: listen.port: expected a number <= 65535, got 99999`]);
  });

  it('reads route files from disk only when the inline gateway names them', async () => {
    const dir = await writeTree({ 'teams/users.yaml': UPSTREAM + ROUTE });
    expect((await loadConfig({ gateway: {}, baseDir: dir })).files).toEqual([]);
    const c = await loadConfig({ gateway: { routes: 'teams' }, baseDir: dir });
    expect(c.files.map((f) => relative(f.file, dir))).toEqual(['teams/users.yaml']);
  });
});
