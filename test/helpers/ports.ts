/** Free loopback ports for throwaway servers the tests start. */
import net from 'node:net';

/** freePort returns a loopback port with nothing listening on it (a race with other tests remains: starters retry). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/**
 * portIn matches a port as a number of its own (`:44353`, `"port":44353`, `=44353;`), not the same
 * digits inside a random token next to it — a request id, a signed cookie, a Date — which once
 * failed a "no upstream address in the answer" check with nothing leaked (request id `…-230524435360`
 * holding port 44353's digits).
 */
export function portIn(port: number): RegExp {
  return new RegExp(`(?<![0-9A-Za-z_-])${port}(?![0-9A-Za-z_-])`);
}
