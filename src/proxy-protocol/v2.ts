/**
 * The strict PROXY protocol v2 parser: a 16-byte fixed part (12-byte
 * signature, version 2 and command, family and transport, length) then the
 * address block of the family and the TLV extensions. Strict means: only the
 * defined commands and family/transport pairs, an address block at least as
 * long as its family needs, every TLV (and every sub-TLV of PP2_TYPE_SSL)
 * exactly inside the header, at most one CRC32C extension, and when present
 * its checksum verified. Unknown TLV types are kept, as the spec asks.
 */
import { bytesToIpv4, bytesToIpv6 } from './address.js';
import { crc32c } from './crc32c.js';
import { ProxyProtocolError } from './errors.js';
import { TLV, type ProxyCommand, type ProxyEndpoint, type ProxyHeader, type ProxyTlv, type ProxyTransport } from './header.js';
import type { ParseResult } from './v1.js';

/** V2_SIGNATURE starts every v2 header: chosen never to begin a valid HTTP, TLS or v1 stream. */
export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

/** V2_FIXED_BYTES is the signature, version/command, family/transport and the 2-byte length. */
export const V2_FIXED_BYTES = 16;

/** V2_DEFAULT_MAX_BYTES caps a v2 header (addresses plus extensions) unless the caller says otherwise: cloud balancers send well under 1 KiB. */
export const V2_DEFAULT_MAX_BYTES = 4096;

/** FAMILIES maps the v2 family/transport byte to a transport and the address block length it needs. */
const FAMILIES: ReadonlyMap<number, { transport: ProxyTransport; addressBytes: number }> = new Map([
  [0x00, { transport: 'unknown', addressBytes: 0 }],
  [0x11, { transport: 'tcp4', addressBytes: 12 }],
  [0x12, { transport: 'udp4', addressBytes: 12 }],
  [0x21, { transport: 'tcp6', addressBytes: 36 }],
  [0x22, { transport: 'udp6', addressBytes: 36 }],
  [0x31, { transport: 'unix-stream', addressBytes: 216 }],
  [0x32, { transport: 'unix-dgram', addressBytes: 216 }],
]);

/**
 * parseV2 reads a v2 header from the start of `buf`: the header and its
 * length, undefined when more bytes are needed, or a thrown
 * ProxyProtocolError. `maxBytes` caps the whole header (fixed part included).
 */
export function parseV2(buf: Buffer, maxBytes = V2_DEFAULT_MAX_BYTES): ParseResult | undefined {
  const sig = Math.min(buf.length, V2_SIGNATURE.length);
  if (buf.compare(V2_SIGNATURE, 0, sig, 0, sig) !== 0) throw new ProxyProtocolError('malformed', 'not a PROXY v2 header');
  if (buf.length >= 13) {
    const vc = buf[12]!;
    if (vc >> 4 !== 2) throw new ProxyProtocolError('malformed', `PROXY v2 header has version ${vc >> 4}`);
    if ((vc & 0x0f) > 1) throw new ProxyProtocolError('malformed', `PROXY v2 header has an unknown command ${vc & 0x0f}`);
  }
  if (buf.length >= 14 && !FAMILIES.has(buf[13]!)) throw new ProxyProtocolError('malformed', `PROXY v2 header has an unknown family/transport 0x${buf[13]!.toString(16)}`);
  if (buf.length < V2_FIXED_BYTES) return undefined;
  const total = V2_FIXED_BYTES + buf.readUInt16BE(14);
  if (total > maxBytes) throw new ProxyProtocolError('oversize', `PROXY v2 header of ${total} bytes exceeds the ${maxBytes}-byte cap`);
  const family = FAMILIES.get(buf[13]!)!;
  if (total - V2_FIXED_BYTES < family.addressBytes) throw new ProxyProtocolError('malformed', `PROXY v2 header too short for its ${family.transport} addresses`);
  if (buf.length < total) return undefined;
  const header = buf.subarray(0, total);
  const command: ProxyCommand = (buf[12]! & 0x0f) === 1 ? 'proxy' : 'local';
  const tlvs = parseTlvs(header, V2_FIXED_BYTES + family.addressBytes);
  verifyChecksum(header, tlvs);
  const ends = endpoints(header, family.transport);
  return {
    header: { version: 'v2', command, transport: family.transport, ...(command === 'proxy' ? ends : {}), tlvs: tlvs.map(({ type, value }) => ({ type, value })) },
    length: total,
  };
}

