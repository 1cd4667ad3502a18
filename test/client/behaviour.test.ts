/**
 * How a call behaves when instances fail, over real sockets with fixed
 * targets: which failures are retried (and where), which never are, the
 * retry budget, ejection, failing fast when nothing is eligible, in-flight
 * accounting, abort, close, and the metrics hooks.
 */
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { TestUpstream } from '../../src/testing/index.js';
import { ClientClosedError, createClient, NoInstancesError, UpstreamError, type Client, type ClientOptions } from '../../src/client/index.js';
import { nameOf, quiet, startNamed } from './helpers.js';

let instances: TestUpstream[] = [];
let client: Client | undefined;

afterEach(async () => {
  await client?.close();
  client = undefined;
  await Promise.all(instances.map((i) => i.close()));
  instances = [];
});

async function start(names: string, options: Partial<ClientOptions> = {}): Promise<Client> {
  instances = await startNamed(names);
  client = createClient({ discovery: { targets: { USERS: instances.map((i) => ({ url: i.url })) } }, balancer: 'round-robin', logger: quiet, ...options });
  return client;
}

const status = (code: number) => (_req: unknown, res: import('node:http').ServerResponse) => res.writeHead(code).end();

describe('retries', () => {
  it('retries a GET answered 503 on another instance, once', async () => {
    const c = await start('ab');
    instances[0]!.setHandler(status(503));
    const res = await c.request('users', { path: '/' });
    expect(res.statusCode).toBe(200);
    expect(await nameOf(res)).toBe(instances[1]!.name);
    expect(instances.map((i) => i.hits())).toEqual([1, 1]);
  });

  it('answers the 503 of a POST as it is (not idempotent)', async () => {
    const c = await start('ab');
    instances[0]!.setHandler(status(503));
    const res = await c.request('users', { method: 'POST', path: '/', body: 'x' });
    expect(res.statusCode).toBe(503);
    await res.body.dump();
    expect(instances.map((i) => i.hits())).toEqual([1, 0]);
  });

  it('never retries after a response timeout', async () => {
    const c = await start('ab', { timeouts: { response: '100ms' } });
    instances[0]!.setHandler(() => undefined);
    const err = await c.request('users', { path: '/' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ code: 'SY_ERR_UPSTREAM_TIMEOUT', reason: 'response timeout', attempts: 1, status: 504, instance: instances[0]!.url });
    expect(instances[1]!.hits()).toBe(0);
  });

  it('does not retry statuses beyond the budget', async () => {
    const c = await start('ab', { retryBudget: { percent: 0, minPerSecond: 0 } });
    instances[0]!.setHandler(status(503));
    const res = await c.request('users', { path: '/' });
    expect(res.statusCode).toBe(503);
    await res.body.dump();
  });

  it('retries a refused connection for free even with an empty budget', async () => {
    const c = await start('ab', { retryBudget: { percent: 0, minPerSecond: 0 } });
    await instances[0]!.close();
    expect(await nameOf(await c.request('users', { method: 'PATCH', path: '/', body: 'x' }))).toBe(instances[1]!.name);
  });

  it('does not retry a streamed body (it cannot be replayed)', async () => {
    const c = await start('ab');
    instances[0]!.setHandler(status(503));
    const { Readable } = await import('node:stream');
    const res = await c.request('users', { method: 'PUT', path: '/', body: Readable.from([Buffer.from('x')]) });
    expect(res.statusCode).toBe(503);
    await res.body.dump();
  });
});

describe('failing fast', () => {
  it('ejects failing instances and then throws NoInstancesError at once, not after a wait', async () => {
    const c = await start('ab', { outlierDetection: { consecutiveFailures: 1, maxEjectionPercent: 100 }, retry: { attempts: 0 } });
    for (const i of instances) i.setHandler(status(500));
    for (let k = 0; k < 2; k++) await (await c.request('users', { path: '/' })).body.dump();
    const t0 = performance.now();
    const err = await c.request('users', { path: '/' }).catch((e: unknown) => e);
    expect(performance.now() - t0).toBeLessThan(50);
    expect(err).toBeInstanceOf(NoInstancesError);
    expect((err as Error).message).toBe('no instance of USERS is available: 2 instances: 2 ejected');
  });

  it('throws NoInstancesError for an application the static list does not name', async () => {
    const c = await start('a');
    await expect(c.request('orders', { path: '/' })).rejects.toThrow('no instance of ORDERS is available: the application is not configured');
  });

  it('throws ClientClosedError after close()', async () => {
    const c = await start('a');
    await c.close();
    await expect(c.request('users', { path: '/' })).rejects.toBeInstanceOf(ClientClosedError);
  });
});

describe('accounting', () => {
  it('keeps an instance in flight until its body is read (least-connections avoids it meanwhile)', async () => {
    const c = await start('ab', { balancer: 'least-connections' });
    instances[0]!.setHandler((_req, res) => res.writeHead(200).write('partial'));
    const held = await c.request('users', { path: '/' });
    const names = [];
    for (let k = 0; k < 4; k++) names.push(await nameOf(await c.request('users', { path: '/' })));
    expect(names).toEqual(Array(4).fill(instances[1]!.name));
    held.body.destroy();
  });

  it('an aborted call is the caller\'s, not the instance\'s failure', async () => {
    const c = await start('a', { outlierDetection: { consecutiveFailures: 1, maxEjectionPercent: 100 } });
    instances[0]!.setHandler(() => undefined);
    const ac = new AbortController();
    const pending = c.request('users', { path: '/', signal: ac.signal });
    ac.abort();
    await expect(pending).rejects.toThrow();
    instances[0]!.setHandler(status(200));
    expect((await c.request('users', { path: '/' })).statusCode).toBe(200);
  });

  it('counts calls, retries and ejections on the given registry', async () => {
    const metrics = new Registry();
    const c = await start('ab', { metrics, outlierDetection: { consecutiveFailures: 1 } });
    instances[0]!.setHandler(status(503));
    await (await c.request('users', { path: '/' })).body.dump();
    await (await c.request('users', { path: '/' })).body.dump();
    const text = await metrics.metrics();
    expect(text).toContain('switchyard_client_requests_total{app="USERS",outcome="200"} 2');
    expect(text).toContain('switchyard_client_retries_total{app="USERS",reason="status 503"} 1');
    expect(text).toContain('switchyard_client_ejections_total{app="USERS"} 1');
  });
});

describe('one instance', () => {
  it('repeats a GET whose connection was reset before any response, on a fresh connection', async () => {
    const c = await start('a');
    let first = true;
    instances[0]!.setHandler((req, res) => {
      if (first) {
        first = false;
        req.socket.destroy();
        return;
      }
      res.writeHead(200).end('{"upstream":"a"}');
    });
    expect(await nameOf(await c.request('users', { path: '/' }))).toBe('a');
    expect(instances[0]!.hits()).toBe(2);
  });
});
