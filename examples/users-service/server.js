/**
 * USERS: a tiny node:http service that registers itself with the gateway's
 * registry through the npm eureka-js-client (the client Node services use
 * with a Netflix Eureka server: the gateway's registry speaks the same
 * protocol, so nothing here is Switchyard-specific). It heartbeats every 5 s
 * and, when stopped (Ctrl-C or SIGTERM), deregisters first and closes its
 * listener after, so the gateway stops sending to it before it goes away.
 *
 *   REGISTRY   registry URL (default http://svc:demo-password@127.0.0.1:8761/eureka)
 *   PORT       port to listen on (default 0: any free port)
 *   HOST       address callers dial (default 127.0.0.1 for this one-machine demo;
 *              in a fleet, the instance's own address on the service network)
 */
import http from 'node:http';
import { Eureka } from 'eureka-js-client';

const registry = (process.env.REGISTRY ?? 'http://svc:demo-password@127.0.0.1:8761/eureka').replace(/\/+$/, '');
const host = process.env.HOST ?? '127.0.0.1';

const server = http.createServer((req, res) => {
  if (req.url === '/healthz') return void res.writeHead(200).end('ok');
  const m = /^\/api\/users\/([^/?]+)/.exec(req.url ?? '');
  if (m === null) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
  const body = JSON.stringify({ id: m[1], name: `user ${m[1]}`, servedBy: `${host}:${server.address().port}`, requestId: req.headers['x-request-id'] ?? null });
  res.writeHead(200, { 'content-type': 'application/json' }).end(body);
});

server.listen(Number(process.env.PORT ?? 0), host, () => {
  const port = server.address().port;
  const instanceId = `${host}:users:${port}`; // unique per instance (eureka-js-client would use hostName, the same for all)
  const client = new Eureka({
    logger: { debug() {}, info() {}, warn: (msg) => console.warn(msg), error: (msg) => console.error(msg) }, // its messages, without stack traces
    instance: {
      app: 'USERS',
      instanceId,
      hostName: host,
      ipAddr: host,
      port: { $: port, '@enabled': true },
      vipAddress: 'users',
      healthCheckUrl: `http://${host}:${port}/healthz`,
      dataCenterInfo: { '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo', name: 'MyOwn' },
    },
    eureka: {
      serviceUrls: { default: [`${registry}/apps/`] }, // credentials in the URL are sent as Basic auth
      heartbeatInterval: 5000, // the demo gateway's lease.renewal (Eureka's default is 30 s)
      fetchRegistry: false, // USERS calls nobody: it only registers
      maxRetries: 10, // waits ~30 s for a registry that is still starting (0.5 s, 1 s, 1.5 s, ... apart); default 3, ~3 s
    },
  });
  client.start((err) => {
    if (err) {
      console.error(`USERS instance ${instanceId} could not register with ${new URL(registry).host}: ${err.message}`);
      process.exit(1);
    }
    console.log(`USERS instance ${instanceId} (pid ${process.pid}) listening on http://${host}:${port}, registered with ${new URL(registry).host}`);
  });

  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(1); // a second Ctrl-C: do not wait for a registry that does not answer
    stopping = true;
    // Deregister first: once the registry answered, the gateway no longer picks this instance.
    client.stop((err) => {
      console.log(err ? `USERS instance ${instanceId} could not deregister (${err.message}): it leaves at lease expiry` : `USERS instance ${instanceId} deregistered`);
      // Then stop listening; requests still in flight finish (close waits for them), idle
      // keep-alive connections are closed now, and anything left after 5 s is cut.
      server.close(() => console.log(`USERS instance ${instanceId} stopped`));
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), 5000).unref();
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
});
