/**
 * USERS: a tiny node:http service that registers itself with the gateway's
 * registry (Eureka protocol) through registerInstance, keeps its lease
 * alive, and deregisters when stopped (Ctrl-C or SIGTERM), so callers stop
 * sending to it at once instead of at lease expiry.
 *
 *   REGISTRY   registry URL (default http://svc:secret@127.0.0.1:8761/eureka)
 *   PORT       port to listen on (default 0: any free port)
 *   HOST       address callers dial (default 127.0.0.1 for this one-machine demo;
 *              leave it out in a fleet to register the first non-internal IPv4
 *              address, and set it explicitly behind NAT or a published container port)
 */
import http from 'node:http';
import { registerInstance } from 'switchyard-gateway/client';

const registry = process.env.REGISTRY ?? 'http://svc:secret@127.0.0.1:8761/eureka';
const host = process.env.HOST ?? '127.0.0.1';

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') return void res.writeHead(200).end('ok');
  const m = /^\/users\/([^/?]+)/.exec(req.url ?? '');
  if (m === null) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
  const body = JSON.stringify({ id: m[1], name: `user ${m[1]}`, servedBy: `${host}:${server.address().port}`, requestId: req.headers['x-request-id'] ?? null });
  res.writeHead(200, { 'content-type': 'application/json' }).end(body);
});

server.listen(Number(process.env.PORT ?? 0), host, async () => {
  const port = server.address().port;
  const lease = await registerInstance({ registry, app: 'USERS', host, port, healthCheckPath: '/healthz', renewalInterval: '5s', leaseDuration: '15s' });
  console.log(`USERS instance ${lease.instanceId} listening on http://${host}:${port}, registered with ${new URL(registry).host}`);
  const stop = async () => {
    await lease.close(); // deregister first: callers stop picking this instance
    server.close();
    server.closeAllConnections();
    console.log(`USERS instance ${lease.instanceId} deregistered`);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
});
