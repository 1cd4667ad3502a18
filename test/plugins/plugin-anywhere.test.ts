/**
 * 13.9: custom plugins load from any folder — outside the checkout, in the
 * container's /etc/switchyard/plugins layout, as .ts or .js, whatever
 * package.json sits nearby — importing the SDK as `switchyard-gateway`,
 * which resolves to the running installation.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startGateway, startUpstream, type TestUpstream } from '../../src/testing/index.js';
import { gatewayFolder, stampPlugin, type PluginLang } from './plugin-folders.js';

const ROOT = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);
/** TSX is tsx's loader by absolute URL: `--import tsx` would be looked up from the cwd, which here has no node_modules. */
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;

let upstream: TestUpstream;
beforeAll(async () => {
  upstream = await startUpstream('api');
});
afterAll(async () => {
  await upstream.close();
});

/** stampSeen starts a gateway on the folder's gateway.yaml and returns the x-stamp header the upstream received. */
async function stampSeen(configFile: string): Promise<unknown> {
  const gw = await startGateway({ configFile });
  try {
    const res = await request(`${gw.url}/api/x`);
    expect(res.statusCode).toBe(200);
    const echo = (await res.body.json()) as { headers: Record<string, string> };
    return echo.headers['x-stamp'];
  } finally {
    await gw.close();
  }
}

/** PACKAGE_JSONS are the package.json files a plugin folder may find above it. */
const PACKAGE_JSONS: Record<string, Record<string, string>> = {
  'no package.json': {},
  'package.json type commonjs beside gateway.yaml and in the plugin': {
    'package.json': '{ "name": "ops-config", "type": "commonjs" }\n',
    'plugins/stamp/package.json': '{ "type": "commonjs" }\n',
  },
  'package.json without type (CommonJS by default)': { 'package.json': '{ "name": "ops-config" }\n' },
  'package.json type module': { 'package.json': '{ "type": "module" }\n' },
};

describe('13.9: plugins load from folders outside the repository', () => {
  for (const lang of ['ts', 'js'] as PluginLang[]) {
    for (const [label, extra] of Object.entries(PACKAGE_JSONS)) {
      it(`13.9: a .${lang} plugin importing 'switchyard-gateway' loads with ${label}`, async () => {
        const plugin = Object.fromEntries(Object.entries(stampPlugin(lang)).map(([f, t]) => [`plugins/stamp/${f}`, t]));
        const folder = gatewayFolder({ upstreamUrl: upstream.url, files: { ...plugin, ...extra } });
        try {
          expect(await stampSeen(folder.configFile)).toBe('v1:one');
        } finally {
          folder.cleanup();
        }
      });
    }
  }

  it('13.9: the container layout (/etc/switchyard/{gateway.yaml,routes,plugins}, no node_modules anywhere) loads a .ts plugin', async () => {
    const plugin = Object.fromEntries(Object.entries(stampPlugin('ts')).map(([f, t]) => [`plugins/stamp/${f}`, t]));
    const folder = gatewayFolder({ upstreamUrl: upstream.url, files: plugin, sub: 'etc/switchyard' });
    try {
      expect(await stampSeen(folder.configFile)).toBe('v1:one');
    } finally {
      folder.cleanup();
    }
  });

  it('13.9: `switchyard validate` run from another directory accepts a plugin outside the checkout', async () => {
    const plugin = Object.fromEntries(Object.entries(stampPlugin('ts')).map(([f, t]) => [`plugins/stamp/${f}`, t]));
    const folder = gatewayFolder({ upstreamUrl: upstream.url, files: { ...plugin, 'package.json': '{ "type": "commonjs" }\n' }, sub: 'etc/switchyard' });
    try {
      const { stdout } = await run(process.execPath, ['--import', TSX, join(ROOT, 'src/cli/index.ts'), 'validate', '--config', folder.configFile], { cwd: folder.root });
      expect(stdout).toMatch(/^ok: 1 route/);
    } finally {
      folder.cleanup();
    }
  }, 30_000); // a child process compiling the CLI's TypeScript

  it('13.9: a plugin with a bad option still reports it at file:line through the loader', async () => {
    const plugin = Object.fromEntries(Object.entries(stampPlugin('js')).map(([f, t]) => [`plugins/stamp/${f}`, t]));
    const folder = gatewayFolder({ upstreamUrl: upstream.url, files: plugin, chain: 'stamp: { valeu: one }' });
    try {
      const err = (await startGateway({ configFile: folder.configFile }).catch((e: unknown) => e)) as Error;
      expect(err.message).toMatch(/gateway\.yaml:6:\d+: .*plugin stamp: unknown key "valeu"/);
    } finally {
      folder.cleanup();
    }
  });
});
