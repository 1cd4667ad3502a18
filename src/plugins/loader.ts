/**
 * Imports custom plugin entry files from any folder (see loader-hooks.ts for
 * the module hooks that make `import … from 'switchyard-gateway'` resolve to
 * the running installation and force ESM), and loads changed plugin code on
 * reload.
 *
 * Why reload loads new code instead of asking for a restart: editing a plugin
 * and reloading is the plugin author's loop, and a reload that answers ok
 * while the old code keeps running is a lie. Each plugin entry is imported
 * with a hash of its folder's content in the URL, so an unchanged plugin
 * reuses the cached modules and a changed one is imported afresh. ES modules
 * cannot be unloaded, so every distinct version stays in memory for the life
 * of the process: MAX_PLUGIN_VERSIONS bounds that, after which loading a new
 * version fails (the reload is rejected, loudly, and the running code keeps
 * serving) until the gateway is restarted.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { register } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { HOOKS_SOURCE, PLUGIN_PARAM, type HooksData } from './loader-hooks.js';

/** MAX_PLUGIN_VERSIONS is how many distinct versions of one plugin folder a process loads before it needs a restart. */
export const MAX_PLUGIN_VERSIONS = 25;

/** PACKAGE_NAME is the npm name plugins import the SDK from. */
export const PACKAGE_NAME = 'switchyard-gateway';

/** LoadedModule is a plugin entry's module with the content version it was imported at. */
export interface LoadedModule {
  mod: { default?: unknown };
  version: string;
}

/**
 * nativeImport is Node's own import(), out of reach of source transforms:
 * under vitest the gateway runs from src/ and vitest rewrites each import()
 * it sees to its own resolver, which knows nothing of the module hooks. A
 * data: module is handed to Node as is, and the import() inside it is Node's,
 * so plugins load exactly as in production, in tests too. (A `new Function`
 * import() does not work there: vitest's evaluator gives it no import callback.)
 */
let nativeImporter: Promise<(specifier: string) => Promise<unknown>> | undefined;
const nativeImport = async (specifier: string): Promise<unknown> => {
  const source: string = 'data:text/javascript,export default (specifier) => import(specifier);';
  nativeImporter ??= import(/* @vite-ignore */ source).then((m: { default: (s: string) => Promise<unknown> }) => m.default);
  return (await nativeImporter)(specifier);
};

let installed: Promise<void> | undefined;
/** versions remembers, per plugin folder, the content versions imported so far (for the bound). */
const versions = new Map<string, Set<string>>();
/**
 * modules holds each imported entry URL's module: an unchanged plugin is
 * handed back without calling import() again, which would still go through
 * the hooks thread (and leave a few bytes behind in Node's loader each time).
 */
const modules = new Map<string, { default?: unknown }>();

/**
 * installHooks registers tsx (TypeScript plugins) and then the plugin hooks,
 * once per process. Order matters: hooks registered last run first, so ours
 * see every specifier before tsx does and hand the rest on to it.
 */
function installHooks(): Promise<void> {
  installed ??= (async () => {
    const { register: registerTsx } = await import('tsx/esm/api');
    registerTsx();
    // This file is src/plugins/loader.ts under tsx/vitest and dist/src/plugins/loader.js when built:
    // the SDK entries are its siblings with the same extension.
    const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
    const data: HooksData = {
      entries: {
        [PACKAGE_NAME]: new URL(`../index${ext}`, import.meta.url).href,
        [`${PACKAGE_NAME}/http`]: new URL(`../http/index${ext}`, import.meta.url).href,
        [`${PACKAGE_NAME}/testing`]: new URL(`../testing/index${ext}`, import.meta.url).href,
      },
      // src/ (or dist/src/): the gateway's own code, never a plugin's even when a plugin imports it by a relative path.
      root: new URL('../', import.meta.url).href,
    };
    register(`data:text/javascript,${encodeURIComponent(HOOKS_SOURCE)}`, { data });
  })();
  return installed;
}

/** contentVersion hashes every file of a plugin folder (not node_modules or dot entries), names and bytes. */
export function contentVersion(folder: string): string {
  const hash = createHash('sha256');
  const walk = (dir: string, rel: string): void => {
    const entries = readdirSync(dir, { withFileTypes: true })
      .filter((e) => !e.name.startsWith('.') && e.name !== 'node_modules')
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path, `${rel}${e.name}/`);
      else if (e.isFile()) hash.update(`${rel}${e.name}\0`).update(readFileSync(path)).update('\0');
    }
  };
  walk(folder, '');
  return hash.digest('hex').slice(0, 16);
}

/**
 * importPlugin imports a plugin entry file at the current content version of
 * its folder; throws when the folder already had MAX_PLUGIN_VERSIONS versions.
 */
export async function importPlugin(entry: string): Promise<LoadedModule> {
  await installHooks();
  const folder = dirname(entry);
  const version = contentVersion(folder);
  const seen = versions.get(folder) ?? new Set<string>();
  if (!seen.has(version) && seen.size >= MAX_PLUGIN_VERSIONS) {
    throw new Error(
      `the plugin changed ${seen.size} times since the gateway started; each loaded version stays in memory, so no more are loaded: restart the gateway to load this one`,
    );
  }
  const url = new URL(pathToFileURL(entry).href);
  url.searchParams.set(PLUGIN_PARAM, version);
  const cached = modules.get(url.href);
  if (cached) return { mod: cached, version };
  const mod = (await nativeImport(url.href)) as { default?: unknown };
  modules.set(url.href, mod);
  seen.add(version);
  versions.set(folder, seen);
  return { mod, version };
}
