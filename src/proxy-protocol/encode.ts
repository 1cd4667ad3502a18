/**
 * The PROXY protocol encoders, for sending a client's address to an upstream
 * (v1 text or v2 binary). They throw on an address that does not match its
 * transport, so a gateway never sends a header the strict parsers refuse.
 */
import { normalizeIp } from '../http/client-ip.js';
import { bytesToIpv4, bytesToIpv6, ipv4ToBytes, ipv6ToBytes } from './address.js';
import { crc32c } from './crc32c.js';
import { TLV, type ProxyEndpoint, type ProxyTlv } from './header.js';
import { V2_FIXED_BYTES, V2_SIGNATURE } from './v2.js';

/** EncodeInput describes a connection: `local` (v2) or no addresses sends a header that tells the receiver to use the real peer. */
export interface EncodeInput {
  readonly command?: 'proxy' | 'local';
  readonly transport?: 'tcp' | 'udp';
  readonly source?: ProxyEndpoint;
  readonly destination?: ProxyEndpoint;
  /** tlvs are appended in order (v2 only). */
  readonly tlvs?: readonly ProxyTlv[];
  /** crc32c appends a PP2_TYPE_CRC32C extension (v2 only); off by default, as HAProxy. */
  readonly crc32c?: boolean;
}

/**
 * familyOf tells IPv4 from IPv6 for a pair of endpoints; both must be of one
 * family. An IPv4-mapped address (::ffff:a.b.c.d) counts as IPv4 when the
 * other end is IPv4 or mapped too (a dual-stack listener's peer next to an
 * IPv4 upstream); next to a real IPv6 address it stays IPv6.
 */
function familyOf(source: ProxyEndpoint, destination: ProxyEndpoint): { v: 4 | 6; src: Buffer; dst: Buffer } {
  const s4 = ipv4ToBytes(normalizeIp(source.address));
  const d4 = ipv4ToBytes(normalizeIp(destination.address));
  if (s4 && d4) return { v: 4, src: s4, dst: d4 };
  const s6 = ipv4ToBytes(source.address) ? undefined : ipv6ToBytes(source.address);
  const d6 = ipv4ToBytes(destination.address) ? undefined : ipv6ToBytes(destination.address);
  if (s6 && d6) return { v: 6, src: s6, dst: d6 };
  throw new TypeError(`PROXY header: source ${source.address} and destination ${destination.address} are not both IPv4 or both IPv6`);
}

/** checkPort refuses a port outside 0–65535. */
function checkPort(p: number): number {
  if (!Number.isInteger(p) || p < 0 || p > 65535) throw new TypeError(`PROXY header: invalid port ${p}`);
  return p;
}

/** encodeV1 renders a v1 line; without addresses (or for UDP, which v1 cannot express) it sends `PROXY UNKNOWN`. */
export function encodeV1(input: EncodeInput): Buffer {
  const { source, destination } = input;
  if (input.command === 'local' || !source || !destination || input.transport === 'udp') return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
  const { v, src, dst } = familyOf(source, destination);
  const text = v === 4 ? bytesToIpv4 : bytesToIpv6; // canonical text, the form the strict parser accepts
  const line = `PROXY TCP${v} ${text(src)} ${text(dst)} ${checkPort(source.port)} ${checkPort(destination.port)}\r\n`;
  return Buffer.from(line, 'latin1');
}

/** encodeV2 renders a v2 header; without addresses it sends family UNSPEC. */
export function encodeV2(input: EncodeInput): Buffer {
  const { source, destination } = input;
  const parts: Buffer[] = [];
  let famByte = 0x00;
  if (source && destination) {
    const { v, src, dst } = familyOf(source, destination);
    famByte = (v === 4 ? 0x10 : 0x20) | (input.transport === 'udp' ? 0x02 : 0x01);
    const ports = Buffer.alloc(4);
    ports.writeUInt16BE(checkPort(source.port), 0);
    ports.writeUInt16BE(checkPort(destination.port), 2);
    parts.push(src, dst, ports);
  }
  for (const t of input.tlvs ?? []) parts.push(tlv(t.type, t.value));
  const crcAt = parts.reduce((n, p) => n + p.length, V2_FIXED_BYTES);
  if (input.crc32c) parts.push(tlv(TLV.CRC32C, Buffer.alloc(4)));
  const body = Buffer.concat(parts);
  if (body.length > 0xffff) throw new TypeError('PROXY v2 header: addresses and TLVs exceed 65535 bytes');
  const fixed = Buffer.alloc(V2_FIXED_BYTES);
  V2_SIGNATURE.copy(fixed, 0);
  fixed[12] = 0x20 | (input.command === 'local' ? 0x00 : 0x01);
  fixed[13] = famByte;
  fixed.writeUInt16BE(body.length, 14);
  const out = Buffer.concat([fixed, body]);
  if (input.crc32c) out.writeUInt32BE(crc32c(out), crcAt + 3);
  return out;
}

/** tlv renders one type-length-value record. */
function tlv(type: number, value: Buffer): Buffer {
  if (!Number.isInteger(type) || type < 0 || type > 255) throw new TypeError(`PROXY v2 TLV: invalid type ${type}`);
  const head = Buffer.alloc(3);
  head[0] = type;
  head.writeUInt16BE(value.length, 1);
  return Buffer.concat([head, value]);
}
