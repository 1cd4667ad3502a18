/**
 * Reloads tell the truth (issue 13, C): a change only a restart applies is
 * named in the log, the reload answer and GET /config until the files are
 * changed back; a rejected reload is marked superseded by a later good one;
 * the reload log line names the changed files and what changed. And the
 * admin API's own refusals use the error catalog (D.18).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startGateway, startUpstream, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { captureLog } from '../helpers/log-capture.js';
import { ERRORS } from '../../src/errors.js';
import { GatewaySchema, LimitsSchema } from '../../src/config/schema.js';
import { LIVE, START_ONLY } from '../../src/gateway/restart-required.js';

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const GATEWAY = ['listen: { host: 127.0.0.1, port: 0 }', 'admin: { host: 127.0.0.1, port: 0 }', 'routes: ./routes', 'reload: { watch: false }', ''].join('\n');

function routeFile(up: TestUpstream, routes: Array<[string, string]>, upstreams: Record<string, TestUpstream> = { a: up }): string {
  const u = Object.entries(upstreams).map(([n, t]) => `  ${n}:\n    targets:\n      - url: ${t.url}\n`).join('');
  const r = routes.map(([id, upstream]) => `  - id: ${id}\n    match: { path: /${id}/* }\n    upstream: ${upstream}\n`).join('');
  return `upstreams:\n${u}routes:\n${r}`;
}

async function setup(): Promise<{ dir: string; gw: TestGateway; up: TestUpstream; logs: ReturnType<typeof captureLog>; write: (file: string, text: string) => void }> {
  const up = await startUpstream('a');
  const dir = mkdtempSync(join(tmpdir(), 'sy-reload-truth-'));
  mkdirSync(join(dir, 'routes'));
  const write = (file: string, text: string) => {
    writeFileSync(join(dir, `.${file.replace('/', '_')}.tmp`), text);
    renameSync(join(dir, `.${file.replace('/', '_')}.tmp`), join(dir, file));
  };
  write('routes/app.yaml', routeFile(up, [['one', 'a']]));
  write('gateway.yaml', GATEWAY);
  const logs = captureLog();
  const gw = await startGateway({ configFile: join(dir, 'gateway.yaml'), logger: logs.logger });
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }), () => up.close(), () => gw.close());
  return { dir, gw, up, logs, write };
}

async function admin(gw: TestGateway, path: string, method: 'GET' | 'POST' = 'GET'): Promise<{ status: number; body: Record<string, any> }> {
  const res = await request(gw.adminUrl + path, { method });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, any> };
}

describe('reloads tell the truth', () => {
  it('13.13: a listen/admin/redis/log change is named as restart-required in the log, the reload answer and /config until changed back', async () => {
    const { gw, logs, write } = await setup();
    write('gateway.yaml', GATEWAY.replace('port: 0 }\nadmin', 'port: 18081 }\nadmin').replace('admin: { host: 127.0.0.1, port: 0 }', 'admin: { host: 127.0.0.1, port: 0, token: s3cret-token }') + 'log: { level: debug }\nredis: { url: "redis://user:hunter2@10.0.0.1:6379" }\nmemory: { releaseWhenIdle: 20s }\n');
    // No token needed: admin.token is start-only too, the running admin API (without one) still applies.
    const res = (await admin(gw, '/reload', 'POST')).body as { ok: true; restartRequired: Array<{ key: string; running: unknown; configured: unknown }> };
    expect(res.ok).toBe(true);
    const keys = res.restartRequired.map((n) => n.key).sort();
    expect(keys).toEqual(['admin.token', 'listen.port', 'log.level', 'redis']);
    expect(res.restartRequired.find((n) => n.key === 'listen.port')).toEqual({ key: 'listen.port', running: 0, configured: 18081 });
    // Secrets never leave: the token is hidden, the Redis password masked.
    const text = JSON.stringify(res.restartRequired);
    expect(text).not.toContain('s3cret-token');
    expect(text).not.toContain('hunter2');
    expect(res.restartRequired.find((n) => n.key === 'redis')!.configured).toEqual({ url: 'redis://user:***@10.0.0.1:6379' });
    // memory.releaseWhenIdle is applied by a reload: not listed.
    expect(keys).not.toContain('memory.releaseWhenIdle');

    const warn = logs.lines.find((l) => l.level === 40 && /wait for a restart/.test(String(l.msg)));
    expect(warn?.msg).toContain('listen.port');
    expect(warn?.msg).toContain('redis');
    expect(JSON.stringify(warn)).not.toContain('hunter2');
    const config = await admin(gw, '/config');
    expect(config.body.restartRequired).toEqual(res.restartRequired);
    // The old values keep serving: the public port did not move.
    expect(gw.gateway.port).not.toBe(18081);

    // A later reload of unrelated changes keeps the notices: nothing was restarted.
    const again = await gw.gateway.reload();
    expect(again.ok && again.restartRequired.map((n) => n.key).sort()).toEqual(keys);

    // Changed back in the file: the notices go.
    write('gateway.yaml', GATEWAY);
    const back = await admin(gw, '/reload', 'POST');
    expect(back.status).toBe(200);
    expect(back.body.restartRequired).toEqual([]);
    expect((await admin(gw, '/config')).body.restartRequired).toEqual([]);
  });

  it('13.13: every gateway.yaml key is classified as start-only or live', () => {
    const classified = new Set([...START_ONLY, ...LIVE]);
    const keys = [
      ...Object.keys(GatewaySchema.properties).filter((k) => k !== 'limits' && k !== 'log' && k !== 'discovery'),
      ...Object.keys((GatewaySchema.properties.discovery as unknown as { properties: object }).properties).map((k) => `discovery.${k}`),
      ...Object.keys(LimitsSchema.properties).map((k) => `limits.${k}`),
      ...Object.keys((GatewaySchema.properties.log as unknown as { properties: object }).properties).map((k) => `log.${k}`),
    ];
    expect(keys.filter((k) => !classified.has(k))).toEqual([]);
    expect(START_ONLY.filter((k) => LIVE.includes(k))).toEqual([]);
  });

  it('13.14: a rejected reload is marked superseded once a later reload succeeds', async () => {
    const { gw, up, write } = await setup();
    write('routes/app.yaml', routeFile(up, [['one', 'nope']]));
    const bad = await admin(gw, '/reload', 'POST');
    expect(bad.status).toBe(422);
    let config = await admin(gw, '/config');
    expect(config.body.lastRejected).toMatchObject({ superseded: false, supersededBy: null });
    expect(config.body.lastRejected.errors.join('\n')).toContain('nope');

    write('routes/app.yaml', routeFile(up, [['one', 'a']]));
    const good = await admin(gw, '/reload', 'POST');
    expect(good.body).toMatchObject({ ok: true, version: 2 });
    config = await admin(gw, '/config');
    expect(config.body.lastRejected).toMatchObject({ superseded: true, supersededBy: 2 });
    expect(config.body.lastRejected.errors.join('\n')).toContain('nope'); // still there to read, but no longer current

    // A new rejection is current again.
    write('routes/app.yaml', routeFile(up, [['one', 'nope2']]));
    expect((await admin(gw, '/reload', 'POST')).status).toBe(422);
    expect((await admin(gw, '/config')).body.lastRejected).toMatchObject({ superseded: false, supersededBy: null });
  });

  it('13.15: the reload log line names the files that changed and the routes and upstreams added, removed and changed', async () => {
    const { gw, up, logs, write } = await setup();
    const other = await startUpstream('b');
    cleanup.push(() => other.close());
    write('routes/extra.yaml', routeFile(up, [['two', 'b']], { b: other }));
    let r = await admin(gw, '/reload', 'POST');
    expect(r.body.changes).toEqual({
      files: { added: ['routes/extra.yaml'], removed: [], changed: [] },
      routes: { added: ['two'], removed: [], changed: [] },
      upstreams: { added: ['b'], removed: [], changed: [] },
    });
    let line = logs.lines.filter((l) => String(l.msg).startsWith('configuration reloaded')).pop()!;
    expect(line.msg).toBe('configuration reloaded (files changed: routes/extra.yaml; routes +1 -0 ~0; upstreams +1 -0 ~0)');
    expect(line).toMatchObject({ version: 2, routes: { added: ['two'] }, upstreams: { added: ['b'] }, files: { added: ['routes/extra.yaml'] } });

    // Change one route's upstream, drop the other file.
    write('routes/app.yaml', routeFile(up, [['one', 'a'], ['three', 'a']]).replace('path: /one/*', 'path: /uno/*'));
    rmSync(join(gw.gateway.watchPaths()[1]!.path, 'extra.yaml'));
    r = await admin(gw, '/reload', 'POST');
    expect(r.body.changes).toEqual({
      files: { added: [], removed: ['routes/extra.yaml'], changed: ['routes/app.yaml'] },
      routes: { added: ['three'], removed: ['two'], changed: ['one'] },
      upstreams: { added: [], removed: ['b'], changed: [] },
    });
    line = logs.lines.filter((l) => String(l.msg).startsWith('configuration reloaded')).pop()!;
    expect(line.msg).toBe('configuration reloaded (files changed: routes/app.yaml, routes/extra.yaml; routes +1 -1 ~1; upstreams +0 -1 ~0)');
  });
});

describe('admin API errors', () => {
  it('18: unknown admin paths and unknown targets answer the catalog JSON error', async () => {
    const { gw } = await setup();
    for (const [method, path] of [['GET', '/nope'], ['POST', '/routes'], ['GET', '/upstreams/a/targets/0']] as const) {
      const r = await admin(gw, path, method);
      expect(r.status, path).toBe(404);
      expect(r.body, path).toEqual({ error: { code: 'SY_ERR_ADMIN_NOT_FOUND', status: 404, message: ERRORS.SY_ERR_ADMIN_NOT_FOUND.message, requestId: expect.any(String), detail: `${method} ${path}` } });
    }
    for (const path of ['/upstreams/zzz/targets/0/drain', '/upstreams/a/targets/7/drain', '/upstreams/a/targets/x/undrain']) {
      const r = await admin(gw, path, 'POST');
      expect(r.status, path).toBe(404);
      expect(r.body.error, path).toMatchObject({ code: 'SY_ERR_ADMIN_NOT_FOUND', status: 404 });
      expect(ERRORS).toHaveProperty(r.body.error.code);
    }
    const bad = await request(gw.adminUrl + '/reload', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });
    expect(bad.statusCode).toBe(400);
    expect(((await bad.body.json()) as any).error).toMatchObject({ code: 'SY_ERR_BAD_REQUEST', status: 400 });
  });

  it('18: /stats counts unrouted requests (404s) in the total and under unrouted, as /metrics does', async () => {
    const { gw } = await setup();
    for (let i = 0; i < 3; i++) await (await request(gw.url + '/nowhere/x')).body.text();
    await (await request(gw.url + '/one/x')).body.text();
    const stats = (await admin(gw, '/stats')).body;
    expect(stats.unrouted).toEqual({ requests: 3, errors5xx: 0, errors4xx: 3, status401: 0, status429: 0 });
    expect(stats.total).toMatchObject({ requests: 4, errors4xx: 3 });
    expect(stats.routes.one).toMatchObject({ requests: 1, errors4xx: 0 });
    const metrics = await (await request(gw.adminUrl + '/metrics')).body.text();
    expect(metrics).toMatch(/switchyard_requests_total\{route="",method="GET",status_class="4xx"\} 3/);
  });
});
