/**
 * `switchyard plugin new NAME`: a working custom plugin and its test, in
 * plugins/NAME/ under the current directory — the default `plugins` folder
 * of a gateway.yaml there. The plugin imports the SDK by package name, so
 * the folder works wherever it lives (see the README's "Write your own plugin").
 */
import { resolve } from 'node:path';
import { BUILTIN_PLUGINS } from '../plugins/builtins.js';
import { relative } from './output.js';
import { writeScaffold } from './scaffold.js';

/** PACKAGE is the npm name plugins import the SDK from. */
export const PACKAGE = 'switchyard-gateway';

/** PLUGIN_NAME is lowercase-kebab: what a chain entry, a folder and a metric label all accept. */
const PLUGIN_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** checkName says what is wrong with a plugin name, or undefined when it is fine. */
export function checkName(name: string): string | undefined {
  if (!PLUGIN_NAME.test(name) || name.length > 64) return `plugin name "${name}" must be lowercase-kebab, at most 64 characters (e.g. add-tenant)`;
  if (BUILTIN_PLUGINS.some((p) => p.name === name)) return `"${name}" is a built-in plugin; choose another name`;
  return undefined;
}

const indexTs = (name: string) => `/**
 * ${name}: a Switchyard plugin. It sets a header on every request sent
 * upstream (a client-sent copy is stripped first). Use it from gateway.yaml
 * (every route) or from a route's \`plugins\`:
 *
 *   chain:
 *     - ${name}: { value: hello }
 *
 * Test it: npx vitest run plugins/${name}
 */
import { definePlugin, Type } from '${PACKAGE}';

export default definePlugin({
  name: '${name}', // must equal the folder name
  description: 'Sets a header on requests sent upstream.',
  // The options are validated at load (and by \`switchyard validate\`) against this schema,
  // and their TypeScript type is inferred from it.
  options: Type.Object({
    header: Type.String({ pattern: '^[A-Za-z0-9-]+$', default: 'x-${name}', description: 'Header name sent upstream.' }),
    value: Type.String({ description: 'Header value.' }),
  }),
  create(options, ctx) {
    // Once per place the plugin is used, at load: decide here whatever can be decided here.
    const header = options.header.toLowerCase();
    ctx.log.debug({ header }, '${name} ready');
    return {
      ownsHeaders: [header], // client-sent copies are always stripped
      onRequest(req) {
        // Per request: keep it cheap. Return { status, code } or { status, body } to answer instead.
        req.setUpstreamHeader(header, options.value);
      },
    };
  },
});
`;

const testTs = (name: string) => `/**
 * ${name}, tested through the gateway: a real upstream on a loopback port,
 * the gateway in-process with this plugin folder, real HTTP requests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { startGateway, startUpstream, type TestGateway, type TestUpstream } from '${PACKAGE}/testing';

// The folder that holds this plugin's folder: the gateway loads every plugin in it.
const PLUGINS = resolve(import.meta.dirname, '..');
const ROUTES = (url: string) => ({
  'app.yaml': { upstreams: { app: { targets: [{ url }] } }, routes: [{ id: 'app', match: { path: '/app/*' }, upstream: 'app' }] },
});

describe('${name}', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;

  beforeAll(async () => {
    upstream = await startUpstream('app'); // records what it receives and echoes it as JSON
    gw = await startGateway({ gateway: { plugins: PLUGINS, chain: [{ '${name}': { value: 'hello' } }] }, routeFiles: ROUTES(upstream.url) });
  });
  afterAll(async () => {
    await gw?.close();
    await upstream?.close();
  });

  it('sets the header upstream and replaces a client-sent copy', async () => {
    const res = await fetch(gw.url + '/app/hi', { headers: { 'x-${name}': 'forged' } });
    expect(res.status).toBe(200);
    await res.text();
    expect(upstream.requests.at(-1)!.headers['x-${name}']).toBe('hello');
  });

  it('refuses invalid options at load', async () => {
    const bad = startGateway({ gateway: { plugins: PLUGINS, chain: [{ '${name}': { value: 'hello', header: 'not a header' } }] }, routeFiles: ROUTES(upstream.url) });
    await expect(bad).rejects.toThrow(/${name}/);
  });
});
`;

/** pluginNew scaffolds plugins/NAME/ in the current directory; returns the exit code. */
export async function pluginNew(name: string, force: boolean): Promise<number> {
  const problem = checkName(name);
  if (problem !== undefined) {
    process.stderr.write(`switchyard: ${problem}\n`);
    return 2;
  }
  const dir = resolve('plugins', name);
  const ok = await writeScaffold(
    [
      { path: resolve(dir, 'index.ts'), text: indexTs(name) },
      { path: resolve(dir, `${name}.test.ts`), text: testTs(name) },
    ],
    force,
  );
  if (!ok) return 1;
  process.stdout.write(`next: npx vitest run ${relative(dir)}   then add it to a chain: - ${name}: { value: hello }\n`);
  return 0;
}
