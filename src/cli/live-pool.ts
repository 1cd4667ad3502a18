/**
 * The running gateway's view of a pool, for `switchyard explain`: a
 * discovered pool has no targets in the configuration files, only in the
 * gateway that runs them. The CLI asks that gateway's admin API (the address
 * gateway.yaml gives it) for `/upstreams`, briefly: a gateway that does not
 * answer is simply not running, and explain says where the targets would
 * come from instead.
 */
import type { GatewayDoc } from '../config/schema.js';
import type { DiscoveredInstance, InstanceStatus } from '../discovery/index.js';

/** LIVE_TIMEOUT_MS bounds the whole question: explain must answer at once, gateway or not. */
const LIVE_TIMEOUT_MS = 1500;

/** LivePool is what the running gateway says of one pool: its targets as discovered instances, and where it answered from. */
export type LivePool = { kind: 'found'; admin: string; instances: DiscoveredInstance[] } | { kind: 'unknown'; admin: string } | { kind: 'unreachable'; admin: string; reason: string };

interface UpstreamsView {
  upstreams: Array<{ name: string; targets: Array<{ url: string; weight: number; state: string; source: string | null }> }>;
}

/** adminBase is the admin API's base URL as a local client reaches it (a wildcard bind is reached on loopback); undefined when it has no fixed port. */
export function adminBase(admin: GatewayDoc['admin']): string | undefined {
  if (!admin.enabled || admin.port === 0) return undefined;
  const host = admin.host === '0.0.0.0' ? '127.0.0.1' : admin.host === '::' ? '[::1]' : admin.host.includes(':') ? `[${admin.host}]` : admin.host;
  return `http://${host}:${admin.port}`;
}

/** statusOf maps a target's state in /upstreams back to what a source would say: only a healthy target takes traffic here. */
function statusOf(state: string): InstanceStatus {
  if (state === 'healthy') return 'up';
  if (state === 'draining') return 'draining';
  return 'down';
}

/** livePool asks the running gateway for pool `name`; it never throws. */
export async function livePool(admin: GatewayDoc['admin'], name: string): Promise<LivePool> {
  const base = adminBase(admin);
  if (base === undefined) return { kind: 'unreachable', admin: '(admin API off or on port 0)', reason: 'no fixed admin address' };
  const signal = AbortSignal.timeout(LIVE_TIMEOUT_MS);
  try {
    const res = await fetch(`${base}/upstreams`, {
      headers: { accept: 'application/json', ...(admin.token ? { authorization: `Bearer ${admin.token}` } : {}) },
      signal,
    });
    if (res.status !== 200) {
      await res.arrayBuffer();
      return { kind: 'unreachable', admin: base, reason: `GET /upstreams answered ${res.status}` };
    }
    const view = (await res.json()) as UpstreamsView;
    const pool = view.upstreams.find((u) => u.name === name);
    if (pool === undefined) return { kind: 'unknown', admin: base };
    const instances = pool.targets.map((t) => ({ url: t.url, weight: t.weight, status: statusOf(t.state), source: t.source ?? 'configured' }));
    return { kind: 'found', admin: base, instances };
  } catch (err) {
    return { kind: 'unreachable', admin: base, reason: signal.aborted ? 'no answer' : String((err as Error).cause ?? (err as Error).message) };
  }
}
