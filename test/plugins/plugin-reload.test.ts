/**
 * 13.11: a reload loads plugin code that changed on disk (never silently:
 * the reload answer and the log name the plugins), reuses the loaded code
 * when nothing changed, and stops loading new versions after
 * MAX_PLUGIN_VERSIONS (ES modules cannot be unloaded) with a rejected reload
 * that says to restart, while the running code keeps serving.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { MAX_PLUGIN_VERSIONS } from '../../src/plugins/loader.js';
import { startGateway, startUpstream, type TestGateway, type TestUpstream } from '../../src/testing/index.js';
import { captureLog } from '../helpers/log-capture.js';
import { gatewayFolder, stampPlugin, type GatewayFolder } from './plugin-folders.js';

/** EVALUATIONS counts how many times the plugin's module body ran in this process (each fresh import runs it once). */
const EVALUATIONS = '__syStampEvaluations';
const counted = (): Record<string, string> => {
  const files = stampPlugin('ts');
  files['index.ts'] = `(globalThis as any).${EVALUATIONS} = ((globalThis as any).${EVALUATIONS} ?? 0) + 1;\n${files['index.ts']}`;
  return Object.fromEntries(Object.entries(files).map(([f, t]) => [`plugins/stamp/${f}`, t]));
};
const evaluations = (): number => (globalThis as Record<string, unknown>)[EVALUATIONS] as number;

let upstream: TestUpstream;
let folder: GatewayFolder;
let gw: TestGateway;
beforeAll(async () => {
  upstream = await startUpstream('api');
});
afterAll(async () => {
  await upstream.close();
});
afterEach(async () => {
  await gw?.close();
  folder?.cleanup();
  delete (globalThis as Record<string, unknown>)[EVALUATIONS];
});

async function stamp(): Promise<string> {
  const res = await request(`${gw.url}/api/x`);
  const echo = (await res.body.json()) as { headers: Record<string, string> };
  return echo.headers['x-stamp']!;
}

async function reload(): Promise<{ status: number; body: { ok: boolean; version?: number; pluginsReloaded?: string[]; errors?: string[] } }> {
  const res = await request(`${gw.adminUrl}/reload`, { method: 'POST' });
  return { status: res.statusCode, body: (await res.body.json()) as never };
}

describe('13.11: plugin code on reload', () => {
  it('13.11: editing a plugin file and POST /reload runs the new code, and says so', async () => {
    folder = gatewayFolder({ upstreamUrl: upstream.url, files: counted() });
    const logs = captureLog();
    gw = await startGateway({ configFile: folder.configFile, logger: logs.logger });
    expect(await stamp()).toBe('v1:one');

    // The edit is in the plugin's second file: the whole plugin is one versioned module graph.
    folder.write('plugins/stamp/prefix.ts', `export const prefix: string = 'v2:';\n`);
    const r = await reload();
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ok: true, pluginsReloaded: ['stamp'] });
    expect(await stamp()).toBe('v2:one');
    const warned = logs.lines.find((l) => String(l.msg).startsWith('plugin code changed on disk'));
    expect(warned, 'a warning naming the reloaded plugin').toBeDefined();
    expect(JSON.stringify(warned)).toContain('stamp');
  });

  it('13.11: reloads without a change reuse the loaded code (no new module, no growth)', async () => {
    folder = gatewayFolder({ upstreamUrl: upstream.url, files: counted() });
    gw = await startGateway({ configFile: folder.configFile });
    expect(evaluations()).toBe(1);
    for (let i = 0; i < 20; i++) {
      const r = await reload();
      expect(r.body.ok).toBe(true);
      expect(r.body.pluginsReloaded).toBeUndefined();
    }
    expect(evaluations()).toBe(1);
    // Going back to an earlier version reuses that version's modules too.
    folder.write('plugins/stamp/prefix.ts', `export const prefix: string = 'v2:';\n`);
    await reload();
    folder.write('plugins/stamp/prefix.ts', `export const prefix: string = 'v1:';\n`);
    await reload();
    expect(await stamp()).toBe('v1:one');
    expect(evaluations()).toBe(2);
  });

  it(`13.11: after ${MAX_PLUGIN_VERSIONS} versions a reload is rejected with "restart", and the running code keeps serving`, async () => {
    folder = gatewayFolder({ upstreamUrl: upstream.url, files: counted() });
    gw = await startGateway({ configFile: folder.configFile });
    for (let v = 2; v <= MAX_PLUGIN_VERSIONS; v++) {
      folder.write('plugins/stamp/prefix.ts', `export const prefix: string = 'v${v}:';\n`);
      const r = await reload();
      expect(r.body, `version ${v}`).toMatchObject({ ok: true, pluginsReloaded: ['stamp'] });
    }
    expect(evaluations()).toBe(MAX_PLUGIN_VERSIONS);
    expect(await stamp()).toBe(`v${MAX_PLUGIN_VERSIONS}:one`);

    folder.write('plugins/stamp/prefix.ts', `export const prefix: string = 'too-many:';\n`);
    const r = await reload();
    expect(r.status).toBe(422);
    expect(r.body.errors!.join('\n')).toMatch(/stamp.*restart the gateway/);
    expect(evaluations()).toBe(MAX_PLUGIN_VERSIONS);
    expect(await stamp()).toBe(`v${MAX_PLUGIN_VERSIONS}:one`);
  }, 60_000);
});
