/**
 * A registry in cluster mode must be shared: without `redis.url` each worker
 * would hold its own in-memory registry behind the one public port, so a
 * registration lands on one worker, its heartbeats on any (404 half the time)
 * and each worker's pools see only part of the fleet. Refused at start,
 * positioned at the gateway.yaml line, instead of running split.
 */
import { ConfigError, ConfigInvalid, formatPath } from '../config/errors.js';
import { INLINE_GATEWAY, type LoadedConfig } from '../config/load.js';

/** checkSharedRegistry throws ConfigInvalid when several workers would each run a private registry. */
export function checkSharedRegistry(loaded: LoadedConfig, workers: number): void {
  if (workers <= 1 || loaded.gateway.discovery?.registry === undefined || loaded.gateway.redis?.url !== undefined) return;
  const path = ['discovery', 'registry'];
  const { line, col } = loaded.locateGateway(path, 'key');
  const message =
    `with ${workers} workers each worker would run its own in-memory registry behind the one port ` +
    '(registrations and heartbeats would land on different workers): set redis.url so the workers share one registry, or run one process (--workers 1)';
  throw new ConfigInvalid([new ConfigError({ file: loaded.gatewayFile ?? INLINE_GATEWAY, line, col, path: formatPath(path), message })]);
}
