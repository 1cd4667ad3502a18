/**
 * Optional dependencies are loaded only when the configuration uses them:
 * ioredis with `redis.url`, jsonwebtoken with a jwt entry, jwks-rsa with a
 * jwt `jwksUri`; and undici's index never (src/http/undici.ts). Each is
 * megabytes of heap in every gateway process (issue 7's idle memory target),
 * so a static import creeping back is a regression.
 * Each case builds a gateway in a fresh Node process and reads its CommonJS
 * module cache (all three packages are CommonJS).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SECRET = 'optional-modules-test-secret-0123456789';
const PACKAGES = ['ioredis', 'jsonwebtoken', 'jwks-rsa'] as const;

const SCRIPT = `
  import { createRequire } from 'node:module';
  import { pino } from 'pino';
  const { createGateway } = await import('./src/gateway/gateway.ts');
  const { gateway, plugins } = JSON.parse(process.env.CASE);
  const routeFiles = { 'r.yaml': { upstreams: { u: { targets: [{ url: 'http://127.0.0.1:9' }] } }, routes: [{ id: 'r', match: { path: '/*' }, upstream: 'u', plugins }] } };
  await createGateway({ gateway, routeFiles, logger: pino({ level: 'silent' }) });
  const cache = Object.keys(createRequire(process.cwd() + '/package.json').cache);
  const loaded = ${JSON.stringify(PACKAGES)}.filter((p) => cache.some((f) => f.includes('/node_modules/' + p + '/')));
  if (cache.some((f) => f.endsWith('/node_modules/undici/index.js'))) loaded.push('undici index');
  process.stdout.write(JSON.stringify(loaded));
  process.exit(0);
`;

/** loadedPackages builds a gateway from `c` in a fresh process and returns which of PACKAGES (and whether undici's index) it loaded. */
function loadedPackages(c: { gateway: object; plugins: unknown[] }): string[] {
  const out = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, CASE: JSON.stringify(c) },
    timeout: 60_000,
  });
  expect(out.stderr).toBe('');
  return JSON.parse(out.stdout) as string[];
}

describe('optional modules', () => {
  it.each([
    { name: 'no redis, no jwt', gateway: {}, plugins: [], expected: [] },
    { name: 'jwt with a secret', gateway: {}, plugins: [{ jwt: { algorithms: ['HS256'], secret: SECRET } }], expected: ['jsonwebtoken'] },
    { name: 'jwt with a JWKS endpoint', gateway: {}, plugins: [{ jwt: { algorithms: ['RS256'], jwksUri: 'http://127.0.0.1:9/jwks.json' } }], expected: ['jsonwebtoken', 'jwks-rsa'] },
    { name: 'redis configured', gateway: { redis: { url: 'redis://127.0.0.1:9' } }, plugins: [], expected: ['ioredis'] },
  ])('$name loads $expected', { timeout: 60_000 }, ({ gateway, plugins, expected }) => {
    expect(loadedPackages({ gateway, plugins })).toEqual(expected);
  });
});
