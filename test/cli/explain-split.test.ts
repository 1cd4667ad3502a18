/**
 * `switchyard explain` (and `routes`) on routes with a canary split: the legs and their
 * buckets, the overrides, and the leg this request takes (an override, or
 * the cohort key the request carries).
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeTree } from '../config/helpers.js';
import { bucketOf } from '../../src/proxy/split-plan.js';
import { runCli } from './helpers.js';

const ROUTES = `upstreams:
  orders-v1: { targets: [ { url: "http://127.0.0.1:9001" } ] }
  orders-v2: { targets: [ { url: "http://127.0.0.1:9002" } ] }
routes:
  - id: orders
    match: { path: /api/orders/* }
    upstream: orders-v1
    split:
      by: header:x-user
      to:
        - { upstream: orders-v2, weight: 10 }
        - { upstream: orders-v2, when: { headers: { x-canary: "1" } } }
        - { upstream: orders-v1, when: { cookies: { canary: "no" } } }
  - id: web
    match: { path: /web/* }
    upstream: orders-v1
    split: { by: claim:sub, to: [ { upstream: orders-v2, weight: 50 } ] }
`;

describe('switchyard explain with a split', () => {
  it('shows the legs, the overrides and the leg the request takes', async () => {
    const dir = await writeTree({ 'gateway.yaml': 'listen: { port: 0 }\nadmin: { port: 0 }\n', 'routes/orders.yaml': ROUTES });
    const config = join(dir, 'gateway.yaml');
    const user = Array.from({ length: 100 }, (_, i) => `u${i}`).find((u) => bucketOf('orders', u) < 10)!;
    // One at a time: each is a process compiling the sources, and the machine is shared.
    const explain = (...args: string[]) => runCli(['explain', '--config', config, 'GET', ...args], { timeoutMs: 60_000 });
    const cohort = await explain('/api/orders/1', '-H', `x-user: ${user}`);
    const header = await explain('/api/orders/1', '-H', `x-user: ${user}`, '-H', 'x-canary: 1');
    const cookie = await explain('/api/orders/1', '-H', `x-user: ${user}`, '-H', 'cookie: canary=no');
    const none = await explain('/api/orders/1');
    const claim = await explain('/web/1');
    expect(cohort.code, cohort.stderr).toBe(0);
    expect(cohort.stdout).toContain('  split:    by header:x-user; salt "orders"; fallback to the primary (orders-v1)');
    expect(cohort.stdout).toMatch(/orders-v2 +weight 10 \(buckets 0-9\)/);
    expect(cohort.stdout).toMatch(/orders-v1 +primary, the other 90 buckets/);
    expect(cohort.stdout).toMatch(/orders-v2 +override when \{"headers":\{"x-canary":"1"\}\}/);
    expect(cohort.stdout).toContain(`  this request: cohort key "${user}" → bucket ${bucketOf('orders', user)} → orders-v2`);
    expect(header.stdout).toContain('  this request: override {"headers":{"x-canary":"1"}} → orders-v2');
    expect(cookie.stdout).toContain('  this request: override {"cookies":{"canary":"no"}} → orders-v1');
    expect(none.stdout).toContain('  this request: no header x-user: the primary (orders-v1)');
    expect(claim.stdout).toContain('  this request: the leg follows claim:sub, known once the chain runs');
  }, 180_000);

  it('`switchyard routes` names the split legs next to the primary', async () => {
    const dir = await writeTree({ 'gateway.yaml': 'listen: { port: 0 }\nadmin: { port: 0 }\n', 'routes/orders.yaml': ROUTES });
    const out = await runCli(['routes', '--config', join(dir, 'gateway.yaml')], { timeoutMs: 60_000 });
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(/^orders +\* \/api\/orders\/\* +orders-v1 \(split: orders-v2 10%, 2 overrides\) /m);
    expect(out.stdout).toMatch(/^web +\* \/web\/\* +orders-v1 \(split: orders-v2 50%\) /m);
  }, 60_000);
});
