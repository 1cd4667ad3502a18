/**
 * Eureka's JSON shapes, as the Eureka server writes them and its clients
 * (eureka-js-client, Spring Cloud Netflix's Jackson codec) parse them:
 *
 *   GET /apps         {"applications": {"versions__delta", "apps__hashcode", "application": [{"name", "instance": [...]}]}}
 *   GET /apps/delta   the same, with only recent changes, each instance carrying its actionType
 *   GET /apps/{APP}   {"application": {"name", "instance": [...]}}
 *   GET .../{ID}      {"instance": {...}}
 *
 * Ports are `{"$": 8080, "@enabled": "true"}`, dataCenterInfo keeps its
 * `@class`, timestamps in leaseInfo are numbers while lastUpdatedTimestamp and
 * lastDirtyTimestamp are strings (as Eureka writes them). Instance lists are
 * always arrays, never a bare object for a single instance (both clients
 * accept arrays; a bare object is an XML-mapping artifact).
 */
import { effectiveStatus, type Instance } from './instance.js';
import type { DeltaEntry } from './registry-cache.js';

/** LeaseTimes are the server's lease settings that leaseInfo reports. */
export interface LeaseTimes {
  readonly expiryMs: number;
}

/** instanceJson renders one instance as Eureka's InstanceInfo JSON. */
export function instanceJson(i: Instance, lease: LeaseTimes, actionType = 'ADDED'): Record<string, unknown> {
  const out: Record<string, unknown> = {
    instanceId: i.instanceId,
    hostName: i.hostName,
    app: i.app,
    ipAddr: i.ipAddr,
    status: effectiveStatus(i),
    overriddenStatus: i.overriddenStatus,
    overriddenstatus: i.overriddenStatus, // older clients read the lower-case spelling
    port: { $: i.port, '@enabled': String(i.portEnabled) },
    securePort: { $: i.securePort, '@enabled': String(i.securePortEnabled) },
    countryId: i.countryId,
    dataCenterInfo: { '@class': i.dataCenter.class, name: i.dataCenter.name, ...(i.dataCenter.metadata ? { metadata: i.dataCenter.metadata } : {}) },
    leaseInfo: {
      renewalIntervalInSecs: i.renewalIntervalSecs,
      durationInSecs: Math.round(lease.expiryMs / 1000),
      registrationTimestamp: i.registeredAt,
      lastRenewalTimestamp: i.lastRenewedAt,
      evictionTimestamp: 0,
      serviceUpTimestamp: i.serviceUpAt,
    },
    metadata: i.metadata,
    isCoordinatingDiscoveryServer: 'false',
    lastUpdatedTimestamp: String(i.lastUpdatedTimestamp),
    lastDirtyTimestamp: String(i.lastDirtyTimestamp),
    actionType,
  };
  for (const k of ['homePageUrl', 'statusPageUrl', 'healthCheckUrl', 'secureHealthCheckUrl', 'vipAddress', 'secureVipAddress'] as const) {
    if (i[k] !== undefined) out[k] = i[k];
  }
  return out;
}

/**
 * appsHashcode is Eureka's reconcile hash: each status with its instance count,
 * in status order, e.g. "DOWN_1_UP_3_". A client applies a delta, computes the
 * same over its copy, and fetches everything when the two differ.
 */
export function appsHashcode(instances: Iterable<Instance>): string {
  const counts = new Map<string, number>();
  for (const i of instances) {
    const s = effectiveStatus(i);
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  return [...counts.keys()]
    .sort()
    .map((s) => `${s}_${counts.get(s)}_`)
    .join('');
}

function group(entries: Iterable<{ app: string; json: Record<string, unknown> }>): { name: string; instance: Record<string, unknown>[] }[] {
  const byApp = new Map<string, Record<string, unknown>[]>();
  for (const e of entries) byApp.set(e.app, [...(byApp.get(e.app) ?? []), e.json]);
  return [...byApp.keys()].sort().map((name) => ({ name, instance: byApp.get(name)! }));
}

/** applicationsJson renders the full registry (GET /apps). */
export function applicationsJson(all: readonly Instance[], version: number, lease: LeaseTimes): string {
  return JSON.stringify({
    applications: {
      versions__delta: String(version),
      apps__hashcode: appsHashcode(all),
      application: group(all.map((i) => ({ app: i.app, json: instanceJson(i, lease) }))),
    },
  });
}

/** deltaJson renders the recent changes (GET /apps/delta); the hashcode is the full registry's, for the client's check. */
export function deltaJson(entries: readonly DeltaEntry[], all: readonly Instance[], version: number, lease: LeaseTimes): string {
  return JSON.stringify({
    applications: {
      versions__delta: String(version),
      apps__hashcode: appsHashcode(all),
      application: group(entries.map((e) => ({ app: e.instance.app, json: instanceJson(e.instance, lease, e.action) }))),
    },
  });
}

/** applicationJson renders one application (GET /apps/{APP}). */
export function applicationJson(app: string, instances: readonly Instance[], lease: LeaseTimes): string {
  return JSON.stringify({ application: { name: app, instance: instances.map((i) => instanceJson(i, lease)) } });
}

/** oneInstanceJson renders one instance (GET /apps/{APP}/{ID}). */
export function oneInstanceJson(i: Instance, lease: LeaseTimes): string {
  return JSON.stringify({ instance: instanceJson(i, lease) });
}
