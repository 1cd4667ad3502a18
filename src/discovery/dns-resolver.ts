/**
 * What the two DNS providers share: a resolver of their own (so stop() can
 * cancel its queries without touching anyone else's), address lookups that
 * keep the TTL, the line between "the name has no addresses" and "DNS did
 * not answer", and when to ask again.
 */
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';

/** DnsOptions is the gateway's `discovery.dns`, in milliseconds. */
export interface DnsOptions {
  /** servers are ip or ip:port; empty = the system's resolvers. */
  servers: readonly string[];
  timeoutMs: number;
  tries: number;
}

/** SYSTEM_DNS asks the resolvers of /etc/resolv.conf with c-ares' usual patience. */
export const SYSTEM_DNS: DnsOptions = { servers: [], timeoutMs: 2000, tries: 2 };

/** createResolver builds a resolver with the gateway's servers, timeout and tries. */
export function createResolver(options: DnsOptions): dns.Resolver {
  const resolver = new dns.Resolver({ timeout: options.timeoutMs, tries: options.tries });
  if (options.servers.length > 0) resolver.setServers([...options.servers]);
  return resolver;
}

// NXDOMAIN (ENOTFOUND) and NODATA (ENODATA) are answers: the name exists not,
// or has no record of the type asked. Everything else (ESERVFAIL, ETIMEOUT,
// ECONNREFUSED, EREFUSED...) means DNS did not answer.
const NO_SUCH_NAME = new Set(['ENOTFOUND', 'ENODATA']);

/** isNoSuchName tells whether a lookup error is DNS answering "nothing here" (NXDOMAIN, NODATA). */
export function isNoSuchName(err: unknown): boolean {
  return NO_SUCH_NAME.has((err as NodeJS.ErrnoException)?.code ?? '');
}

/** AddressRecord is one A or AAAA answer. */
export interface AddressRecord {
  address: string;
  ttl: number;
  family: 4 | 6;
}

/** AddressFamily says which record types to ask for. */
export type AddressFamily = 'any' | 'ipv4' | 'ipv6';

/**
 * resolveAddresses asks for A and/or AAAA with TTLs. A family with no records
 * contributes none; any other failure throws, even when the other family
 * answered: a half answer would silently drop targets.
 */
export async function resolveAddresses(resolver: dns.Resolver, name: string, family: AddressFamily): Promise<AddressRecord[]> {
  const ask: Array<Promise<AddressRecord[]>> = [];
  if (family !== 'ipv6') ask.push(resolver.resolve4(name, { ttl: true }).then((rs) => rs.map((r) => ({ address: r.address, ttl: r.ttl, family: 4 as const }))));
  if (family !== 'ipv4') ask.push(resolver.resolve6(name, { ttl: true }).then((rs) => rs.map((r) => ({ address: r.address, ttl: r.ttl, family: 6 as const }))));
  const settled = await Promise.allSettled(ask);
  const out: AddressRecord[] = [];
  for (const s of settled) {
    if (s.status === 'fulfilled') out.push(...s.value);
    else if (!isNoSuchName(s.reason)) throw s.reason;
  }
  return out;
}

/** NoAddressesError says DNS answered that a name has no usable records (the last set stays; see dns.ts). */
export class NoAddressesError extends Error {
  readonly code = 'ENODATA';
  constructor(what: string) {
    super(`DNS answered: no ${what}`);
    this.name = 'NoAddressesError';
  }
}

/** originOf is the dial url of an address and port (IPv6 bracketed, default ports dropped as URL.origin does). */
export function originOf(scheme: string, address: string, port: number): string {
  const host = isIP(address) === 6 ? `[${address}]` : address;
  return new URL(`${scheme}://${host}:${port}`).origin;
}

/** RefreshOptions are `refresh`, `minTtl` and `maxTtl` in milliseconds (`refreshMs` undefined = `ttl` mode). */
export interface RefreshOptions {
  refreshMs: number | undefined;
  minTtlMs: number;
  maxTtlMs: number;
}

/**
 * RefreshPolicy decides when to ask again: at the answer's TTL clamped to
 * [minTtl, maxTtl] (or the fixed refresh); after failures, from minTtl
 * doubling per failure up to that same ceiling, so a dead resolver is not
 * asked every second for an hour but a short blip is retried fast.
 */
export class RefreshPolicy {
  private failures = 0;

  constructor(private readonly options: RefreshOptions) {}

  /** afterAnswer returns the delay after a good answer whose shortest TTL is `ttlSeconds`. */
  afterAnswer(ttlSeconds: number): number {
    this.failures = 0;
    const { refreshMs, minTtlMs, maxTtlMs } = this.options;
    if (refreshMs !== undefined) return refreshMs;
    return Math.min(Math.max(ttlSeconds * 1000, minTtlMs), maxTtlMs);
  }

  /** afterFailure returns the delay after a failed lookup. */
  afterFailure(): number {
    this.failures++;
    const { refreshMs, minTtlMs, maxTtlMs } = this.options;
    const ceiling = refreshMs ?? maxTtlMs;
    const base = Math.max(1, Math.min(minTtlMs, ceiling));
    return Math.min(base * 2 ** Math.min(this.failures - 1, 30), ceiling);
  }
}

/** refreshMode turns a `refresh:` value into RefreshOptions.refreshMs (`ttl` → undefined). */
export function refreshMode(refresh: string | number, parse: (v: string | number) => number): number | undefined {
  return refresh === 'ttl' ? undefined : parse(refresh);
}
