/**
 * ORDERS: a service that calls USERS east–west. It registers itself with the
 * gateway's registry through registerInstance and calls USERS through
 * createClient, both from switchyard-gateway/client: the client reads the
 * USERS instances from the registry and balances calls over them itself (no
 * proxy hop), with the gateway's balancers, outlier detection and retry rules.
 *
 * It serves GET /api/orders/{id} (an order with its user, fetched from USERS)
 * and, to show the balancing, calls USERS RATE times a second by itself,
 * printing every second how many calls succeeded, which instances served
 * them, and every failed call. Kill an instance of USERS while this runs
 * (even with kill -9): the count of failed calls stays at 0.
 *
 *   REGISTRY   registry URL (default http://svc:demo-password@127.0.0.1:8761/eureka)
 *   RATE       calls per second (default 50; 0: none, only the HTTP endpoint)
 *   PORT       port to listen on (default 0: any free port)
 *   HOST       address callers dial (default 127.0.0.1 for this one-machine demo)
 *
 * Run it from the checkout's root after `npm ci`: node examples/orders-caller/caller.js.
 * This folder has no package.json of its own, so `switchyard-gateway/client` resolves
 * to the checkout's build (a package may import itself by name); copied into another
 * project, install the package there first (npm install <path to this checkout>).
 */
import http from 'node:http';
import { createClient, registerInstance } from 'switchyard-gateway/client';

const registry = process.env.REGISTRY ?? 'http://svc:demo-password@127.0.0.1:8761/eureka';
const rate = Number(process.env.RATE ?? 50);
const host = process.env.HOST ?? '127.0.0.1';

const client = createClient({
  discovery: { registry: { url: registry, refresh: '2s' } },
  balancer: 'round-robin',
  outlierDetection: { consecutiveFailures: 3, baseEjectionTime: '10s' },
  retry: { attempts: 1, on: [502, 503, 504] },
  timeouts: { connect: '1s', response: '5s' },
});

// GET /api/orders/{id}: the order and its user, from whichever USERS instance the client picks.
const server = http.createServer(async (req, res) => {
  if (req.url === '/healthz') return void res.writeHead(200).end('ok');
  const m = /^\/api\/orders\/([^/?]+)/.exec(req.url ?? '');
  if (m === null) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
  try {
    // from: req passes this request's X-Request-Id and traceparent on to USERS.
    const r = await client.request('users', { path: `/api/users/${m[1]}`, from: req });
    const user = await r.body.json();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: m[1], item: 'a teapot', user }));
  } catch (err) {
    res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: err.code ?? 'failed' }));
  }
});

let ok = 0;
let failed = 0;
let totalFailed = 0;
const servedBy = new Map();
let n = 0;

async function callOnce() {
  const id = ++n;
  try {
    const res = await client.request('users', { path: `/api/users/${id}`, headers: { 'x-request-id': `orders-${id}` } });
    const body = await res.body.json();
    if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
    ok++;
    servedBy.set(body.servedBy, (servedBy.get(body.servedBy) ?? 0) + 1);
  } catch (err) {
    failed++;
    totalFailed++;
    console.log(`FAILED call ${id}: ${err.code ?? ''} ${err.message}`);
  }
}

server.listen(Number(process.env.PORT ?? 0), host, async () => {
  const port = server.address().port;
  let lease;
  try {
    lease = await registerInstance({ registry, app: 'ORDERS', host, port, healthCheckPath: '/healthz', renewalInterval: '5s', leaseDuration: '15s' });
  } catch (err) {
    console.error(err.message); // e.g. "cannot register ORDERS: http://127.0.0.1:8761/eureka: connect ECONNREFUSED" (is the gateway running?)
    process.exit(1);
  }
  console.log(`ORDERS instance ${lease.instanceId} listening on http://${host}:${port}, ${rate > 0 ? `calling USERS ${rate} times a second` : 'serving GET /api/orders/{id}'}`);

  const calls = rate > 0 ? setInterval(() => void callOnce(), 1000 / rate) : undefined;
  const report = setInterval(() => {
    if (rate === 0) return;
    const by = [...servedBy].map(([k, v]) => `${k}=${v}`).join(' ');
    console.log(`${new Date().toISOString().slice(11, 19)}  ok ${ok}  failed ${failed}  (total failed ${totalFailed})  served by: ${by || '-'}`);
    ok = 0;
    failed = 0;
    servedBy.clear();
  }, 1000);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    clearInterval(calls);
    clearInterval(report);
    await lease.close(); // deregister first: nobody picks this instance any more
    await new Promise((resolve) => {
      server.close(resolve); // requests in flight finish (they still need the client)
      server.closeIdleConnections();
    });
    await client.close();
    console.log(`stopped; failed calls in total: ${totalFailed}`);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
});
