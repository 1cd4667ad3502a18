/**
 * src/http/undici.ts loads undici's classes without its index: they must
 * be the very classes the index exports (so an undici upgrade that moves a
 * file fails here, not in production), keep the request API the index mixes
 * in, and the modules that use them must not load the index after all.
 */
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import * as undici from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, Pool, globalDispatcher } from '../../src/http/undici.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let server: http.Server;
let origin: string;
beforeAll(async () => {
  server = http.createServer((req, res) => res.end(`${req.method} ${req.url}`));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('undici without its index', () => {
  it('exports the same Pool and Agent classes as undici', () => {
    expect(Pool).toBe(undici.Pool);
    expect(Agent).toBe(undici.Agent);
  });

  it('keeps the request API on a Pool and an Agent', async () => {
    const pool = new Pool(origin, { connections: 1 });
    const agent = new Agent();
    try {
      const a = await pool.request({ path: '/pool?x=1', method: 'GET' });
      expect(await a.body.text()).toBe('GET /pool?x=1');
      const b = await agent.request({ origin, path: '/agent', method: 'GET' });
      expect(await b.body.text()).toBe('GET /agent');
    } finally {
      await pool.close();
      await agent.close();
    }
  });

  it('globalDispatcher is the dispatcher undici.request uses', () => {
    expect(globalDispatcher()).toBe(undici.getGlobalDispatcher());
  });

  it('the request path, the health probe and the jwt plugin do not load the index', () => {
    // A fresh process: this one has loaded the index above.
    const script = `
      import { createRequire } from 'node:module';
      await import('./src/upstream/target.ts');
      await import('./src/health/http-probe.ts');
      await import('./src/plugins/builtin/jwt/index.ts');
      await import('./src/plugins/builtin/jwt/jwks.ts');
      const cache = Object.keys(createRequire(process.cwd() + '/package.json').cache);
      process.stdout.write(JSON.stringify({ index: cache.some((f) => f.endsWith('/node_modules/undici/index.js')), pool: cache.some((f) => f.endsWith('/undici/lib/dispatcher/pool.js')) }));
    `;
    const out = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toEqual({ index: false, pool: true });
  });
});
