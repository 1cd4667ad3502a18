/**
 * The strict PROXY protocol parsers, table-driven: every valid shape the
 * spec defines, and the hostile ones — garbage, oversize, truncation at
 * every byte, wrong signatures, TLVs that overflow, v1/v2 mix-ups.
 */
import { describe, expect, it } from 'vitest';
import { claimedSource, crc32c, encodeV2, parseProxyHeader, parseV1, parseV2, ProxyProtocolError, TLV, V2_SIGNATURE } from '../../src/proxy-protocol/index.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/** v2 builds a raw v2 header from its parts, without the encoder's checks, for hostile cases. */
function v2(verCmd: number, fam: number, body: Buffer, length = body.length): Buffer {
  const fixed = Buffer.alloc(16);
  V2_SIGNATURE.copy(fixed);
  fixed[12] = verCmd;
  fixed[13] = fam;
  fixed.writeUInt16BE(length, 14);
  return Buffer.concat([fixed, body]);
}
const inet4 = Buffer.from([192, 0, 2, 1, 198, 51, 100, 7, 0x30, 0x39, 0x01, 0xbb]); // 192.0.2.1:12345 → 198.51.100.7:443
const tlv = (type: number, value: Buffer, len = value.length): Buffer => Buffer.concat([Buffer.from([type, len >> 8, len & 0xff]), value]);

describe('v1 parser: valid headers', () => {
  it.each([
    ['PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\n', 'tcp4', '192.0.2.1', 56324, '198.51.100.7', 443],
    ['PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n', 'tcp4', '0.0.0.0', 0, '255.255.255.255', 65535],
    ['PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n', 'tcp6', '2001:db8::1', 1, '2001:db8::2', 2],
    ['PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::1 1 2\r\n', 'tcp6', '2001:db8::1', 1, '::1', 2],
    ['PROXY TCP6 ::ffff:192.0.2.1 ::1 80 81\r\n', 'tcp6', '::ffff:192.0.2.1', 80, '::1', 81],
  ])('%j', (line, transport, src, sport, dst, dport) => {
    const r = parseV1(b(line))!;
    expect(r.length).toBe(line.length);
    expect(r.header).toEqual({ version: 'v1', command: 'proxy', transport, source: { address: src, port: sport }, destination: { address: dst, port: dport }, tlvs: [] });
    expect(claimedSource(r.header)).toEqual({ address: src, port: sport });
  });

  it.each(['PROXY UNKNOWN\r\n', 'PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n'])('%j is UNKNOWN: the real peer is used', (line) => {
    const r = parseV1(b(line))!;
    expect(r.length).toBe(line.length);
    expect(r.header.transport).toBe('unknown');
    expect(claimedSource(r.header)).toBeUndefined();
  });

  it('leaves the payload after the CRLF alone', () => {
    const r = parseV1(b('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nGET / HTTP/1.1\r\n'))!;
    expect(r.length).toBe('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n'.length);
  });

  it('accepts the longest legal line (107 bytes) and nothing longer', () => {
    const max = 'PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n';
    expect(max.length).toBe(104);
    expect(parseV1(b(max))!.length).toBe(104);
    const long = `PROXY UNKNOWN ${'x'.repeat(91)}\r\n`;
    expect(long.length).toBe(107);
    expect(parseV1(b(long))!.length).toBe(107);
    expect(() => parseV1(b(`PROXY UNKNOWN ${'x'.repeat(92)}\r\n`))).toThrow(/longer than 107/);
  });
});

