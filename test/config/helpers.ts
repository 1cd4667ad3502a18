/**
 * Shared helpers for the config tests: a throwaway directory of real files,
 * and loading it with errors rendered relative to that directory so the
 * expectations read like what `switchyard validate` prints.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { ConfigInvalid } from '../../src/config/errors.js';
import { loadConfig, type LoadedConfig } from '../../src/config/load.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** writeTree writes files (relative path → text) into a fresh temp directory and returns it. */
export async function writeTree(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'switchyard-config-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(dir, name);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
  }
  return dir;
}

/** Tree is a config directory; gateway.yaml defaults to an empty file (routes: ./routes). */
export type Tree = Record<string, string>;

/** loadTree writes a tree and loads its gateway.yaml; returns the config or the formatted errors. */
export async function loadTree(files: Tree, env: Record<string, string> = {}): Promise<{ dir: string; config?: LoadedConfig; errors?: string[] }> {
  const dir = await writeTree({ 'gateway.yaml': '', ...files });
  await mkdir(path.join(dir, 'routes'), { recursive: true }); // the default routes directory
  try {
    return { dir, config: await loadConfig({ configFile: path.join(dir, 'gateway.yaml'), env }) };
  } catch (err) {
    if (!(err instanceof ConfigInvalid)) throw err;
    return { dir, errors: err.errors.map((e) => relative(e.format(), dir)) };
  }
}

/** loadErrors loads a tree that must be invalid and returns its errors, paths relative to the tree. */
export async function loadErrors(files: Tree, env: Record<string, string> = {}): Promise<string[]> {
  const r = await loadTree(files, env);
  if (!r.errors) throw new Error('expected the configuration to be rejected, but it loaded');
  return r.errors;
}

/** loadValid loads a tree that must be valid. */
export async function loadValid(files: Tree, env: Record<string, string> = {}): Promise<LoadedConfig> {
  const r = await loadTree(files, env);
  if (!r.config) throw new Error(`expected the configuration to load, got:\n${r.errors!.join('\n')}`);
  return r.config;
}

/** relative strips the temp directory from a message, wherever it appears. */
export function relative(text: string, dir: string): string {
  return text.split(`${dir}${path.sep}`).join('');
}

/** UPSTREAM is a minimal valid route file defining upstream "users". */
export const UPSTREAM = 'upstreams:\n  users:\n    targets:\n      - url: http://users:8080\n';
