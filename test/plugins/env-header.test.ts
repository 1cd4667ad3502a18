/**
 * The example plugin of docs/plugins.md, tested the way that page tells plugin authors
 * to: a real upstream, the gateway in-process, real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { request } from 'undici';
import { ConfigInvalid } from '../../src/index.js';
import { startGateway, startUpstream, type TestGateway, type TestUpstream } from '../../src/testing/index.js';

const ROOT = resolve(import.meta.dirname, '../..');

describe('example plugin: env-header', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    process.env.SY_TEST_REGION = 'eu-west-1';
    upstream = await startUpstream('api');
    gw = await startGateway({
      baseDir: ROOT, // so `plugins: ./plugins` finds the example
      gateway: { plugins: './plugins', chain: [{ 'env-header': { header: 'x-region', env: 'SY_TEST_REGION' } }] },
      routeFiles: { 'api.yaml': { upstreams: { api: { targets: [{ url: upstream.url }] } }, routes: [{ id: 'api', match: { path: '/api/*' }, upstream: 'api' }] } },
    });
  });
  afterAll(async () => {
    await gw.close();
    await upstream.close();
  });

  it('sets the header upstream and replaces a client-sent copy', async () => {
    const res = await request(gw.url + '/api/hello', { headers: { 'x-region': 'forged', 'X-REGION': 'forged-too' } });
    const echo = JSON.parse(await res.body.text()) as { headers: Record<string, string> };
    expect(res.statusCode).toBe(200);
    expect(echo.headers['x-region']).toBe('eu-west-1');
    const raw = upstream.requests.at(-1)!.rawHeaders.filter((_, i, a) => i % 2 === 0 && a[i]!.toLowerCase() === 'x-region');
    expect(raw).toHaveLength(1);
  });

  it('rejects bad options at load with the file and line', async () => {
    const err = await startGateway({
      baseDir: ROOT,
      gateway: 'plugins: ./plugins\nchain:\n  - env-header: { header: x-region, envv: REGION }\n',
      routeFiles: { 'api.yaml': { upstreams: { api: { targets: [{ url: upstream.url }] } }, routes: [{ id: 'api', match: { path: '/api/*' }, upstream: 'api' }] } },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigInvalid);
    const text = (err as ConfigInvalid).message;
    expect(text).toMatch(/<inline gateway>:3:\d+/);
    expect(text).toContain('unknown key "envv"');
    expect(text).toContain('did you mean "env"');
  });
});
