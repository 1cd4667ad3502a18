/**
 * 13.10: a plugin author's own test, written as docs/plugins.md shows
 * (`import { startGateway, startUpstream } from 'switchyard-gateway/testing'`),
 * runs with vitest in a folder OUTSIDE the repository after `npm ci` alone:
 * `prepare` builds dist/, and the author's folder has the gateway installed
 * the way `npm install <path to the checkout>` does it — a symlink
 * node_modules/switchyard-gateway → the checkout (vitest likewise stands for
 * `npm install -D vitest`; the test makes both links instead of calling npm).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { gatewayFolder, stampPlugin } from './plugin-folders.js';

const ROOT = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

/** AUTHOR_TEST is the plugin test of docs/plugins.md, adapted to the stamp plugin. */
const AUTHOR_TEST = `
import { expect, it } from 'vitest';
import { startGateway, startUpstream } from 'switchyard-gateway/testing';

it('stamps requests sent upstream', async () => {
  const upstream = await startUpstream('api');
  const gw = await startGateway({
    baseDir: import.meta.dirname,
    gateway: { plugins: './plugins', chain: [{ stamp: { value: 'from-test' } }] },
    routeFiles: { 'api.yaml': { upstreams: { api: { targets: [{ url: upstream.url }] } },
                                routes: [{ id: 'api', match: { path: '/api/*' }, upstream: 'api' }] } },
  });
  try {
    const res = await fetch(gw.url + '/api/hello', { headers: { 'x-stamp': 'forged' } });
    expect(res.status).toBe(200);
    expect(upstream.requests.at(-1)!.headers['x-stamp']).toBe('v1:from-test');
  } finally {
    await gw.close();
    await upstream.close();
  }
});
`;

describe('13.10: plugin tests outside the repository', () => {
  it('13.10: npm ci builds the package (prepare), so switchyard-gateway/testing resolves without npm run build', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; exports: Record<string, { default: string }> };
    expect(pkg.scripts.prepare).toMatch(/\btsc\b|npm run build/);
    for (const sub of ['.', './testing']) {
      const target = join(ROOT, pkg.exports[sub]!.default);
      expect(existsSync(target), `${target} (built by npm ci's prepare)`).toBe(true);
    }
  });

  it('13.10: a plugin test importing switchyard-gateway/testing passes under vitest in the author\'s own folder', async () => {
    const plugin = Object.fromEntries(Object.entries(stampPlugin('ts')).map(([f, t]) => [`plugins/stamp/${f}`, t]));
    const folder = gatewayFolder({ upstreamUrl: 'http://127.0.0.1:9', files: { ...plugin, 'stamp.test.ts': AUTHOR_TEST, 'package.json': '{ "name": "my-plugins", "private": true }\n' } });
    try {
      folder.write('node_modules/.keep', '');
      symlinkSync(ROOT, join(folder.dir, 'node_modules/switchyard-gateway'), 'dir');
      symlinkSync(join(ROOT, 'node_modules/vitest'), join(folder.dir, 'node_modules/vitest'), 'dir');
      const { stdout } = await run(process.execPath, [join(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--reporter=dot'], {
        cwd: folder.dir,
        env: { ...process.env, NO_COLOR: '1', CI: '1' },
      }).catch((err: { stdout?: string; stderr?: string }) => {
        throw new Error(`the author's vitest run failed:\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
      });
      expect(stdout).toMatch(/Tests\s+1 passed/);
    } finally {
      folder.cleanup();
    }
  }, 60_000);
});
