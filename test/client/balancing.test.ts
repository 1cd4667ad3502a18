/**
 * The balancer conformance expectations, run through the client: for each
 * of the five algorithms, calls over real instances land in exactly the
 * sequence the gateway's own balancer of that name gives for the same
 * instances and weights (random with the same seeded generator), and the
 * sequences the gateway's conformance and unit tests pin hold here too:
 * strict rotation for round-robin, nginx's smooth 5,1,1 cycle for weighted
 * round robin, one instance per key for ip-hash.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TestUpstream } from '../../src/testing/index.js';
import { BALANCERS, createBalancer, type BalancerName } from '../../src/balancing/index.js';
import { createClient, type Client } from '../../src/client/index.js';
import { seeded } from '../balancing/helpers.js';
import { nameOf, quiet, startNamed, tally } from './helpers.js';

let instances: TestUpstream[] = [];
let client: Client | undefined;

afterEach(async () => {
  vi.restoreAllMocks();
  await client?.close();
  client = undefined;
  await Promise.all(instances.map((i) => i.close()));
  instances = [];
});

/** start runs instances a, b, c... (sorted by url, as discovery reports them) behind a client with `balancer`. */
async function start(balancer: BalancerName, weights: number[] = []): Promise<Client> {
  instances = await startNamed('abcdef'.slice(0, Math.max(3, weights.length)));
  client = createClient({ discovery: { targets: { USERS: instances.map((i, n) => ({ url: i.url, weight: weights[n] ?? 1 })) } }, balancer, logger: quiet });
  return client;
}

/** viaClient makes `n` sequential calls and names the instance of each. */
async function viaClient(c: Client, n: number, key?: (i: number) => string): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await nameOf(await c.request('users', { path: '/', ...(key ? { key: key(i) } : {}) })));
  return out;
}

/** viaGateway picks `n` times with a fresh gateway balancer over the same instances and weights. */
function viaGateway(name: BalancerName, weights: number[], n: number, key?: (i: number) => string): string[] {
  const b = createBalancer<{ id: string; weight: number; inflight: number; name: string }>(name);
  b.setTargets(instances.map((i, k) => ({ id: i.url, weight: weights[k] ?? 1, inflight: 0, name: i.name })));
  return Array.from({ length: n }, (_, i) => b.pick(key ? key(i) : '')!.name);
}

describe.each(BALANCERS)('client balancing conformance: %s', (name) => {
  it.each([
    { weights: [1, 1, 1] },
    { weights: [5, 1, 1] },
    { weights: [1, 2, 3, 4] },
  ])('calls land where the gateway\'s balancer picks (weights $weights)', async ({ weights }) => {
    const key = name === 'ip-hash' ? (i: number) => `10.0.0.${i % 7}` : undefined;
    // Random draws from Math.random: the same seed on both sides.
    const rng = seeded(42);
    vi.spyOn(Math, 'random').mockImplementation(rng);
    const c = await start(name, weights);
    const got = await viaClient(c, 21, key);
    const rng2 = seeded(42);
    vi.spyOn(Math, 'random').mockImplementation(rng2);
    expect(got).toEqual(viaGateway(name, weights, 21, key));
  });
});

describe('the sequences the gateway pins', () => {
  it('round-robin rotates strictly, with exact counts', async () => {
    const c = await start('round-robin');
    const got = await viaClient(c, 30);
    const [a, b, cc] = instances.map((i) => i.name);
    expect(got.slice(0, 6)).toEqual([a, b, cc, a, b, cc]);
    expect(tally(got)).toEqual({ [a!]: 10, [b!]: 10, [cc!]: 10 });
  });

  it('weighted-round-robin gives a,a,b,a,c,a,a for weights 5,1,1, cycle after cycle', async () => {
    const c = await start('weighted-round-robin', [5, 1, 1]);
    const [a, b, cc] = instances.map((i) => i.name);
    const cycle = [a, a, b, a, cc, a, a];
    expect(await viaClient(c, 21)).toEqual([...cycle, ...cycle, ...cycle]);
  });

  it('ip-hash sends one key to one instance', async () => {
    const c = await start('ip-hash');
    for (const key of ['user-1', 'user-2', 'user-3']) expect(new Set(await viaClient(c, 5, () => key)).size).toBe(1);
  });
});
