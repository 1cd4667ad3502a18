/**
 * The reused-buffer relay (src/streams/relay.ts) and the adoption of an
 * accepted socket: bytes arrive intact and in order both ways although every
 * read lands in the same buffer, including while a slow reader forces writes
 * that do not reach the kernel at once; bytes an accepted socket had read
 * before the splice go first. Both adoptions run: in place (the accepted
 * socket is given net's onread slots) and the fallback that moves the handle
 * into a new Socket.
 */
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, test } from 'vitest';
import { ADOPTION, Relay, type Adoption } from '../../src/streams/relay.js';
import { splice, type Splice } from '../../src/streams/splice.js';

const servers: net.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

async function listen(server: net.Server): Promise<number> {
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

/** gateway splices each accepted connection to an echo upstream; `before` runs on the accepted socket first. */
async function gateway(how: Adoption, before?: (s: net.Socket) => void): Promise<{ port: number; splices: Splice[]; adopted: boolean[]; adoption: (Adoption | undefined)[] }> {
  const echo = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  const upstreamPort = await listen(echo);
  const splices: Splice[] = [];
  const adopted: boolean[] = [];
  const adoption: (Adoption | undefined)[] = [];
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    before?.(client);
    const relay = new Relay();
    const up = net.connect({ port: upstreamPort, host: '127.0.0.1', allowHalfOpen: true, onread: relay.onread });
    up.once('connect', () => {
      up.pause();
      const s = splice(client, up, relay, undefined, 0, { how });
      adopted.push(s.adopted);
      adoption.push(s.adoption);
      splices.push(s);
    });
  });
  return { port: await listen(server), splices, adopted, adoption };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('this Node supports adopting an accepted socket in place (no second Socket per connection)', () => {
  expect(ADOPTION).toBe('in-place');
});

describe.each(['in-place', 'handle'] as const)('adoption %s', (how) => {
  test('16 MB of random bytes come back intact through one reused buffer per direction, with a reader that stalls', async () => {
    const gw = await gateway(how);
    const data = randomBytes(16 * 1024 * 1024);
    const c = net.connect({ port: gw.port, host: '127.0.0.1', allowHalfOpen: true });
    await once(c, 'connect');
    c.pause(); // nothing read yet: the echo and the gateway back up, and the gateway's writes go pending
    const parts: Buffer[] = [];
    const got = new Promise<Buffer>((resolve) => {
      c.on('data', (d: Buffer) => parts.push(d));
      c.once('end', () => resolve(Buffer.concat(parts)));
    });
    let sent = 0;
    const writing = (async () => {
      while (sent < data.length) {
        const chunk = data.subarray(sent, sent + 100_000);
        sent += chunk.length;
        if (!c.write(chunk)) await once(c, 'drain');
      }
      c.end();
    })();
    // Resume once the sender is stuck behind the paused reader (backpressure reached it), not after a fixed time.
    while (c.writableLength === 0 && sent < data.length) await new Promise((r) => setImmediate(r));
    c.resume();
    await writing;
    const back = await got;
    expect(back.length).toBe(data.length);
    expect(sha(back)).toBe(sha(data));
    const r = await gw.splices[0]!.done;
    expect(gw.adoption).toEqual([how]);
    expect(r).toMatchObject({ end: 'closed', bytesIn: data.length, bytesOut: data.length });
  });

  test('bytes the accepted socket held before the splice are sent first', async () => {
    const gw = await gateway(how, (s) => s.unshift(Buffer.from('held:')));
    const c = net.connect({ port: gw.port, host: '127.0.0.1', allowHalfOpen: true });
    await once(c, 'connect');
    const parts: Buffer[] = [];
    c.on('data', (d: Buffer) => parts.push(d));
    c.end('then-the-rest');
    await once(c, 'end');
    expect(Buffer.concat(parts).toString()).toBe('held:then-the-rest');
    expect(gw.adoption).toEqual([how]);
  });
});
