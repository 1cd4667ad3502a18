/**
 * Loading a configuration from disk for a diff: the gateway's own loader
 * (every file validated, errors with file:line) with a size cap per file,
 * then the model, then the check compiling would make of ambiguous routes.
 * Nothing is compiled: no pool, no health check, no plugin instance, no
 * socket, no Redis connection.
 */
import { ConfigError, ConfigInvalid } from '../config/errors.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import type { Env } from '../config/env.js';
import { buildModel, type ConfigModel } from './model.js';
import { Evaluator } from './moves.js';
import { compileMatch } from '../routing/route-match.js';

/** MAX_FILE_BYTES caps each file a diff reads (8 MiB: a route file with 1,000 routes is about 200 KB). */
export const MAX_FILE_BYTES = 8 * 1024 * 1024;

/** loadModel loads and validates a configuration from disk into its model; throws ConfigInvalid. */
export async function loadModel(configFile: string, env?: Env): Promise<ConfigModel> {
  return (await loadForDiff(configFile, env)).model;
}

/** loadForDiff is loadModel that also gives the admin block (the CLI asks the running gateway with its token). */
export async function loadForDiff(configFile: string, env?: Env): Promise<{ model: ConfigModel; admin: LoadedConfig['gateway']['admin'] }> {
  const loaded = await loadConfig({ configFile, maxFileBytes: MAX_FILE_BYTES, ...(env ? { env } : {}) });
  return { model: checkedModel(loaded), admin: loaded.gateway.admin };
}

/** checkedModel builds the model of a loaded configuration and refuses what compiling would refuse: a bad path pattern, ambiguous routes. */
export function checkedModel(loaded: LoadedConfig): ConfigModel {
  const model = buildModel(loaded);
  // A path the schema admits and the compiler does not ("/a/*/b"): compileMatch's message, at the route.
  const bad = model.routes.flatMap((r) => {
    try {
      compileMatch(r.match);
      return [];
    } catch (err) {
      return [new ConfigError({ file: r.at.file, line: r.at.line, col: 0, path: `routes[id=${r.id}].match.path`, message: (err as Error).message })];
    }
  });
  if (bad.length > 0) throw new ConfigInvalid(bad);
  const evaluator = new Evaluator(model);
  const errors = evaluator.ambiguities().map(
    ({ a, b }) =>
      new ConfigError({
        file: b.at.file,
        line: b.at.line,
        col: 0,
        path: `routes[id=${b.id}]`,
        message: `route "${b.id}" is ambiguous with route "${a.id}" (${a.at.file}:${a.at.line}): same path and as many conditions, and a request could match both; add a condition or change a path`,
      }),
  );
  if (errors.length > 0) throw new ConfigInvalid(errors);
  return model;
}