describe('v1 parser: hostile headers are refused', () => {
  it.each([
    ['double space', 'PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n'],
    ['trailing space', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n'],
    ['missing field', 'PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n'],
    ['extra field', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n'],
    ['lower-case protocol', 'PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n'],
    ['unknown protocol', 'PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n'],
    ['octet over 255', 'PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n'],
    ['leading zero octet (octal trickery)', 'PROXY TCP4 010.0.0.1 5.6.7.8 1 2\r\n'],
    ['short IPv4', 'PROXY TCP4 10.1 5.6.7.8 1 2\r\n'],
    ['IPv6 under TCP4', 'PROXY TCP4 ::1 ::1 1 2\r\n'],
    ['IPv4 under TCP6', 'PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n'],
    ['IPv6 zone id', 'PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n'],
    ['two ::', 'PROXY TCP6 1::2::3 ::1 1 2\r\n'],
    ['port over 65535', 'PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n'],
    ['port with leading zero', 'PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n'],
    ['negative port', 'PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n'],
    ['hex port', 'PROXY TCP4 1.2.3.4 5.6.7.8 0x50 2\r\n'],
    ['bare LF', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n'],
    ['CR not followed by LF', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX'],
    ['tab', 'PROXY TCP4\t1.2.3.4 5.6.7.8 1 2\r\n'],
    ['NUL byte', 'PROXY TCP4 1.2.3.4\x005.6.7.8 1 2\r\n'],
    ['lower-case prefix', 'proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n'],
    ['HTTP request', 'GET / HTTP/1.1\r\n\r\n'],
    ['no CRLF in 107 bytes', `PROXY TCP4 ${'1'.repeat(120)}`],
  ])('%s', (_name, line) => {
    expect(() => parseV1(b(line))).toThrow(ProxyProtocolError);
  });

  it('a prefix of a valid header asks for more, byte by byte; garbage fails at its first byte', () => {
    const line = b('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n');
    for (let n = 0; n < line.length; n++) expect(parseV1(line.subarray(0, n)), `${n} bytes`).toBeUndefined();
    expect(() => parseV1(b('X'))).toThrow(/not a PROXY v1/);
    expect(() => parseV1(b('PROXZ'))).toThrow(/not a PROXY v1/);
  });
});

describe('v2 parser: valid headers', () => {
  it('TCP over IPv4', () => {
    const r = parseV2(v2(0x21, 0x11, inet4))!;
    expect(r.length).toBe(28);
    expect(r.header).toEqual({ version: 'v2', command: 'proxy', transport: 'tcp4', source: { address: '192.0.2.1', port: 12345 }, destination: { address: '198.51.100.7', port: 443 }, tlvs: [] });
  });

  it('UDP over IPv6, rendered as node renders peers', () => {
    const body = Buffer.alloc(36);
    body[15] = 1; // ::1
    body.writeUInt16BE(0x2001, 16);
    body.writeUInt16BE(0x0db8, 18);
    body[31] = 2; // 2001:db8::2
    body.writeUInt16BE(53, 32);
    body.writeUInt16BE(5353, 34);
    const r = parseV2(v2(0x21, 0x22, body))!;
    expect(r.header).toMatchObject({ transport: 'udp6', source: { address: '::1', port: 53 }, destination: { address: '2001:db8::2', port: 5353 } });
  });

  it('UNIX stream: paths up to the NUL, and no claimed address', () => {
    const body = Buffer.alloc(216);
    body.write('/run/a.sock', 0);
    body.write('/run/b.sock', 108);
    const r = parseV2(v2(0x21, 0x31, body))!;
    expect(r.header).toMatchObject({ transport: 'unix-stream', source: { address: '/run/a.sock', port: 0 }, destination: { address: '/run/b.sock', port: 0 } });
    expect(claimedSource(r.header)).toBeUndefined();
  });

  it('LOCAL (a balancer health check): addresses ignored, the real peer is used', () => {
    for (const [fam, body] of [
      [0x00, Buffer.alloc(0)],
      [0x11, inet4],
    ] as const) {
      const r = parseV2(v2(0x20, fam, body))!;
      expect(r.header.command).toBe('local');
      expect(r.header.source).toBeUndefined();
      expect(claimedSource(r.header)).toBeUndefined();
    }
  });

  it('UNSPEC under PROXY: no addresses', () => {
    const r = parseV2(v2(0x21, 0x00, Buffer.alloc(0)))!;
    expect(r.header.transport).toBe('unknown');
    expect(claimedSource(r.header)).toBeUndefined();
  });

  it('TLVs are kept in order, unknown types included (AWS 0xEA), the SSL TLV with its sub-TLVs', () => {
    const ssl = Buffer.concat([Buffer.from([0x01, 0, 0, 0, 0]), tlv(0x21, b('TLSv1.3'))]);
    const body = Buffer.concat([inet4, tlv(TLV.ALPN, b('h2')), tlv(0xea, b('\x01vpce-0123')), tlv(TLV.SSL, ssl), tlv(TLV.NOOP, Buffer.alloc(0))]);
    const r = parseV2(v2(0x21, 0x11, body))!;
    expect(r.header.tlvs.map((t) => [t.type, t.value.length])).toEqual([
      [TLV.ALPN, 2],
      [0xea, 10],
      [TLV.SSL, ssl.length],
      [TLV.NOOP, 0],
    ]);
    expect(r.header.tlvs[0]!.value.toString()).toBe('h2');
  });

  it('a CRC32C TLV is verified', () => {
    const good = encodeV2({ source: { address: '192.0.2.1', port: 1 }, destination: { address: '192.0.2.2', port: 2 }, crc32c: true });
    expect(parseV2(good)!.header.tlvs[0]!.type).toBe(TLV.CRC32C);
    const bad = Buffer.from(good);
    bad[16] = bad[16]! ^ 1; // flip a bit of the source address
    expect(() => parseV2(bad)).toThrow(expect.objectContaining({ reason: 'checksum' }));
  });

  it('crc32c matches the standard check value', () => {
    expect(crc32c(b('123456789'))).toBe(0xe3069283);
  });

  it('a prefix of a valid header asks for more, byte by byte', () => {
    const h = Buffer.concat([v2(0x21, 0x11, Buffer.concat([inet4, tlv(TLV.ALPN, b('h2'))])), b('GET')]);
    for (let n = 0; n < h.length - 3; n++) expect(parseV2(h.subarray(0, n)), `${n} bytes`).toBeUndefined();
    expect(parseV2(h)!.length).toBe(h.length - 3);
  });
});

describe('v2 parser: hostile headers are refused', () => {
  it.each<[string, Buffer, string]>([
    ['wrong signature', Buffer.concat([b('\r\n\r\n\0\r\nQUIX\n'), Buffer.from([0x21, 0x11, 0, 12]), inet4]), 'malformed'],
    ['version 1 in the version nibble', v2(0x11, 0x11, inet4), 'malformed'],
    ['version 3', v2(0x31, 0x11, inet4), 'malformed'],
    ['unknown command', v2(0x22, 0x11, inet4), 'malformed'],
    ['unknown family', v2(0x21, 0x41, inet4), 'malformed'],
    ['unknown transport', v2(0x21, 0x13, inet4), 'malformed'],
    ['INET with UNSPEC transport', v2(0x21, 0x10, inet4), 'malformed'],
    ['length shorter than the IPv4 block', v2(0x21, 0x11, inet4.subarray(0, 11)), 'malformed'],
    ['length shorter than the IPv6 block', v2(0x21, 0x21, Buffer.alloc(35)), 'malformed'],
    ['length shorter than the UNIX block', v2(0x21, 0x31, Buffer.alloc(215)), 'malformed'],
    ['length over the cap', v2(0x21, 0x11, inet4, 0xffff), 'oversize'],
    ['TLV overflows the header', v2(0x21, 0x11, Buffer.concat([inet4, tlv(TLV.ALPN, b('h2'), 200)])), 'malformed'],
    ['header ends inside a TLV head', v2(0x21, 0x11, Buffer.concat([inet4, Buffer.from([TLV.ALPN, 0])])), 'malformed'],
    ['CRC32C TLV of 3 bytes', v2(0x21, 0x11, Buffer.concat([inet4, tlv(TLV.CRC32C, Buffer.alloc(3))])), 'malformed'],
    ['two CRC32C TLVs', v2(0x21, 0x11, Buffer.concat([inet4, tlv(TLV.CRC32C, Buffer.alloc(4)), tlv(TLV.CRC32C, Buffer.alloc(4))])), 'malformed'],
    ['UNIQUE_ID over 128 bytes', v2(0x21, 0x11, Buffer.concat([inet4, tlv(TLV.UNIQUE_ID, Buffer.alloc(129))])), 'malformed'],
    ['SSL TLV under 5 bytes', v2(0x21, 0x11, Buffer.concat([inet4, tlv(TLV.SSL, Buffer.alloc(4))])), 'malformed'],
    ['SSL sub-TLV overflows', v2(0x21, 0x11, Buffer.concat([inet4, tlv(TLV.SSL, Buffer.concat([Buffer.alloc(5), Buffer.from([0x21, 0, 9, 1])]))])), 'malformed'],
  ])('%s', (_name, buf, reason) => {
    expect(() => parseV2(buf)).toThrow(expect.objectContaining({ reason }));
  });

  it('a smaller cap refuses a header the default accepts', () => {
    const h = v2(0x21, 0x11, Buffer.concat([inet4, tlv(0xe0, Buffer.alloc(100))]));
    expect(parseV2(h)).toBeDefined();
    expect(() => parseV2(h, 64)).toThrow(expect.objectContaining({ reason: 'oversize' }));
  });
});

describe('either version (parseProxyHeader)', () => {
  const v1line = b('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n');
  const v2head = v2(0x21, 0x11, inet4);

  it.each<[string, Buffer, ('v1' | 'v2')[], string]>([
    ['v1 where only v2 is accepted', v1line, ['v2'], 'version'],
    ['v2 where only v1 is accepted', v2head, ['v1'], 'version'],
    ['a v1 line glued to the v2 signature', Buffer.concat([V2_SIGNATURE, v1line]), ['v1', 'v2'], 'malformed'],
    ['the v2 signature after a v1 prefix', Buffer.concat([b('PROXY '), V2_SIGNATURE]), ['v1', 'v2'], 'malformed'],
    ['a TLS ClientHello', Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]), ['v1', 'v2'], 'malformed'],
    ['an HTTP request', b('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), ['v1', 'v2'], 'malformed'],
    ['an HTTP/2 preface', b('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), ['v1', 'v2'], 'malformed'],
  ])('%s', (_name, buf, versions, reason) => {
    expect(() => parseProxyHeader(buf, { versions })).toThrow(expect.objectContaining({ reason }));
  });

  it('waits for enough bytes to tell the versions apart', () => {
    expect(parseProxyHeader(b('\r\n'))).toBeUndefined();
    expect(parseProxyHeader(b('PRO'))).toBeUndefined();
    expect(parseProxyHeader(v1line)!.header.version).toBe('v1');
    expect(parseProxyHeader(v2head)!.header.version).toBe('v2');
  });

  it('random garbage never throws anything but a ProxyProtocolError, and never claims an address', () => {
    let seed = 42;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    for (let i = 0; i < 2000; i++) {
      const n = Math.floor(rand() * 80);
      const buf = Buffer.concat([i % 2 ? V2_SIGNATURE : b('PROXY '), Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)))]);
      try {
        const r = parseProxyHeader(buf);
        if (r) expect(r.length).toBeLessThanOrEqual(buf.length);
      } catch (err) {
        expect(err).toBeInstanceOf(ProxyProtocolError);
      }
    }
  });
});
