/**
 * POST /reload?dryRun=1 answers the diff of the files on disk against the
 * configuration the gateway serves, and applies nothing; after an applied
 * reload, GET /config keeps that change's diff summary (lastChange).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startGateway, startUpstream, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { appTree } from './app-tree.js';

const cleanup: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

async function served(gw: TestGateway, path: string): Promise<string> {
  const res = await request(gw.url + path);
  return ((await res.body.json()) as { upstream: string }).upstream;
}

describe('POST /reload?dryRun=1', () => {
  it('answers the diff of the files on disk without applying them; the applied reload keeps its summary in GET /config', async () => {
    const oldApp: TestUpstream = await startUpstream('old');
    const newApp: TestUpstream = await startUpstream('new');
    const t = appTree(oldApp.url, newApp.url);
    const gw = await startGateway({ configFile: t.configFile });
    cleanup.push(t.remove, () => oldApp.close(), () => newApp.close(), () => gw.close());

    const before = (await (await request(gw.adminUrl + '/config')).body.json()) as { version: number; lastChange: unknown };
    expect(before.lastChange).toBeNull();
    t.change();

    const dry = await request(gw.adminUrl + '/reload?dryRun=1', { method: 'POST' });
    expect(dry.statusCode).toBe(200);
    const body = (await dry.body.json()) as { ok: boolean; dryRun: boolean; applied: boolean; version: number; diff: { changed: boolean; moves: Array<{ request: string; why: string }>; flags: Array<{ kind: string }> } };
    expect(body).toMatchObject({ ok: true, dryRun: true, applied: false, version: before.version });
    expect(body.diff.moves.map((m) => [m.request, m.why])).toEqual([['GET /app/new/1', 'routes/app.yaml:8 now shadows routes/app.yaml:5']]);
    expect(body.diff.flags.map((f) => f.kind)).toEqual(['shadows']);

    // Nothing applied: the same version, the same routes, the old upstream still serves.
    const after = (await (await request(gw.adminUrl + '/config')).body.json()) as { version: number; lastChange: unknown };
    expect(after.version).toBe(before.version);
    expect(after.lastChange).toBeNull();
    expect(await served(gw, '/app/new/1')).toBe('old');

    const applied = await request(gw.adminUrl + '/reload', { method: 'POST' });
    expect(applied.statusCode).toBe(200);
    await applied.body.dump();
    expect(await served(gw, '/app/new/1')).toBe('new');
    const cfg = (await (await request(gw.adminUrl + '/config')).body.json()) as { version: number; lastChange: Record<string, unknown> };
    expect(cfg.lastChange).toMatchObject({
      version: before.version + 1,
      changed: true,
      text: 'routes +1 -0 ~0; upstreams +0 -0 ~0; 1 request move; 1 flag',
      flags: ['new route app-new (routes/app.yaml:8) shadows app (routes/app.yaml:5) for GET /app/new/1'],
      moves: ['GET /app/new/1: app → app-new (routes/app.yaml:8 now shadows routes/app.yaml:5)'],
      files: ['routes/app.yaml (changed)'],
    });
  });

  it('answers 422 with the validation errors of invalid files, applying nothing', async () => {
    const up = await startUpstream('up');
    const t = appTree(up.url, up.url);
    const gw = await startGateway({ configFile: t.configFile });
    cleanup.push(t.remove, () => up.close(), () => gw.close());
    const { writeFileSync } = await import('node:fs');
    writeFileSync(t.configFile.replace('gateway.yaml', 'routes/bad.yaml'), 'routes:\n  - id: bad\n    match: { path: /bad }\n    upstream: nowhere\n');
    const dry = await request(gw.adminUrl + '/reload?dryRun=1', { method: 'POST' });
    expect(dry.statusCode).toBe(422);
    const body = (await dry.body.json()) as { ok: boolean; dryRun: boolean; errors: string[] };
    expect(body.ok).toBe(false);
    expect(body.dryRun).toBe(true);
    expect(body.errors.join('\n')).toMatch(/routes\/bad\.yaml:4:15: routes\[0\]\.upstream: unknown upstream "nowhere"/);
    const cfg = (await (await request(gw.adminUrl + '/config')).body.json()) as { lastRejected: unknown };
    expect(cfg.lastRejected).toBeNull();
  });
});
