/**
 * The source of the Node module hooks (node:module `register()`) that let a
 * custom plugin load from any folder. It is kept as text and registered as a
 * data: URL because the hooks run on Node's loader thread, which cannot load
 * this project's TypeScript sources when the gateway runs from src/ (vitest,
 * tsx); a data: module needs nothing but node: builtins, from src/ and dist/ alike.
 *
 * What the hooks do:
 * - `switchyard-gateway`, `switchyard-gateway/http` and
 *   `switchyard-gateway/testing`, imported from
 *   anywhere, resolve to the RUNNING installation's entry files (given at
 *   registration), never to whatever a nearby node_modules holds — a plugin
 *   in /etc/switchyard/plugins has no node_modules at all, and a foreign copy
 *   would be another gateway.
 * - A plugin entry is imported with `?switchyard-plugin=<content hash>`. Files
 *   it imports (relative imports, outside any node_modules and outside the
 *   installation) inherit that parameter, so the whole plugin is one module
 *   graph per content version: a reload after an edit loads the new code, a
 *   reload without one reuses the cached modules.
 * - Those files are loaded as ES modules whatever a nearby package.json says
 *   (`"type": "commonjs"` or no package.json at all would otherwise make tsx
 *   compile them to CommonJS, which fails on their `import` of the SDK).
 */

/** PLUGIN_PARAM is the URL query parameter that marks a plugin's files and carries its content version. */
export const PLUGIN_PARAM = 'switchyard-plugin';

/** HooksData is what the main thread hands the hooks at registration. */
export interface HooksData {
  /** entries maps the bare specifiers plugins may import to the running installation's file URLs. */
  entries: Record<string, string>;
  /** root is the URL of the installation's code folder (src/ or dist/src/, with a trailing slash): its files are never marked as plugin files. */
  root: string;
}

export const HOOKS_SOURCE = `
const PARAM = ${JSON.stringify(PLUGIN_PARAM)};
const ESM_EXTENSIONS = /\\.(?:[cm]?[jt]s|[jt]sx)$/;
let entries = {};
let root = '';

export async function initialize(data) {
  entries = data.entries;
  root = data.root;
}

function versionOf(url) {
  if (typeof url !== 'string' || !url.startsWith('file:')) return null;
  return new URL(url).searchParams.get(PARAM);
}

export async function resolve(specifier, context, nextResolve) {
  const mapped = entries[specifier];
  // The next resolver (tsx's for .ts sources, else Node's) still sets the format.
  if (mapped !== undefined) return nextResolve(mapped, context);
  const version = versionOf(specifier) ?? versionOf(context.parentURL);
  if (version === null) return nextResolve(specifier, context);
  const resolved = await nextResolve(specifier, context);
  if (!resolved.url.startsWith('file:')) return resolved;
  const url = new URL(resolved.url);
  if (url.pathname.includes('/node_modules/') || resolved.url.startsWith(root)) return resolved;
  if (!url.searchParams.has(PARAM)) url.searchParams.set(PARAM, version);
  const esm = ESM_EXTENSIONS.test(url.pathname) && !/\\.c[jt]s$/.test(url.pathname);
  return { ...resolved, url: url.href, format: esm ? 'module' : resolved.format };
}
`;
