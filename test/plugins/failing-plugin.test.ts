/**
 * A plugin that throws answers 500 for that request (with the request id),
 * is logged with its name, and never takes the gateway down; one whose
 * create() fails is a config error at load.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureLog } from '../helpers/log-capture.js';
import { request } from 'undici';
import { ConfigInvalid } from '../../src/config/errors.js';
import { startGateway, startUpstream, type TestGateway, type TestUpstream } from '../../src/testing/index.js';

const SDK = new URL('../../src/plugins/define.ts', import.meta.url).href;

const FLAKY = `
import { definePlugin, Type } from ${JSON.stringify(SDK)};
export default definePlugin({
  name: 'flaky',
  options: Type.Object({ failCreate: Type.Boolean({ default: false }) }),
  create(options) {
    if (options.failCreate) throw new Error('cannot reach the policy server');
    return {
      onRequest(req) {
        if (req.path === '/sync') throw new Error('sync boom');
        if (req.path === '/async') return Promise.reject(new TypeError('async boom'));
      },
      onResponse(req, res) {
        if (req.path === '/response') throw new Error('response boom');
      },
    };
  },
});
`;

describe('a plugin that throws', () => {
  let dir: string;
  let up: TestUpstream;
  let gw: TestGateway;
  const { logger, lines } = captureLog('info');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sy-flaky-'));
    mkdirSync(join(dir, 'plugins', 'flaky'), { recursive: true });
    writeFileSync(join(dir, 'plugins', 'flaky', 'index.ts'), FLAKY);
    up = await startUpstream('api');
    gw = await startGateway({
      logger,
      baseDir: dir,
      gateway: { plugins: './plugins' },
      routeFiles: { 'r.yaml': { upstreams: { api: { targets: [{ url: up.url }] } }, routes: [{ id: 'api', match: { path: '/*' }, upstream: 'api', plugins: ['flaky'] }] } },
    });
  });
  afterAll(async () => {
    await gw.close();
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const path of ['/sync', '/async', '/response']) {
    it(`answers 500 with the request id when a hook throws (${path}), logs the plugin, keeps serving`, async () => {
      const before = up.hits();
      const res = await request(gw.url + path);
      const body = JSON.parse(await res.body.text()) as { error: { code: string; requestId: string } };
      expect(res.statusCode).toBe(500);
      expect(body.error.code).toBe('SY_ERR_PLUGIN_FAILED');
      expect(body.error.requestId).toBe(res.headers['x-request-id']);
      expect(JSON.stringify(body)).not.toContain('boom');
      // Request hooks fail before proxying; a response hook fails after the upstream answered.
      expect(up.hits() - before).toBe(path === '/response' ? 1 : 0);
      const logged = lines.find((l) => l.reqId === body.error.requestId && l.plugin === 'flaky');
      expect(logged).toBeDefined();
      expect(JSON.stringify(logged)).toContain('boom');
      const ok = await request(gw.url + '/fine');
      expect(ok.statusCode).toBe(200);
      await ok.body.text();
    });
  }

  it('refuses a configuration whose plugin cannot be created, naming file, line and plugin', async () => {
    const err = await startGateway({
      baseDir: dir,
      gateway: { plugins: './plugins' },
      routeFiles: { 'r.yaml': 'upstreams:\n  api:\n    targets: [{ url: "http://127.0.0.1:1" }]\nroutes:\n  - id: api\n    match: { path: /* }\n    upstream: api\n    plugins:\n      - flaky: { failCreate: true }\n' },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigInvalid);
    expect((err as Error).message).toMatch(/r\.yaml:9:\d+: .*flaky could not start: cannot reach the policy server/);
  });
});
