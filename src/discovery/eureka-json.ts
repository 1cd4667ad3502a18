/**
 * Eureka's vocabulary, read once for both Eureka providers (the gateway's own
 * registry and an external server): statuses to instance statuses, the
 * `weight` metadata to a balancer weight, and Eureka's JSON shapes to
 * instances. Eureka's JSON comes from an XML mapping, so a list of one is an
 * object, numbers may be strings, and a port is `{"$": 8080, "@enabled": "true"}`.
 */
import type { DiscoveredInstance, InstanceStatus } from './provider.js';

/** eurekaStatus maps a Eureka status to an instance status: UP takes traffic, OUT_OF_SERVICE drains, the rest (DOWN, STARTING, UNKNOWN) takes none. */
export function eurekaStatus(status: string | undefined): InstanceStatus {
  switch ((status ?? '').toUpperCase()) {
    case 'UP':
      return 'up';
    case 'OUT_OF_SERVICE':
      return 'draining';
    default:
      return 'down';
  }
}

/** MAX_METADATA_WEIGHT caps a weight a service declares for itself, so one instance cannot claim the whole pool. */
export const MAX_METADATA_WEIGHT = 100;

/** metadataWeight reads the `weight` metadata: a positive integer up to 100, else 1. */
export function metadataWeight(metadata: Readonly<Record<string, unknown>> | undefined): number {
  const raw = metadata?.weight;
  const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
  if (!/^\d{1,3}$/.test(text)) return 1;
  const n = Number(text);
  return n >= 1 && n <= MAX_METADATA_WEIGHT ? n : 1;
}

/** EurekaFormatError says an answer was not Eureka's JSON (the last known set then stays). */
export class EurekaFormatError extends Error {
  constructor(message: string) {
    super(`not a Eureka application document: ${message}`);
    this.name = 'EurekaFormatError';
  }
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** port reads `{"$": 8080, "@enabled": "true"}` (or a bare number): the port when enabled, else undefined. */
function port(v: unknown, enabledByDefault: boolean): number | undefined {
  let value: unknown = v;
  let enabled = enabledByDefault;
  if (isObject(v)) {
    value = v.$;
    if (v['@enabled'] !== undefined) enabled = String(v['@enabled']) === 'true';
  }
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) return undefined;
  return enabled ? n : undefined;
}

/** hostOf brackets an IPv6 address for a URL. */
function hostOf(addr: string): string {
  return addr.includes(':') && !addr.startsWith('[') ? `[${addr}]` : addr;
}

/**
 * instanceUrl is how an instance is dialed: https at the secure port when it
 * is enabled, else http at the port; at ipAddr (an address, as a dial target
 * should be), else hostName. Undefined when neither gives a usable url.
 */
export function instanceUrl(instance: Json): string | undefined {
  const host = typeof instance.ipAddr === 'string' && instance.ipAddr !== '' ? instance.ipAddr : instance.hostName;
  if (typeof host !== 'string' || host === '' || /[\s/@?#]/.test(host)) return undefined;
  const secure = port(instance.securePort, false);
  const plain = port(instance.port, true);
  const url = secure !== undefined ? `https://${hostOf(host)}:${secure}` : plain !== undefined ? `http://${hostOf(host)}:${plain}` : undefined;
  if (url === undefined) return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/** leaseAgeSeconds is the time since the last renewal, for the `source` text. */
function leaseAgeSeconds(instance: Json, now: number): number | undefined {
  const lease = instance.leaseInfo;
  if (!isObject(lease)) return undefined;
  const at = Number(lease.lastRenewalTimestamp);
  return Number.isFinite(at) && at > 0 ? Math.max(0, Math.round((now - at) / 1000)) : undefined;
}

/**
 * parseApplication reads the body of `GET /apps/{APP}`:
 * `{"application": {"name": "ORDERS", "instance": [...] | {...}}}`. Instances
 * without a usable address are skipped (one bad registration must not hide
 * the others); a body of another shape throws EurekaFormatError.
 */
export function parseApplication(body: unknown, now: number): DiscoveredInstance[] {
  if (!isObject(body) || !isObject(body.application)) throw new EurekaFormatError('no "application" object');
  const app = body.application;
  const raw = app.instance;
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const name = typeof app.name === 'string' ? app.name : '?';
  const out: DiscoveredInstance[] = [];
  for (const i of list) {
    if (!isObject(i)) throw new EurekaFormatError('an instance is not an object');
    const url = instanceUrl(i);
    if (url === undefined) continue;
    const id = typeof i.instanceId === 'string' ? i.instanceId : typeof i.hostName === 'string' ? i.hostName : url;
    const age = leaseAgeSeconds(i, now);
    out.push({
      url,
      weight: metadataWeight(isObject(i.metadata) ? i.metadata : undefined),
      status: eurekaStatus(typeof i.status === 'string' ? i.status : undefined),
      source: `eureka ${name} ${id}${age === undefined ? '' : `, lease ${age}s`}`,
    });
  }
  return out;
}
