/**
 * The accepting policy (compileAcceptPolicy) on real loopback sockets:
 * listed peers must send a header, unlisted ones may not, and what follows
 * reaches the next reader intact either way. 127.0.0.1 is the listed
 * balancer, 127.0.0.2 a client elsewhere.
 */
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/testing/index.js';
import { compileAcceptPolicy, encodeV1, encodeV2, type Accepted, type AcceptPolicy, type Refused } from '../../src/proxy-protocol/index.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

type Outcome = (Accepted | Refused) & { rest: string };

/** serve applies the policy to each connection and collects what follows when accepted. */
async function serve(policy: AcceptPolicy): Promise<{ port: number; next: () => Promise<Outcome>; decided: () => number }> {
  const check = compileAcceptPolicy(policy);
  const outcomes: Array<Promise<Outcome>> = [];
  let decided = 0;
  const server = createServer((socket: Socket) => {
    outcomes.push(
      check(socket).then(async (r) => {
        decided++;
        if (!r.ok) {
          socket.destroy();
          return { ...r, rest: '' };
        }
        let rest = '';
        socket.on('data', (c: Buffer) => (rest += c.toString()));
        socket.resume();
        await once(socket, 'end');
        socket.end();
        return { ...r, rest };
      }),
    );
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  let i = 0;
  return {
    decided: () => decided,
    port: (server.address() as { port: number }).port,
    next: async () => {
      while (outcomes.length <= i) await new Promise((r) => setImmediate(r));
      return outcomes[i++]!;
    },
  };
}

/** send writes the bytes from `from` and half-closes. */
async function send(port: number, from: string, bytes: Buffer | string, end = true): Promise<Socket> {
  const s = connect({ port, host: '127.0.0.1', localAddress: from });
  s.on('error', () => {});
  await once(s, 'connect');
  if (bytes.length > 0) s.write(bytes);
  if (end) s.end();
  return s;
}

const header = encodeV2({ source: { address: '198.51.100.1', port: 5000 }, destination: { address: '10.0.0.1', port: 443 } });

describe('compileAcceptPolicy', () => {
  it('listed peer with a header: the claimed address, then the payload intact', async () => {
    const srv = await serve({ from: ['127.0.0.1/32'] });
    await send(srv.port, '127.0.0.1', Buffer.concat([header, Buffer.from('hello')]));
    const r = await srv.next();
    expect(r).toMatchObject({ ok: true, address: '198.51.100.1', rest: 'hello' });
  });

  it('listed peer, LOCAL header: accepted without a claimed address', async () => {
    const srv = await serve({ from: ['127.0.0.1'] });
    await send(srv.port, '127.0.0.1', Buffer.concat([encodeV2({ command: 'local' }), Buffer.from('hc')]));
    const r = await srv.next();
    expect(r.ok).toBe(true);
    expect((r as Accepted).address).toBeUndefined();
    expect(r.rest).toBe('hc');
  });

  it.each<[string, Buffer | string, AcceptPolicy, string]>([
    ['no header', 'GET / HTTP/1.1\r\n\r\n', { from: ['127.0.0.0/8'] }, 'malformed'],
    ['a version not accepted', encodeV1({ source: { address: '1.2.3.4', port: 1 }, destination: { address: '5.6.7.8', port: 2 } }), { from: ['127.0.0.1'], versions: ['v2'] }, 'version'],
  ])('listed peer with %s: refused (%s)', async (_n, bytes, policy, reason) => {
    const srv = await serve(policy);
    await send(srv.port, '127.0.0.1', bytes);
    expect(await srv.next()).toMatchObject({ ok: false, reason, peer: '127.0.0.1' });
  });

  it('unlisted peer with a header (either version): refused as unlisted', async () => {
    const srv = await serve({ from: ['127.0.0.1'] });
    await send(srv.port, '127.0.0.2', header);
    await send(srv.port, '127.0.0.2', 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n');
    expect(await srv.next()).toMatchObject({ ok: false, reason: 'unlisted', peer: '127.0.0.2' });
    expect(await srv.next()).toMatchObject({ ok: false, reason: 'unlisted' });
  });

  it('unlisted peer without a header: let through with its bytes, and a silent one after the timeout', async () => {
    const srv = await serve({ from: ['127.0.0.1'], timeoutMs: 100 });
    await send(srv.port, '127.0.0.2', 'GET / HTTP/1.1\r\n\r\n');
    expect(await srv.next()).toMatchObject({ ok: true, rest: 'GET / HTTP/1.1\r\n\r\n' });
    const silent = await send(srv.port, '127.0.0.2', '', false);
    const late = srv.next();
    await waitFor(() => srv.decided() === 2, { message: 'the silent peer let through after the watch' });
    silent.end('late'); // past the watch: the bytes go straight to the consumer
    expect(await late).toMatchObject({ ok: true, rest: 'late' });
  });
});
