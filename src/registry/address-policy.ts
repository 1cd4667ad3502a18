/**
 * Which addresses a registration may name. A registered instance becomes a
 * dial target of the gateway, so a registry open to anyone is an SSRF lever:
 * "register 169.254.169.254:80 as ORDERS" would send order traffic, headers
 * and all, to the cloud metadata service. So an address must be an IP literal
 * (a host name could resolve elsewhere by the time it is dialled) inside one
 * of the operator's `allowTargets`, and a few ranges are refused even inside
 * a wider entry such as 0.0.0.0/0, unless an entry lies within them (the
 * operator named them on purpose).
 *
 * Matching uses node:net's BlockList (the runtime's own CIDR matcher).
 */
import { BlockList, isIP } from 'node:net';

/** ALWAYS_REFUSED lists the ranges refused unless an allowTargets entry lies within them, each with why. */
export const ALWAYS_REFUSED: readonly { cidr: string; why: string }[] = [
  { cidr: '0.0.0.0/8', why: 'unspecified ("this host"): 0.0.0.0 dials the gateway itself' },
  { cidr: '169.254.0.0/16', why: 'link-local: cloud metadata services (169.254.169.254)' },
  { cidr: '224.0.0.0/4', why: 'multicast' },
  { cidr: '240.0.0.0/4', why: 'reserved and broadcast (255.255.255.255)' },
  { cidr: '::/128', why: 'unspecified' },
  { cidr: 'fe80::/10', why: 'link-local' },
  { cidr: 'ff00::/8', why: 'multicast' },
  { cidr: 'fd00:ec2::254/128', why: 'the AWS metadata service over IPv6 (inside fc00::/7, which the defaults allow)' },
];

interface Cidr {
  readonly net: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

/** parseCidr reads "a.b.c.d/n", "x::y/n" or a bare address (a /32 or /128); throws on anything else. */
export function parseCidr(text: string): Cidr {
  const [addr = '', len, extra] = text.trim().split('/');
  const v = isIP(addr);
  if (v === 0 || extra !== undefined) throw new Error(`"${text}" is not a CIDR (expected e.g. 10.0.0.0/8 or fd00::/8)`);
  const max = v === 4 ? 32 : 128;
  const prefix = len === undefined ? max : Number(len);
  if (!/^\d{1,3}$/.test(len ?? String(max)) || prefix > max) throw new Error(`"${text}": prefix must be 0..${max}`);
  return { net: addr, prefix, family: v === 4 ? 'ipv4' : 'ipv6' };
}

/** normalizeIp returns the address in the form matched (IPv4-mapped IPv6 such as ::ffff:10.0.0.1 becomes 10.0.0.1), or undefined when it is not an IP literal. */
export function normalizeIp(text: string): { ip: string; family: 'ipv4' | 'ipv6' } | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const v = isIP(bare);
  if (v === 4) return { ip: bare, family: 'ipv4' };
  if (v !== 6) return undefined;
  const mapped = /^(?:0{0,4}:){0,4}:?(?:0{0,4}:)?ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped && isIP(mapped[1]!) === 4) return { ip: mapped[1]!, family: 'ipv4' };
  return { ip: bare.toLowerCase(), family: 'ipv6' };
}

function listOf(cidrs: readonly Cidr[]): BlockList {
  const list = new BlockList();
  for (const c of cidrs) list.addSubnet(c.net, c.prefix, c.family);
  return list;
}

/** AddressVerdict says whether an address may be registered, and why not. */
export type AddressVerdict = { ok: true; ip: string; family: 'ipv4' | 'ipv6' } | { ok: false; reason: string };

/** AddressPolicy decides whether a registered address may become a dial target. */
export class AddressPolicy {
  /** allowTargets is the list as configured (for the admin API and error details). */
  readonly allowTargets: readonly string[];
  private readonly allowed: BlockList;
  /** reopened holds the refused ranges the operator named explicitly. */
  private readonly reopened: BlockList;
  private readonly refused: readonly { range: Cidr; list: BlockList; why: string }[];

  constructor(allowTargets: readonly string[]) {
    const cidrs = allowTargets.map(parseCidr);
    this.allowTargets = Object.freeze([...allowTargets]);
    this.allowed = listOf(cidrs);
    this.refused = ALWAYS_REFUSED.map((r) => {
      const range = parseCidr(r.cidr);
      return { range, list: listOf([range]), why: r.why };
    });
    // An entry re-opens a refused range only when it lies entirely inside it
    // (169.254.0.0/16, or 169.254.10.0/24); a wider one (0.0.0.0/0) does not.
    const inside = cidrs.filter((c) =>
      this.refused.some((r) => r.range.family === c.family && c.prefix >= r.range.prefix && r.list.check(c.net, c.family)),
    );
    this.reopened = listOf(inside);
  }

  /** check tells whether `address` (the registration's ipAddr) may be dialled. */
  check(address: string): AddressVerdict {
    const n = normalizeIp(address);
    if (!n) return { ok: false, reason: `ipAddr "${clip(address)}" is not an IP address (host names are not accepted: they may resolve elsewhere when dialled)` };
    if (!this.reopened.check(n.ip, n.family)) {
      const hit = this.refused.find((r) => r.list.check(n.ip, n.family));
      if (hit) return { ok: false, reason: `ipAddr ${n.ip} is refused: ${hit.why}` };
    }
    if (!this.allowed.check(n.ip, n.family)) return { ok: false, reason: `ipAddr ${n.ip} is outside allowTargets` };
    return { ok: true, ip: n.ip, family: n.family };
  }
}

function clip(s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
}
