/**
 * The registry's options have checks the schema cannot express (expiry after
 * renewal, window within expiry, well-formed CIDRs: src/registry/options.ts).
 * They run here when the configuration loads, at start, on reload and in
 * `switchyard validate`, so a mistake is a config error at its gateway.yaml
 * line rather than a stack trace when the registry's listener starts.
 */
import { ConfigError, ConfigInvalid, formatPath } from '../config/errors.js';
import { INLINE_GATEWAY, type LoadedConfig } from '../config/load.js';
import { compileRegistryOptions, RegistryOptionsError } from '../registry/options.js';

/** checkRegistryOptions throws ConfigInvalid, positioned in gateway.yaml, when discovery.registry cannot be compiled. */
export function checkRegistryOptions(loaded: LoadedConfig): void {
  const doc = loaded.gateway.discovery?.registry;
  if (doc === undefined) return;
  try {
    compileRegistryOptions(doc);
  } catch (err) {
    if (!(err instanceof RegistryOptionsError)) throw err;
    const path = ['discovery', 'registry', ...err.path.split('/').filter(Boolean)];
    const { line, col } = loaded.locateGateway(path, 'value');
    throw new ConfigInvalid([new ConfigError({ file: loaded.gatewayFile ?? INLINE_GATEWAY, line, col, path: formatPath(path), message: err.reason })]);
  }
}
