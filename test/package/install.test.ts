/**
 * 13.21: `npm ci` on the oldest Node the package supports installs without
 * engine warnings (cookie@2 wanted Node 22 through fastify's light-my-request;
 * package.json overrides it to cookie@1.1, whose stringifySetCookie
 * light-my-request calls the same way), and fastify's inject — the code that
 * uses cookie — still works.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
// semver comes with npm's own dependency tree (fastify, jsonwebtoken depend on it).
const semver = createRequire(import.meta.url)('semver') as { minVersion(r: string): { version: string } | null; satisfies(v: string, r: string): boolean };

describe('13.21: install', () => {
  it('13.21: every locked package supports the oldest Node that package.json promises', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { engines?: { node?: string } }> };
    const oldest = semver.minVersion(pkg.engines.node)!.version;
    expect(oldest).toBe('20.19.0');
    const unsupported = Object.entries(lock.packages)
      .filter(([, p]) => typeof p.engines?.node === 'string' && !semver.satisfies(oldest, p.engines.node))
      .map(([path, p]) => `${path} wants node ${p.engines!.node}`);
    expect(unsupported).toEqual([]);
  });

  it('13.21: fastify inject sends cookies through the overridden cookie package', async () => {
    const app = Fastify();
    app.get('/c', async (req) => ({ cookie: req.headers.cookie }));
    try {
      const res = await app.inject({ method: 'GET', url: '/c', cookies: { sid: 'a b;c', theme: 'dark' } });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ cookie: 'sid=a%20b%3Bc; theme=dark' });
    } finally {
      await app.close();
    }
  });
});
