/**
 * The option types callers write. The schemas of options.ts decide what is
 * valid and fill the defaults; these types say the same for the editor
 * (every field with a default is optional here). test/client/options.test.ts
 * checks that a validated document is assignable back to them, so the two
 * cannot drift apart silently.
 */
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { BalancerName } from '../balancing/index.js';

/** Duration is milliseconds, or a string such as `500ms`, `5s`, `1m`. */
export type Duration = number | string;

/** TargetOptions is one fixed instance, written like a route file's target. */
export interface TargetOptions {
  /** url is http(s)://host:port, without path or credentials. */
  url: string;
  /** weight is the share for weighted balancers (1..1000, default 1). */
  weight?: number;
}

/** EurekaSourceOptions read a registry over Eureka's REST protocol. */
export interface EurekaSourceOptions {
  /** url is the REST base, e.g. http://user:pw@gateway:8761/eureka. */
  url: string;
  /** refresh is the time between two reads of an application (registry: 5s, eureka: 30s). */
  refresh?: Duration;
  /** timeout fails a read that takes longer (default 5s); the last known set stays. */
  timeout?: Duration;
}

/** DnsAppOptions name one application's DNS name, as a route file's `discover: { dns }`. */
export interface DnsAppOptions {
  name: string;
  /** port of every instance (default 80). */
  port?: number;
  /** refresh: `ttl` (default) or a fixed interval. */
  refresh?: 'ttl' | Duration;
  minTtl?: Duration;
  maxTtl?: Duration;
  family?: 'any' | 'ipv4' | 'ipv6';
}

/** DiscoveryOptions say where instances come from: exactly one source. */
export type DiscoveryOptions =
  | { registry: string | EurekaSourceOptions }
  | { eureka: EurekaSourceOptions }
  | { dns: { apps: Record<string, DnsAppOptions>; scheme?: 'http' | 'https'; resolver?: { servers?: string[]; timeout?: Duration; tries?: number } } }
  | { targets: Record<string, TargetOptions[]> };

/** ClientOptions configure createClient; every field but `discovery` has the default of the route-file field of the same name. */
export interface ClientOptions {
  discovery: DiscoveryOptions;
  /** fallback serves an application whose discovery fails before its first answer. */
  fallback?: { targets: Record<string, TargetOptions[]> };
  /** balancer is one of the gateway's five (default round-robin). */
  balancer?: BalancerName;
  /** outlierDetection ejects instances that fail calls in a row (on by default: 5 failures, 30s). */
  outlierDetection?: { enabled?: boolean; consecutiveFailures?: number; baseEjectionTime?: Duration; maxEjectionTime?: Duration; maxEjectionPercent?: number };
  /** retry: extra attempts on another instance (default 1) and the statuses retried for idempotent methods (default 502, 503, 504). */
  retry?: { attempts?: number; on?: number[] };
  /** retryBudget caps retries at `percent` of calls (default 20) plus `minPerSecond` (default 3). */
  retryBudget?: { percent?: number; minPerSecond?: number };
  /** timeouts: connect (5s), response headers (30s), idle between body bytes (60s). */
  timeouts?: { connect?: Duration; response?: Duration; idle?: Duration };
  /** keepAlive: connections per instance (128), idle socket lifetime (4s), pipelining (1). */
  keepAlive?: { connections?: number; idle?: Duration; pipelining?: number };
  /** panicThreshold: below this percentage of healthy instances, balance over all (default 0, off). */
  panicThreshold?: number;
  /** slowStart: a new or readmitted instance ramps up over this window (default 0, off). */
  slowStart?: Duration;
  /** startTimeout: how long the first call to an application waits for discovery (default 5s). */
  startTimeout?: Duration;
  /** logger receives the client's lines through a child (`component: "switchyard-client"`); default silent. */
  logger?: Logger;
  /** metrics is a prom-client Registry to count calls, retries and ejections on. */
  metrics?: Registry;
}

/** RegisterOptions configure registerInstance. */
export interface RegisterOptions {
  /** registry is the Eureka REST base, e.g. http://user:pw@gateway:8761/eureka. */
  registry: string;
  /** app is the application name (stored upper case). */
  app: string;
  /** host is the address callers dial (default: the first non-internal IPv4 address). */
  host?: string;
  port: number;
  /** healthCheckPath is registered as healthCheckUrl. */
  healthCheckPath?: string;
  metadata?: Record<string, string>;
  /** instanceId defaults to host:app:port. */
  instanceId?: string;
  /** renewalInterval is the time between heartbeats (default 30s). */
  renewalInterval?: Duration;
  /** leaseDuration is how long the registry keeps the instance without a heartbeat (default 90s). */
  leaseDuration?: Duration;
  /** timeout fails a registry call that takes longer (default 5s). */
  timeout?: Duration;
  /** logger receives heartbeat failures and re-registrations; default silent. */
  logger?: Logger;
}
