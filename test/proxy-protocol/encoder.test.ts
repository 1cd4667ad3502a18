/**
 * The encoders: what they write, the strict parsers read back unchanged, and
 * what they cannot express they refuse or replace by the "use the real peer"
 * form, never by a header a strict receiver refuses.
 */
import { describe, expect, it } from 'vitest';
import { encodeV1, encodeV2, parseV1, parseV2, TLV, type EncodeInput } from '../../src/proxy-protocol/index.js';

const four = { source: { address: '192.0.2.1', port: 51000 }, destination: { address: '198.51.100.7', port: 5432 } };
const six = { source: { address: '2001:db8::1', port: 51000 }, destination: { address: '::ffff:10.0.0.1', port: 443 } };

describe('encodeV1', () => {
  it('writes the canonical line', () => {
    expect(encodeV1(four).toString()).toBe('PROXY TCP4 192.0.2.1 198.51.100.7 51000 5432\r\n');
    expect(encodeV1(six).toString()).toBe('PROXY TCP6 2001:db8::1 ::ffff:10.0.0.1 51000 443\r\n'); // a mapped address next to IPv6 stays IPv6
  });

  it('an IPv4-mapped peer next to an IPv4 address is written as TCP4; IPv6 text is canonical', () => {
    expect(encodeV1({ source: { address: '::ffff:192.0.2.1', port: 1 }, destination: { address: '10.0.0.1', port: 2 } }).toString()).toBe('PROXY TCP4 192.0.2.1 10.0.0.1 1 2\r\n');
    expect(encodeV1({ source: { address: '2001:DB8:0:0:0:0:0:1', port: 1 }, destination: { address: '::1', port: 2 } }).toString()).toBe('PROXY TCP6 2001:db8::1 ::1 1 2\r\n');
    expect(parseV2(encodeV2({ source: { address: '::ffff:192.0.2.1', port: 1 }, destination: { address: '10.0.0.1', port: 2 } }))!.header).toMatchObject({ transport: 'tcp4', source: { address: '192.0.2.1' } });
  });

  it.each<[string, EncodeInput]>([
    ['no addresses', {}],
    ['local', { ...four, command: 'local' }],
    ['udp (v1 has no UDP)', { ...four, transport: 'udp' }],
  ])('%s → PROXY UNKNOWN', (_n, input) => {
    expect(encodeV1(input).toString()).toBe('PROXY UNKNOWN\r\n');
  });

  it.each([
    ['mixed families', { source: four.source, destination: six.source }],
    ['a host name', { source: { address: 'example.com', port: 1 }, destination: four.destination }],
    ['port out of range', { source: { address: '192.0.2.1', port: 70000 }, destination: four.destination }],
  ])('refuses %s', (_n, input) => {
    expect(() => encodeV1(input)).toThrow(TypeError);
  });
});

describe('encodeV2', () => {
  it.each<[string, EncodeInput, string]>([
    ['tcp4', four, 'tcp4'],
    ['tcp6', six, 'tcp6'],
    ['udp4', { ...four, transport: 'udp' }, 'udp4'],
    ['udp6', { ...six, transport: 'udp' }, 'udp6'],
  ])('%s round-trips through the strict parser', (_n, input, transport) => {
    const buf = encodeV2(input);
    const r = parseV2(buf)!;
    expect(r.length).toBe(buf.length);
    expect(r.header).toMatchObject({ version: 'v2', command: 'proxy', transport, source: input.source, destination: input.destination });
  });

  it('TLVs and a CRC32C round-trip', () => {
    const buf = encodeV2({ ...four, tlvs: [{ type: TLV.AUTHORITY, value: Buffer.from('db.example.com') }, { type: 0xe1, value: Buffer.alloc(0) }], crc32c: true });
    const r = parseV2(buf)!;
    expect(r.header.tlvs.map((t) => t.type)).toEqual([TLV.AUTHORITY, 0xe1, TLV.CRC32C]);
    expect(r.header.tlvs[0]!.value.toString()).toBe('db.example.com');
  });

  it('local and address-less headers tell the receiver to use the real peer', () => {
    const local = parseV2(encodeV2({ ...four, command: 'local' }))!.header;
    expect(local.command).toBe('local');
    expect(local.source).toBeUndefined();
    const unspec = parseV2(encodeV2({}))!.header;
    expect(unspec).toMatchObject({ command: 'proxy', transport: 'unknown' });
    expect(unspec.source).toBeUndefined();
    expect(encodeV2({}).length).toBe(16);
  });

  it('v1 output parses as v1', () => {
    expect(parseV1(encodeV1(four))!.header.source).toEqual(four.source);
  });

  it('refuses a header over 65535 bytes and a bad TLV type', () => {
    expect(() => encodeV2({ ...four, tlvs: [{ type: 0xe0, value: Buffer.alloc(0xffff) }] })).toThrow(TypeError);
    expect(() => encodeV2({ ...four, tlvs: [{ type: 256, value: Buffer.alloc(1) }] })).toThrow(TypeError);
  });
});
