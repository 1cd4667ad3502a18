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