/** endpoints decodes the address block of a family (none for UNSPEC). */
function endpoints(h: Buffer, transport: ProxyTransport): { source?: ProxyEndpoint; destination?: ProxyEndpoint } {
  const at = V2_FIXED_BYTES;
  switch (transport) {
    case 'tcp4':
    case 'udp4':
      return {
        source: { address: bytesToIpv4(h, at), port: h.readUInt16BE(at + 8) },
        destination: { address: bytesToIpv4(h, at + 4), port: h.readUInt16BE(at + 10) },
      };
    case 'tcp6':
    case 'udp6':
      return {
        source: { address: bytesToIpv6(h, at), port: h.readUInt16BE(at + 32) },
        destination: { address: bytesToIpv6(h, at + 16), port: h.readUInt16BE(at + 34) },
      };
    case 'unix-stream':
    case 'unix-dgram':
      return { source: { address: unixPath(h, at), port: 0 }, destination: { address: unixPath(h, at + 108), port: 0 } };
    case 'unknown':
      return {};
  }
}

/** unixPath reads a NUL-terminated path from a 108-byte field. */
function unixPath(h: Buffer, at: number): string {
  const field = h.subarray(at, at + 108);
  const nul = field.indexOf(0);
  return field.toString('utf8', 0, nul < 0 ? 108 : nul);
}

/** parseTlvs walks type(1) length(2) value records from `from` to the end of the header; each must fit exactly. */
function parseTlvs(h: Buffer, from: number): Array<ProxyTlv & { offset: number }> {
  const out: Array<ProxyTlv & { offset: number }> = [];
  let at = from;
  while (at < h.length) {
    if (h.length - at < 3) throw new ProxyProtocolError('malformed', 'PROXY v2 header ends inside a TLV');
    const type = h[at]!;
    const len = h.readUInt16BE(at + 1);
    if (at + 3 + len > h.length) throw new ProxyProtocolError('malformed', `PROXY v2 TLV 0x${type.toString(16)} overflows the header`);
    const value = h.subarray(at + 3, at + 3 + len);
    checkTlv(type, value);
    out.push({ type, value: Buffer.from(value), offset: at });
    at += 3 + len;
  }
  return out;
}

/** checkTlv bounds the extensions whose shape the spec fixes. */
function checkTlv(type: number, value: Buffer): void {
  if (type === TLV.CRC32C && value.length !== 4) throw new ProxyProtocolError('malformed', 'PROXY v2 CRC32C TLV is not 4 bytes');
  if (type === TLV.UNIQUE_ID && value.length > 128) throw new ProxyProtocolError('malformed', 'PROXY v2 UNIQUE_ID TLV is over 128 bytes');
  if (type === TLV.SSL) {
    // client (1 byte) and verify (4 bytes), then sub-TLVs that must fit exactly too.
    if (value.length < 5) throw new ProxyProtocolError('malformed', 'PROXY v2 SSL TLV is shorter than 5 bytes');
    let at = 5;
    while (at < value.length) {
      if (value.length - at < 3) throw new ProxyProtocolError('malformed', 'PROXY v2 SSL TLV ends inside a sub-TLV');
      const len = value.readUInt16BE(at + 1);
      if (at + 3 + len > value.length) throw new ProxyProtocolError('malformed', 'PROXY v2 SSL sub-TLV overflows its TLV');
      at += 3 + len;
    }
  }
}

/** verifyChecksum checks a CRC32C extension: the checksum of the whole header with the checksum field zeroed. */
function verifyChecksum(h: Buffer, tlvs: Array<ProxyTlv & { offset: number }>): void {
  const crcs = tlvs.filter((t) => t.type === TLV.CRC32C);
  if (crcs.length === 0) return;
  if (crcs.length > 1) throw new ProxyProtocolError('malformed', 'PROXY v2 header has more than one CRC32C TLV');
  const { offset, value } = crcs[0]!;
  const copy = Buffer.from(h);
  copy.fill(0, offset + 3, offset + 7);
  if (crc32c(copy) !== value.readUInt32BE(0)) throw new ProxyProtocolError('checksum', 'PROXY v2 CRC32C checksum does not match');
}
