/**
 * "The usual address ranges" of a configuration's targets, for the reviewer
 * flag on a target added outside them. A target host is usual when it is
 *   - an address in a private or loopback range (10/8, 172.16/12, 192.168/16,
 *     100.64/10, 127/8, ::1, fc00::/7), or in the same /24 (IPv4) or /48
 *     (IPv6) as a target of the configuration before the change;
 *   - a name with no dot (a service name of the cluster's DNS) or localhost;
 *   - a name in the same domain (all labels but the first) as a target before.
 * Anything else is flagged, link-local addresses (169.254/16, fe80::/10:
 * cloud metadata services live there) always.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { normalizeIp, peerMatcher } from '../http/client-ip.js';

const PRIVATE = peerMatcher(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '127.0.0.0/8', '::1/128', 'fc00::/7']);
const LINK_LOCAL = peerMatcher(['169.254.0.0/16', 'fe80::/10']);

/** hostOf reads a target URL's host (brackets of an IPv6 address removed); undefined for an unusable URL. */
export function hostOf(url: string): string | undefined {
  try {
    return normalizeIp(new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase());
  } catch {
    return undefined;
  }
}

/** neighbourhood is what "the same range" means for a host: its /24, its IPv6 /48, or its domain. */
function neighbourhood(host: string): string {
  if (isIPv4(host)) return host.split('.').slice(0, 3).join('.');
  if (isIPv6(host)) return expand(host).slice(0, 3).join(':');
  return host.split('.').slice(1).join('.');
}

function expand(v6: string): string[] {
  const [head, tail] = v6.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  return [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
}

/** UsualRanges knows the ranges of the targets before a change. */
export class UsualRanges {
  private readonly known: Set<string>;

  constructor(urls: readonly string[]) {
    this.known = new Set(urls.map(hostOf).filter((h): h is string => h !== undefined).map(neighbourhood));
  }

  /** unusual says why a target's host is outside the usual ranges, or undefined when it is inside. */
  unusual(url: string): string | undefined {
    const host = hostOf(url);
    if (host === undefined) return undefined;
    const ip = isIPv4(host) || isIPv6(host);
    if (ip && LINK_LOCAL(host)) return 'a link-local address (cloud metadata services live there)';
    if (ip && PRIVATE(host)) return undefined;
    if (!ip && (!host.includes('.') || host === 'localhost')) return undefined;
    if (this.known.has(neighbourhood(host))) return undefined;
    return ip ? 'a public address in no range the other targets use' : 'a host in no domain the other targets use';
  }
}
