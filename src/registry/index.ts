/**
 * The gateway's own Eureka-compatible service registry (issue 15, part 1).
 * The gateway calls startRegistry with gateway.yaml's `discovery.registry`
 * block, its logger, its Redis URL when set and its metric hooks; it hands
 * `registry` (a RegistrySource) to the `registry` discovery provider and
 * calls close() on shutdown.
 *
 *   registry/
 *     index.ts                  this barrel and startRegistry
 *     options.ts                config → frozen options (ms, address policy), startup warnings
 *     address-policy.ts         which addresses may become dial targets (SSRF)
 *     registration.ts           a registration body → a record, or a refusal
 *     instance.ts               the stored record and its views
 *     instance-store.ts         the store interface; memory- and redis-instance-store.ts implement it
 *     redis-scripts.ts          the atomic Lua writes of the shared store
 *     registry.ts               the Registry: Eureka operations + RegistrySource
 *     registry-cache.ts         the last known registry, deltas, change events
 *     store-sync.ts             following a shared store (pub/sub + version poll)
 *     evictor.ts                lease expiry; self-preservation.ts decides when to stop
 *     eureka-json.ts            Eureka's response shapes
 *     server.ts, auth.ts        the REST listener and its auth
 *     metrics.ts                metric hooks the gateway binds to prom-client
 */
import type { Logger } from 'pino';
import { createRedis } from '../stores/redis-client.js';
import type { InstanceStore } from './instance-store.js';
import { MemoryInstanceStore } from './memory-instance-store.js';
import { NO_METRICS, type RegistryMetrics } from './metrics.js';
import { compileRegistryOptions, registryStartupWarnings, type CompiledRegistryOptions } from './options.js';
import { RedisInstanceStore } from './redis-instance-store.js';
import { Registry } from './registry.js';
import { startRegistryServer } from './server.js';

export { compileRegistryOptions, registryStartupWarnings, RegistryOptionsError, type CompiledRegistryOptions, type RegistryAuth } from './options.js';
export { AddressPolicy, ALWAYS_REFUSED } from './address-policy.js';
export { Registry, type RegistryDeps, type RegistryState, type WriteResult } from './registry.js';
export type { InstanceStore, InstanceKey, PutOptions, PutOutcome, StoreSnapshot, StoredRecord } from './instance-store.js';
export { MemoryInstanceStore } from './memory-instance-store.js';
export { RedisInstanceStore, type RedisInstanceStoreOptions } from './redis-instance-store.js';
export { NO_METRICS, countingMetrics, type RegistryMetrics, type RegistryRefusalReason } from './metrics.js';
export { startRegistryServer, type RegistryServer } from './server.js';
export type { SelfPreservationState } from './self-preservation.js';
export type { Instance, InstanceRecord, EurekaStatus } from './instance.js';

/** StartRegistryOptions is what the gateway passes to startRegistry. */
export interface StartRegistryOptions {
  /** options is the `discovery.registry` block (validated or not) or already compiled options. */
  readonly options: unknown;
  readonly log: Logger;
  /** redisUrl is gateway.yaml's redis.url: set, every gateway shares the registry; unset, it lives in memory. */
  readonly redisUrl?: string;
  /** store overrides the store choice (tests). */
  readonly store?: InstanceStore;
  readonly metrics?: RegistryMetrics;
}

/** RunningRegistry is a started registry: the source the gateway reads and the listener clients talk to. */
export interface RunningRegistry {
  /** registry is the RegistrySource for discovery (instances, onChange, apps) and state() for admin and metrics. */
  readonly registry: Registry;
  /** port is the listener's actual port (useful with port 0). */
  readonly port: number;
  /** warnings were logged at startup (no auth, self-preservation off). */
  readonly warnings: readonly string[];
  /** close stops the listener, the timers and the store connection; idempotent. */
  close(): Promise<void>;
}

function isCompiled(o: unknown): o is CompiledRegistryOptions {
  return typeof o === 'object' && o !== null && 'addresses' in o && 'renewalMs' in o;
}

/** startRegistry compiles the options, opens the store, loads it, starts the evictor and the listener, and logs the startup warnings. */
export async function startRegistry(o: StartRegistryOptions): Promise<RunningRegistry> {
  const options = isCompiled(o.options) ? o.options : compileRegistryOptions(o.options);
  const log = o.log.child({ component: 'registry' });
  const metrics = o.metrics ?? NO_METRICS;
  const store =
    o.store ?? (o.redisUrl ? new RedisInstanceStore(createRedis(o.redisUrl, log), { keyPrefix: options.keyPrefix, ownsClient: true }) : new MemoryInstanceStore());
  const registry = new Registry({ options, store, log, metrics });
  await registry.start();
  let server;
  try {
    server = await startRegistryServer(registry, metrics);
  } catch (err) {
    await registry.stop();
    if (!o.store) await store.close();
    throw err;
  }
  const warnings = registryStartupWarnings(options);
  for (const w of warnings) log.warn(w);
  log.info({ host: options.host, port: server.port, store: store.kind, auth: options.auth.kind }, 'service registry listening');
  let closing: Promise<void> | undefined;
  return {
    registry,
    port: server.port,
    warnings,
    close: () =>
      (closing ??= (async () => {
        await server.close();
        await registry.stop();
        if (!o.store) await store.close();
      })()),
  };
}
