/**
 * Compile once, run cheaply: a `discovery.registry` block becomes frozen
 * options in milliseconds and bytes, with the address policy built, so the
 * request path only looks things up. Checks the schema cannot express (expiry
 * after renewal, window within expiry, well-formed CIDRs) fail here, at load.
 */
import { Value } from '@sinclair/typebox/value';
import { RegistryOptionsSchema, type RegistryOptions } from '../config/discovery.js';
import { parseDuration } from '../config/duration.js';
import { AddressPolicy } from './address-policy.js';

/** RegistryAuth is the credential check a registry applies, already decoded. */
export type RegistryAuth = { kind: 'basic'; user: string; password: string } | { kind: 'token'; token: string } | { kind: 'none' };

/** CompiledRegistryOptions is what the registry and its listener run with. */
export interface CompiledRegistryOptions {
  readonly host: string;
  readonly port: number;
  readonly auth: RegistryAuth;
  readonly addresses: AddressPolicy;
  readonly renewalMs: number;
  readonly expiryMs: number;
  readonly evictEveryMs: number;
  /** selfPreservation is undefined when disabled (`selfPreservation: false`). */
  readonly selfPreservation: { readonly threshold: number; readonly windowMs: number } | undefined;
  readonly maxInstancesPerApp: number;
  readonly maxApps: number;
  /** maxMetricApps caps the app label values of the registry metrics. */
  readonly maxMetricApps: number;
  readonly maxBodyBytes: number;
  readonly maxMetadataKeys: number;
  readonly maxMetadataBytes: number;
  readonly deltaRetentionMs: number;
  readonly syncEveryMs: number;
  readonly keyPrefix: string;
}

/** RegistryOptionsError says a registry block is invalid; `path` names the field. */
export class RegistryOptionsError extends Error {
  constructor(
    readonly path: string,
    /** reason is the message without the path (the config error renderer adds file:line and path itself). */
    readonly reason: string,
  ) {
    super(`discovery.registry${path.replace(/\//g, '.')}: ${reason}`);
    this.name = 'RegistryOptionsError';
  }
}

/**
 * compileRegistryOptions validates a `discovery.registry` block (defaults
 * applied to a copy; the gateway's loader has usually validated it already)
 * and precomputes what the registry needs; throws RegistryOptionsError.
 */
export function compileRegistryOptions(input: unknown = {}): CompiledRegistryOptions {
  const doc = Value.Default(RegistryOptionsSchema, structuredClone(input ?? {})) as RegistryOptions;
  const first = Value.Errors(RegistryOptionsSchema, doc).First();
  if (first) throw new RegistryOptionsError(first.path, first.message);

  const renewalMs = parseDuration(doc.lease.renewal);
  const expiryMs = parseDuration(doc.lease.expiry);
  const evictEveryMs = parseDuration(doc.lease.evictEvery);
  if (renewalMs <= 0) throw new RegistryOptionsError('/lease/renewal', 'must be more than 0');
  if (expiryMs <= renewalMs) throw new RegistryOptionsError('/lease/expiry', `must exceed lease.renewal (${renewalMs}ms), or every instance expires between two heartbeats`);
  if (evictEveryMs <= 0) throw new RegistryOptionsError('/lease/evictEvery', 'must be more than 0');

  let selfPreservation: CompiledRegistryOptions['selfPreservation'];
  if (doc.selfPreservation !== false) {
    const windowMs = parseDuration(doc.selfPreservation.window);
    if (windowMs < renewalMs) throw new RegistryOptionsError('/selfPreservation/window', `must be at least lease.renewal (${renewalMs}ms) to count any renewal`);
    if (windowMs > expiryMs) throw new RegistryOptionsError('/selfPreservation/window', `must be at most lease.expiry (${expiryMs}ms), or leases run out before a partition shows in the rate`);
    selfPreservation = Object.freeze({ threshold: doc.selfPreservation.threshold, windowMs });
  }

  let addresses: AddressPolicy;
  try {
    addresses = new AddressPolicy(doc.allowTargets);
  } catch (err) {
    throw new RegistryOptionsError('/allowTargets', (err as Error).message);
  }

  const syncEveryMs = parseDuration(doc.store.syncEvery);
  if (syncEveryMs <= 0) throw new RegistryOptionsError('/store/syncEvery', 'must be more than 0');

  return Object.freeze({
    host: doc.listen.host,
    port: doc.listen.port,
    auth: authOf(doc),
    addresses,
    renewalMs,
    expiryMs,
    evictEveryMs,
    selfPreservation,
    maxInstancesPerApp: doc.maxInstancesPerApp,
    maxApps: doc.limits.maxApps,
    maxMetricApps: doc.limits.maxMetricApps,
    maxBodyBytes: doc.limits.maxBodyBytes,
    maxMetadataKeys: doc.limits.maxMetadataKeys,
    maxMetadataBytes: doc.limits.maxMetadataBytes,
    deltaRetentionMs: parseDuration(doc.deltaRetention),
    syncEveryMs,
    keyPrefix: doc.store.keyPrefix,
  });
}

function authOf(doc: RegistryOptions): RegistryAuth {
  if (!doc.auth) return { kind: 'none' };
  if ('basic' in doc.auth) return { kind: 'basic', user: doc.auth.basic.user, password: doc.auth.basic.password };
  return { kind: 'token', token: doc.auth.token };
}

/**
 * registryStartupWarnings lists what the gateway should log at warn level when
 * the registry starts: today, a registry without auth (anyone who reaches the
 * port can add dial targets), louder when it listens beyond loopback.
 */
export function registryStartupWarnings(opts: CompiledRegistryOptions): string[] {
  const warnings: string[] = [];
  if (opts.auth.kind === 'none') {
    const loopback = /^(127\.|::1$|localhost$)/.test(opts.host);
    warnings.push(
      loopback
        ? `the service registry on ${opts.host}:${opts.port} has no auth: any local process can register dial targets (set discovery.registry.auth)`
        : `the service registry on ${opts.host}:${opts.port} has NO AUTH and listens beyond loopback: anyone who reaches the port can register dial targets for your upstreams (set discovery.registry.auth)`,
    );
  }
  if (!opts.selfPreservation) warnings.push('registry self-preservation is off: a network partition will evict every instance whose heartbeats it blocks');
  return warnings;
}
