/**
 * ORDERS calling USERS east–west: createClient reads the USERS instances from
 * the gateway's registry and balances calls over them itself (no proxy hop),
 * with the gateway's balancers, outlier detection and retry rules. Every
 * second it prints how many calls succeeded, which instances served them,
 * and every failed call. Kill an instance of USERS (even with kill -9) while
 * this runs: the count of failed calls stays at 0.
 *
 *   REGISTRY   registry URL (default http://svc:secret@127.0.0.1:8761/eureka)
 *   RATE       calls per second (default 50)
 */
import { createClient } from 'switchyard-gateway/client';

const registry = process.env.REGISTRY ?? 'http://svc:secret@127.0.0.1:8761/eureka';
const rate = Number(process.env.RATE ?? 50);

const client = createClient({
  discovery: { registry: { url: registry, refresh: '2s' } },
  balancer: 'round-robin',
  outlierDetection: { consecutiveFailures: 3, baseEjectionTime: '10s' },
  retry: { attempts: 1, on: [502, 503, 504] },
  timeouts: { connect: '1s', response: '5s' },
});

let ok = 0;
let failed = 0;
let totalFailed = 0;
const servedBy = new Map();
let n = 0;

async function callOnce() {
  const id = ++n;
  try {
    const res = await client.request('users', { path: `/users/${id}`, headers: { 'x-request-id': `orders-${id}` } });
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

const calls = setInterval(() => void callOnce(), 1000 / rate);
const report = setInterval(() => {
  const by = [...servedBy].map(([k, v]) => `${k}=${v}`).join(' ');
  console.log(`${new Date().toISOString().slice(11, 19)}  ok ${ok}  failed ${failed}  (total failed ${totalFailed})  served by: ${by || '-'}`);
  ok = 0;
  failed = 0;
  servedBy.clear();
}, 1000);

process.once('SIGINT', async () => {
  clearInterval(calls);
  clearInterval(report);
  await client.close();
  console.log(`stopped; failed calls in total: ${totalFailed}`);
});
