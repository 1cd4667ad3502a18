/**
 * A listener's own accept (src/process/accept.ts): the socket it
 * announces is the one net's accept would have made (paused, half-open
 * allowed, no Nagle delay), counted on the server as net counts it, and what
 * it leaves to net (a server-level maxConnections) still works.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { acceptFrozen } from '../../src/process/accept.js';

const OPTIONS = { allowHalfOpen: true, pauseOnConnect: true, noDelay: true } as const;
const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function listening(server: Server): Promise<number> {
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
}

const connections = (server: Server) => new Promise<number>((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))));

describe('acceptFrozen', () => {
  it('announces a paused, half-open socket counted on the server, and close() waits for it', async () => {
    const server = createServer(OPTIONS);
    const port = await listening(server);
    expect(acceptFrozen(server)).toBe(true);
    const accepted = once(server, 'connection') as Promise<[Socket]>;
    const client = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const [socket] = await accepted;
    expect(socket.isPaused()).toBe(true);
    expect(socket.allowHalfOpen).toBe(true);
    expect(socket.remotePort).toBe(client.localPort);
    expect(await connections(server)).toBe(1);
    let serverClosed = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve())).then(() => (serverClosed = true));
    // Half-open: the client's FIN ends the socket's reading side; it can still answer.
    socket.resume();
    client.end();
    await once(socket, 'end');
    expect(serverClosed).toBe(false); // close() waits: the socket still has its writing side open
    const answer = once(client, 'data');
    const gone = once(socket, 'close');
    socket.end('still here');
    expect(String((await answer)[0])).toBe('still here');
    await gone;
    client.destroy();
    await closed;
    expect(await connections(server)).toBe(0);
  });

  it("publishes each accepted socket on net's diagnostics channel, as net does", async () => {
    const server = createServer(OPTIONS);
    const port = await listening(server);
    acceptFrozen(server);
    const seen: unknown[] = [];
    const onSocket = (m: unknown) => seen.push((m as { socket: unknown }).socket);
    subscribe('net.server.socket', onSocket);
    try {
      const accepted = once(server, 'connection') as Promise<[Socket]>;
      const client = connect({ host: '127.0.0.1', port });
      const [socket] = await accepted;
      expect(seen).toEqual([socket]);
      client.destroy();
      socket.destroy();
    } finally {
      unsubscribe('net.server.socket', onSocket);
    }
  });

  it('leaves a server without a listening handle as it is', () => {
    const server = createServer(OPTIONS);
    expect(acceptFrozen(server)).toBe(false);
  });

  it("leaves a server-level maxConnections to net (its 'drop' event)", async () => {
    const server = createServer(OPTIONS);
    server.maxConnections = 1;
    const port = await listening(server);
    acceptFrozen(server);
    const first = connect({ host: '127.0.0.1', port });
    await once(server, 'connection');
    const dropped = once(server, 'drop');
    const second = connect({ host: '127.0.0.1', port });
    second.on('error', () => undefined);
    await dropped;
    first.destroy();
    second.destroy();
  });
});
