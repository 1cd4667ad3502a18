/**
 * ip-filter: allows or denies requests by client address. The address is
 * `req.clientIp`, which the core derives from the socket peer and, only
 * behind proxies listed in `trustProxy`, from X-Forwarded-For; a client
 * cannot choose it by sending headers. Lists are compiled once into
 * node:net BlockLists (IPv4 and IPv6, single addresses or CIDRs).
 *
 * A denied address gets 403 with the catalog's SY_ERR_FORBIDDEN body. `deny`
 * wins over `allow`; with an `allow` list, addresses not in it are denied.
 */
import { BlockList, isIP, isIPv6 } from 'node:net';
import { validateTrustProxy } from '../../../http/index.js';
import { definePlugin } from '../../define.js';
import type { Answer } from '../../types.js';
import { manifest } from './schema.js';

/** compileList builds a BlockList from addresses and CIDRs; throws naming every malformed entry. */
export function compileList(entries: readonly string[], option: string): BlockList {
  const problems = entries.map(validateTrustProxy).filter((p): p is string => p !== undefined);
  if (problems.length > 0) throw new Error(`${option}: ${problems.join('; ')}`);
  const list = new BlockList();
  for (const entry of entries) {
    const [addr, bits] = entry.split('/') as [string, string | undefined];
    const type = isIPv6(addr) ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(bits), type);
  }
  return list;
}

const FORBIDDEN: Answer = Object.freeze({ status: 403, code: 'SY_ERR_FORBIDDEN' });

export default definePlugin({
  ...manifest,
  create(opts, ctx) {
    if (opts.allow.length === 0 && opts.deny.length === 0) throw new Error('give an allow list, a deny list, or both');
    const allow = opts.allow.length > 0 ? compileList(opts.allow, 'allow') : undefined;
    const deny = opts.deny.length > 0 ? compileList(opts.deny, 'deny') : undefined;
    const { metrics } = ctx;
    const refuse = (reason: string): Answer => {
      metrics.count('ip_rejected', { plugin: 'ip-filter', reason });
      return FORBIDDEN;
    };
    return {
      onRequest(req) {
        const ip = req.clientIp;
        const family = isIP(ip);
        // No address (a socket already gone): nothing to match, so nothing is let through.
        if (family === 0) return refuse('unknown');
        const type = family === 6 ? 'ipv6' : 'ipv4';
        if (deny !== undefined && deny.check(ip, type)) return refuse('denied');
        if (allow !== undefined && !allow.check(ip, type)) return refuse('not_allowed');
        return undefined;
      },
    };
  },
});
