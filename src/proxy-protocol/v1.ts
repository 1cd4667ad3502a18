/**
 * The strict PROXY protocol v1 parser: one text line
 * `PROXY TCP4|TCP6 <src> <dst> <srcport> <dstport>\r\n` or
 * `PROXY UNKNOWN[ <anything>]\r\n`, at most 107 bytes with the CRLF. Strict
 * means single spaces, canonical addresses of the stated family, decimal
 * ports 0–65535 without leading zeros, nothing but printable ASCII, and a
 * bare LF or CR refused: a header that two parsers could read differently is
 * not accepted.
 */
import { bytesToIpv6, ipv4ToBytes, ipv6ToBytes } from './address.js';
import { ProxyProtocolError } from './errors.js';
import type { ProxyHeader } from './header.js';

/** V1_PREFIX starts every v1 header. */
export const V1_PREFIX = Buffer.from('PROXY ', 'latin1');

/** V1_MAX_BYTES is the longest v1 header the spec allows, CRLF included. */
export const V1_MAX_BYTES = 107;

const PORT = /^(0|[1-9][0-9]{0,4})$/;

/** ParseResult is a complete header and how many bytes it took. */
export interface ParseResult {
  readonly header: ProxyHeader;
  readonly length: number;
}

/**
 * parseV1 reads a v1 header from the start of `buf`: the header and its
 * length, undefined when more bytes are needed, or a thrown
 * ProxyProtocolError when the bytes can never become a valid header.
 */
export function parseV1(buf: Buffer): ParseResult | undefined {
  const prefix = Math.min(buf.length, V1_PREFIX.length);
  if (buf.compare(V1_PREFIX, 0, prefix, 0, prefix) !== 0) throw new ProxyProtocolError('malformed', 'not a PROXY v1 header');
  const limit = Math.min(buf.length, V1_MAX_BYTES - 1); // the CR may sit at most at byte 105, the LF at 106
  let end = -1;
  for (let i = 0; i < limit; i++) {
    const c = buf[i]!;
    if (c === 0x0d) {
      if (i + 1 >= buf.length) return undefined; // the LF may follow
      if (buf[i + 1] !== 0x0a) throw new ProxyProtocolError('malformed', 'PROXY v1 header has a CR without LF');
      end = i;
      break;
    }
    if (c < 0x20 || c > 0x7e) throw new ProxyProtocolError('malformed', `PROXY v1 header has a non-printable byte 0x${c.toString(16)}`);
  }
  if (end < 0) {
    if (buf.length >= V1_MAX_BYTES - 1) throw new ProxyProtocolError('oversize', `PROXY v1 header longer than ${V1_MAX_BYTES} bytes`);
    return undefined;
  }
  const line = buf.toString('latin1', 0, end);
  return { header: parseLine(line), length: end + 2 };
}

/** parseLine checks the fields of a complete line (without CRLF). */
function parseLine(line: string): ProxyHeader {
  const fields = line.split(' ');
  const proto = fields[1];
  if (proto === 'UNKNOWN') {
    // The spec: the receiver ignores whatever follows UNKNOWN and uses the real peer.
    return { version: 'v1', command: 'proxy', transport: 'unknown', tlvs: [] };
  }
  if (proto !== 'TCP4' && proto !== 'TCP6') throw new ProxyProtocolError('malformed', `PROXY v1 header has an unknown protocol "${proto ?? ''}"`);
  if (fields.length !== 6) throw new ProxyProtocolError('malformed', 'PROXY v1 header needs exactly: PROXY proto src dst srcport dstport, single spaces');
  const [, , src, dst, sport, dport] = fields as [string, string, string, string, string, string];
  const valid = proto === 'TCP4' ? ipv4ToBytes : ipv6ToBytes;
  if (!valid(src) || !valid(dst)) throw new ProxyProtocolError('malformed', `PROXY v1 header has an address that is not canonical ${proto}`);
  return {
    version: 'v1',
    command: 'proxy',
    transport: proto === 'TCP4' ? 'tcp4' : 'tcp6',
    source: { address: normalise(proto, src), port: port(sport) },
    destination: { address: normalise(proto, dst), port: port(dport) },
    tlvs: [],
  };
}

/** normalise renders IPv6 text in RFC 5952 form so the claimed address compares equal to what node reports for a peer. */
function normalise(proto: 'TCP4' | 'TCP6', address: string): string {
  return proto === 'TCP4' ? address : bytesToIpv6(ipv6ToBytes(address)!);
}

/** port parses a decimal port without leading zeros. */
function port(text: string): number {
  const n = PORT.test(text) ? Number(text) : NaN;
  if (!(n >= 0 && n <= 65535)) throw new ProxyProtocolError('malformed', `PROXY v1 header has an invalid port "${text.slice(0, 8)}"`);
  return n;
}
