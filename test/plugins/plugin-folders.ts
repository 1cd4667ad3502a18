/**
 * Throwaway gateway folders OUTSIDE the repository (under os.tmpdir(), where
 * no node_modules exists up the tree), laid out as an operator would: a
 * gateway.yaml, a routes/ folder and a plugins/ folder whose plugins import
 * the SDK by its package name. Used by the tests of plugins that load from
 * anywhere, plugin tests written as docs/plugins.md shows, and plugin reloads.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** PluginLang is the language a test plugin is written in. */
export type PluginLang = 'ts' | 'js';

/**
 * stampPlugin is the source of a plugin `stamp` that sets `x-stamp:
 * <prefix><value>` upstream, the prefix coming from a second file of the
 * plugin (so a relative import inside a plugin is exercised too).
 */
export function stampPlugin(lang: PluginLang): Record<string, string> {
  const typed = lang === 'ts';
  return {
    [`index.${lang}`]: [
      `import { definePlugin, Type } from 'switchyard-gateway';`,
      `import { prefix } from './prefix.js';`,
      `export default definePlugin({`,
      `  name: 'stamp',`,
      `  options: Type.Object({ value: Type.String() }),`,
      `  create(options${typed ? ': { value: string }' : ''}) {`,
      `    const stamp = prefix + options.value;`,
      `    return { onRequest(req${typed ? ': { setUpstreamHeader(n: string, v: string): void }' : ''}) { req.setUpstreamHeader('x-stamp', stamp); } };`,
      `  },`,
      `});`,
      '',
    ].join('\n'),
    [`prefix.${lang}`]: `export const prefix${typed ? ': string' : ''} = 'v1:';\n`,
  };
}

/** GatewayFolder is a gateway configuration folder on disk. */
export interface GatewayFolder {
  /** root is the temp directory holding everything (removed by cleanup). */
  readonly root: string;
  /** dir holds gateway.yaml, routes/ and plugins/. */
  readonly dir: string;
  readonly configFile: string;
  /** write writes a file relative to dir, creating folders. */
  write(rel: string, text: string): void;
  cleanup(): void;
}

/**
 * gatewayFolder writes gateway.yaml (global chain `stamp`), one route file
 * pointing at `upstreamUrl`, and the given plugin files under `dir`
 * (`sub`, relative to a fresh temp root: e.g. `etc/switchyard` for the container layout).
 */
export function gatewayFolder(opts: { upstreamUrl: string; files: Record<string, string>; sub?: string; chain?: string }): GatewayFolder {
  const root = mkdtempSync(join(tmpdir(), 'sy-plugins-'));
  const dir = opts.sub ? join(root, opts.sub) : root;
  const write = (rel: string, text: string): void => {
    const file = join(dir, rel);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  };
  write(
    'gateway.yaml',
    ['listen: { host: 127.0.0.1, port: 0 }', 'admin: { host: 127.0.0.1, port: 0 }', 'routes: ./routes', 'plugins: ./plugins', 'chain:', `  - ${opts.chain ?? 'stamp: { value: one }'}`, ''].join('\n'),
  );
  write('routes/api.yaml', [`upstreams:`, `  api: { targets: [{ url: ${opts.upstreamUrl} }] }`, `routes:`, `  - { id: api, match: { path: /api/* }, upstream: api }`, ''].join('\n'));
  for (const [rel, text] of Object.entries(opts.files)) write(rel, text);
  return { root, dir, configFile: join(dir, 'gateway.yaml'), write, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
