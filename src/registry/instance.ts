/**
 * One registered instance as the registry stores it: the parts of Eureka's
 * InstanceInfo the registry serves back, normalized at registration (upper-case
 * app, numeric ports, an IP literal), plus the lease. The record is what the
 * stores persist (as JSON); the lease's last renewal is kept beside it, not in
 * it, because heartbeats are the hot path and must not rewrite the record.
 */
import type { InstanceStatus, RegistryInstance } from '../discovery/provider.js';

/** EUREKA_STATUSES are the statuses Eureka clients report and overrides set. */
export const EUREKA_STATUSES = ['UP', 'DOWN', 'STARTING', 'OUT_OF_SERVICE', 'UNKNOWN'] as const;

/** EurekaStatus is one of EUREKA_STATUSES. */
export type EurekaStatus = (typeof EUREKA_STATUSES)[number];

/** APP_PATTERN is the safe charset and length of an application name (it appears in paths, Redis keys and metric labels). */
export const APP_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

/** INSTANCE_ID_PATTERN is the safe charset and length of an instance id (Spring's host:app:port fits). */
export const INSTANCE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,199}$/;

/** InstanceRecord is a registration as stored (JSON-serializable, no lease). */
export interface InstanceRecord {
  readonly app: string;
  readonly instanceId: string;
  readonly hostName: string;
  /** ipAddr is the normalized IP literal the gateway dials (checked against allowTargets). */
  readonly ipAddr: string;
  readonly port: number;
  readonly portEnabled: boolean;
  readonly securePort: number;
  readonly securePortEnabled: boolean;
  /** status is what the instance itself last reported. */
  readonly status: EurekaStatus;
  /** overriddenStatus is set by PUT .../status and wins over `status`; UNKNOWN = none (Eureka's encoding). */
  readonly overriddenStatus: EurekaStatus;
  readonly vipAddress: string | undefined;
  readonly secureVipAddress: string | undefined;
  readonly homePageUrl: string | undefined;
  readonly statusPageUrl: string | undefined;
  readonly healthCheckUrl: string | undefined;
  readonly secureHealthCheckUrl: string | undefined;
  readonly dataCenter: { readonly class: string; readonly name: string; readonly metadata: Readonly<Record<string, string>> | undefined };
  readonly metadata: Readonly<Record<string, string>>;
  readonly countryId: number;
  /** renewalIntervalSecs is the client's declared heartbeat interval (served back in leaseInfo). */
  readonly renewalIntervalSecs: number;
  readonly registeredAt: number;
  /** serviceUpAt is when the instance was first seen UP (0 = not yet). */
  readonly serviceUpAt: number;
  readonly lastDirtyTimestamp: number;
  readonly lastUpdatedTimestamp: number;
}

/** Instance is a record with its lease, as the registry's snapshot holds it. */
export interface Instance extends InstanceRecord {
  readonly lastRenewedAt: number;
}

/** effectiveStatus is the status clients and the gateway see: an override wins over what the instance reports. */
export function effectiveStatus(r: InstanceRecord): EurekaStatus {
  return r.overriddenStatus !== 'UNKNOWN' ? r.overriddenStatus : r.status;
}

/** dialUrl is the instance's target URL: https on the secure port when it is enabled, else http on the port. */
export function dialUrl(r: InstanceRecord): string {
  const host = r.ipAddr.includes(':') ? `[${r.ipAddr}]` : r.ipAddr;
  return r.securePortEnabled ? `https://${host}:${r.securePort}` : `http://${host}:${r.port}`;
}

/** weightOf reads a balancer weight from metadata `weight` (Spring Cloud's convention), 1..1000, default 1. */
export function weightOf(r: InstanceRecord): number {
  const w = Number(r.metadata.weight);
  return Number.isInteger(w) && w >= 1 && w <= 1000 ? w : 1;
}

/** providerStatus maps Eureka's status to the pool's: OUT_OF_SERVICE drains, DOWN/STARTING/UNKNOWN take nothing. */
export function providerStatus(status: string): InstanceStatus {
  if (status === 'UP') return 'up';
  if (status === 'OUT_OF_SERVICE') return 'draining';
  return 'down';
}

/** toRegistryInstance is the discovery side's view of an instance (src/discovery/provider.ts). */
export function toRegistryInstance(i: Instance): RegistryInstance {
  return Object.freeze({
    app: i.app,
    instanceId: i.instanceId,
    url: dialUrl(i),
    status: effectiveStatus(i),
    weight: weightOf(i),
    lastRenewedAt: i.lastRenewedAt,
    registeredAt: i.registeredAt,
    metadata: i.metadata,
  });
}

/** sameRegistration tells whether two records differ only in their timestamps, lease included (a re-registration that changes nothing is not a change). */
export function sameRegistration(a: InstanceRecord, b: InstanceRecord): boolean {
  const strip = (r: InstanceRecord) => ({ ...r, registeredAt: 0, lastDirtyTimestamp: 0, lastUpdatedTimestamp: 0, serviceUpAt: 0, lastRenewedAt: 0 });
  return JSON.stringify(strip(a)) === JSON.stringify(strip(b));
}

/** metadataSize is the byte count the metadata limit applies to: keys plus values, UTF-8. */
export function metadataSize(m: Readonly<Record<string, string>>): number {
  let n = 0;
  for (const [k, v] of Object.entries(m)) n += Buffer.byteLength(k) + Buffer.byteLength(v);
  return n;
}
