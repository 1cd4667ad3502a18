/**
 * Killing an instance under load: three instances of USERS, each its own
 * process registered through registerInstance; a caller sends a steady
 * stream of GETs through createClient; one instance gets SIGKILL mid-stream.
 * No call may fail: calls that meet the dead instance (connection refused,
 * or reset mid-request for a GET) are retried on another one, outlier
 * detection ejects it, and the registry evicts it at lease expiry, after
 * which the client's set no longer lists it.
 */
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/testing/index.js';
import { createClient, type Client } from '../../src/client/index.js';
import { nameOf, quiet, startChildInstance, startFakeRegistry, type ChildInstance, type FakeRegistry } from './helpers.js';

// Three children start through tsx: seconds on a busy machine.
const SLOW = { timeout: 60_000 };

describe('kill -9 of an instance under a steady stream of GETs', () => {
  let registry: FakeRegistry;
  let children: ChildInstance[] = [];
  let client: Client;
  const metrics = new Registry();

  beforeAll(async () => {
    registry = await startFakeRegistry();
    children = await Promise.all(['a', 'b', 'c'].map((n) => startChildInstance(n, { REGISTRY: registry.url, APP: 'users', RENEWAL: '200ms', LEASE: '1s' })));
    client = createClient({
      discovery: { registry: { url: registry.url, refresh: '100ms' } },
      balancer: 'round-robin',
      outlierDetection: { consecutiveFailures: 2 },
      logger: quiet,
      metrics,
    });
  }, SLOW.timeout);

  afterAll(async () => {
    await client?.close();
    await Promise.all(children.map((c) => c.stop()));
    await registry?.close();
  });

  it('fails no call: retried elsewhere, ejected, then evicted at lease expiry', SLOW, async () => {
    const seen = new Map<string, number>();
    const failures: unknown[] = [];
    let stop = false;
    let sent = 0;
    const worker = async () => {
      while (!stop) {
        sent++;
        try {
          const name = await nameOf(await client.request('users', { path: '/users/42' }));
          seen.set(name, (seen.get(name) ?? 0) + 1);
        } catch (err) {
          failures.push(err);
        }
      }
    };
    const workers = Array.from({ length: 4 }, worker);
    await waitFor(() => seen.size === 3 && sent > 100, { message: 'traffic on all three', timeout: 10_000 });
    const victim = children[1]!;
    await victim.kill();
    const afterKill = sent;
    // The registry forgets b at lease expiry (1s), and the client's set follows.
    await waitFor(() => !JSON.stringify([...registry.apps.get('USERS')!.values()].map((r) => r.instance.port)).includes(String(victim.port)), { message: 'eviction', timeout: 10_000 });
    const countB = seen.get('b');
    await waitFor(() => sent > afterKill + 300, { message: 'traffic after the kill', timeout: 10_000 });
    stop = true;
    await Promise.all(workers);
    expect(failures).toEqual([]);
    expect(seen.get('b')).toBe(countB);
    const text = await metrics.metrics();
    expect(text).toMatch(/switchyard_client_retries_total\{app="USERS",reason="(ECONNREFUSED|ECONNRESET|UND_ERR_SOCKET)"\} [1-9]/);
    expect(text).toMatch(/switchyard_client_ejections_total\{app="USERS"\} 1/);
    expect(text).not.toMatch(/outcome="SY_ERR/);
  });
});
