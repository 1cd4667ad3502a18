/**
 * The ClientHello parser on real ClientHellos (captured from node's TLS
 * client), whole, cut at every byte (TCP segments), re-framed into many small
 * TLS records (handshake fragmentation), and broken in the ways a hostile
 * client would; and the SNI table's order: exact, longest wildcard, catch-all.
 */
import { once } from 'node:events';
import { createServer } from 'node:net';
import { connect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { parseClientHello } from '../../src/streams/client-hello.js';
import { SniTable } from '../../src/streams/sni-table.js';

/** captureHello returns the first bytes node's TLS client sends (its ClientHello), with or without an SNI. */
async function captureHello(servername: string | undefined): Promise<Buffer> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const got = new Promise<Buffer>((resolve) => server.once('connection', (s) => s.once('data', (d: Buffer) => (s.destroy(), resolve(d)))));
  const port = (server.address() as { port: number }).port;
  const c = connect({ host: '127.0.0.1', port, ...(servername ? { servername } : {}), rejectUnauthorized: false });
  c.on('error', () => undefined);
  const hello = await got;
  c.destroy();
  server.close();
  return hello;
}

/** reframe splits one record's handshake payload into records of `size` bytes. */
function reframe(hello: Buffer, size: number): Buffer {
  const payload = hello.subarray(5, 5 + hello.readUInt16BE(3));
  const out: Buffer[] = [];
  for (let i = 0; i < payload.length; i += size) {
    const part = payload.subarray(i, i + size);
    const head = Buffer.from([0x16, 0x03, 0x01, 0, 0]);
    head.writeUInt16BE(part.length, 3);
    out.push(head, part);
  }
  return Buffer.concat(out);
}

describe('parseClientHello', () => {
  it('reads the SNI of a real ClientHello, lowercased, and needs more bytes until it is complete', async () => {
    const hello = await captureHello('API.Example.test');
    expect(parseClientHello(hello)).toEqual({ kind: 'done', sni: 'api.example.test' });
    for (let cut = 1; cut < hello.length; cut++) expect(parseClientHello(hello.subarray(0, cut)).kind, `cut at ${cut}`).toBe('more');
  });

  it('joins a ClientHello fragmented over many TLS records', async () => {
    const hello = await captureHello('db.example.test');
    for (const size of [1, 7, 50, 200]) {
      const framed = reframe(hello, size);
      expect(parseClientHello(framed), `records of ${size}`).toEqual({ kind: 'done', sni: 'db.example.test' });
      expect(parseClientHello(framed.subarray(0, framed.length - 1)).kind).toBe('more');
    }
  });

  it('reports no SNI when the client sends none (an IP address)', async () => {
    expect(parseClientHello(await captureHello(undefined))).toEqual({ kind: 'done', sni: undefined });
  });

  it.each([
    ['plain text', Buffer.from('GET / HTTP/1.1\r\n'), 'not a TLS handshake'],
    ['an alert record', Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28]), 'not a TLS handshake'],
    ['SSLv2-style version', Buffer.from([0x16, 0x02, 0x00, 0x00, 0x04, 1, 0, 0, 0]), 'unknown TLS record version'],
    ['an empty record', Buffer.from([0x16, 0x03, 0x01, 0x00, 0x00]), 'empty handshake record'],
    ['a ServerHello first', Buffer.from([0x16, 0x03, 0x03, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00]), 'the first handshake message is not a ClientHello'],
  ])('refuses %s', (_name, bytes, reason) => {
    expect(parseClientHello(bytes)).toEqual({ kind: 'invalid', reason });
  });

  it('refuses lengths that overrun the hello, never reading past it', async () => {
    const hello = Buffer.from(await captureHello('x.example.test'));
    // The session id length byte sits after 5 (record) + 4 (handshake) + 2 (version) + 32 (random).
    const broken = Buffer.from(hello);
    broken[43] = 0xff;
    expect(parseClientHello(broken).kind).toBe('invalid');
    // A server name that is not a DNS name.
    const at = hello.indexOf(Buffer.from('x.example.test'));
    const bad = Buffer.from(hello);
    bad[at] = 0x00;
    expect(parseClientHello(bad)).toEqual({ kind: 'invalid', reason: 'server name is not a DNS name' });
  });
});

describe('SniTable', () => {
  const t = new SniTable<string>();
  t.add('api.example.com', 'exact');
  t.add('*.example.com', 'wild');
  t.add('*.eu.example.com', 'eu');
  t.add(undefined, 'rest');
  it.each([
    ['api.example.com', 'exact'],
    ['www.example.com', 'wild'],
    ['a.b.example.com', 'wild'],
    ['x.eu.example.com', 'eu'],
    ['example.com', 'rest'],
    ['other.test', 'rest'],
    [undefined, 'rest'],
  ])('%s → %s', (sni, route) => expect(t.match(sni)).toBe(route));

  it('without a catch-all, an unknown name finds nothing', () => {
    const only = new SniTable<string>();
    only.add('a.test', 'a');
    expect(only.match('b.test')).toBeUndefined();
    expect(only.match(undefined)).toBeUndefined();
  });
});
