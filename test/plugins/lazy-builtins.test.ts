/**
 * Issue 17: a built-in plugin's code is imported only when a configuration
 * uses it. The registry knows each built-in by its manifest (name,
 * description, options schema: src/plugins/builtins.ts); the implementation
 * is imported at the first instance. Checked in a fresh process, whose module
 * loads a hook records, since this one has imported every plugin already.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { BUILTIN_PLUGINS, type BuiltinPlugin } from '../../src/plugins/builtins.js';
import { PluginRegistry, UnknownPluginError } from '../../src/plugins/registry.js';
import type { PluginDefinition } from '../../src/plugins/types.js';
import { Type } from '../../src/plugins/define.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SECRET = 'switchyard-test-secret-of-at-least-32-bytes';

/**
 * CHILD starts a gateway in-process with the chain given as argv[1] (JSON),
 * makes one request without and one with $TOKEN, and prints the statuses, the
 * built-in implementations (builtin/<name>/index) that were loaded, and
 * whether jsonwebtoken was.
 */
const CHILD = `
import { mkdtempSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
const loaded = new Set();
const { port1, port2 } = new MessageChannel();
port1.on('message', (url) => loaded.add(url));
port1.unref();
const hooks = 'let port; export function initialize(d) { port = d.port; } export async function load(url, context, next) { port.postMessage(url); return next(url, context); }';
register('data:text/javascript,' + encodeURIComponent(hooks), { data: { port: port2 }, transferList: [port2] });
const { startGateway, startUpstream } = await import('./src/testing/index.ts');
const up = await startUpstream('api');
const routeFiles = { 'api.yaml': { upstreams: { api: { targets: [{ url: up.url }] } }, routes: [{ id: 'api', match: { path: '/*' }, upstream: 'api' }] } };
const gw = await startGateway({ gateway: { chain: JSON.parse(process.argv[1]) }, baseDir: mkdtempSync(join(tmpdir(), 'sy-lazy-')), routeFiles });
const statuses = [];
for (const headers of [{}, { authorization: 'Bearer ' + process.env.TOKEN }]) statuses.push((await fetch(gw.url + '/x', { headers })).status);
await gw.close();
await up.close();
// The hook's messages come in order: once a marker module's URL is in, every earlier load's is.
const marker = 'data:text/javascript,export default 1';
await import(marker);
while (!loaded.has(marker)) await new Promise((r) => setImmediate(r));
const cjs = Object.keys(createRequire(join(process.cwd(), 'package.json')).cache);
const builtins = [...loaded].map((u) => /\\/src\\/plugins\\/builtin\\/([a-z-]+)\\/index\\.ts$/.exec(u)?.[1]).filter(Boolean);
process.stdout.write(JSON.stringify({ statuses, builtins, jsonwebtoken: cjs.some((f) => f.includes('/node_modules/jsonwebtoken/')) }));
`;

async function runChild(chain: unknown[]): Promise<{ statuses: number[]; builtins: string[]; jsonwebtoken: boolean }> {
  const token = jwt.sign({ sub: 'user-1' }, SECRET, { algorithm: 'HS256', expiresIn: '5m' });
  const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD, JSON.stringify(chain)], {
    cwd: ROOT,
    env: { ...process.env, TOKEN: token },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(stderr).toBe('');
  return JSON.parse(stdout) as { statuses: number[]; builtins: string[]; jsonwebtoken: boolean };
}

describe('17: built-in plugins load at first use', () => {
  it('a gateway whose configuration names no plugin loads no built-in implementation, nor jsonwebtoken', async () => {
    expect(await runChild([])).toEqual({ statuses: [200, 200], builtins: [], jsonwebtoken: false });
  }, 60_000);

  it('naming jwt in the chain loads jwt (and jsonwebtoken) only, and it authenticates', async () => {
    expect(await runChild([{ jwt: { algorithms: ['HS256'], secret: SECRET } }])).toEqual({ statuses: [401, 200], builtins: ['jwt'], jsonwebtoken: true });
  }, 60_000);

  it.each(BUILTIN_PLUGINS.map((b) => [b.name, b] as const))('%s: the manifest and the implementation agree (name, description, the same options schema)', async (name, b) => {
    const def = await b.load();
    expect(def.name).toBe(name);
    expect(def.description).toBe(b.description);
    expect(def.options).toBe(b.options);
  });

  it('validating options does not import a built-in; the first definition() does, once, even when asked concurrently', async () => {
    let loads = 0;
    const def = { name: 'probe', options: Type.Object({ n: Type.Integer({ default: 1 }) }), create: () => ({}) } as unknown as PluginDefinition;
    const probe: BuiltinPlugin = { name: 'probe', description: 'a probe', options: def.options, load: async () => (loads++, def) };
    const registry = new PluginRegistry([probe]);
    expect(registry.validateOptions('probe', {})).toEqual({ ok: true, options: { n: 1 } });
    expect(registry.validateOptions('probe', { n: 'x' }).ok).toBe(false);
    expect(loads).toBe(0);
    const [a, b] = await Promise.all([registry.definition('probe'), registry.definition('probe')]);
    expect(a).toBe(def);
    expect(b).toBe(def);
    await registry.create('probe', {}, {} as never);
    expect(loads).toBe(1);
  });

  it('a failed import is reported and tried again at the next use', async () => {
    let attempts = 0;
    const def = { name: 'flaky', options: Type.Object({}), create: () => ({}) } as unknown as PluginDefinition;
    const flaky: BuiltinPlugin = {
      name: 'flaky',
      description: 'fails once',
      options: def.options,
      load: async () => {
        if (attempts++ === 0) throw new Error('cannot import');
        return def;
      },
    };
    const registry = new PluginRegistry([flaky]);
    await expect(registry.definition('flaky')).rejects.toThrow('cannot import');
    await expect(registry.definition('flaky')).resolves.toBe(def);
  });

  it('an unknown name still gets the closest built-in as a suggestion, without importing anything', async () => {
    const registry = new PluginRegistry();
    expect(() => registry.parseRef({ 'rate-limt': { max: 1 } })).toThrow(UnknownPluginError);
    await expect(registry.definition('jwtt')).rejects.toThrow(/unknown plugin "jwtt" \(did you mean "jwt"\?\)/);
  });
});
