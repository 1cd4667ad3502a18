/**
 * The client with a registry, end to end over real sockets: instances
 * register through registerInstance (the JSON eureka-js-client sends,
 * heartbeats, re-registration on 404, deregistration), a caller spreads
 * calls over them, and the registry failing at start or later behaves as
 * documented.
 *
 * The registry is a fake Eureka server (helpers.ts) until the gateway's own
 * registry (issue 15) lands; the client reads both over the same REST calls.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor, type TestUpstream } from '../../src/testing/index.js';
import { createClient, DiscoveryUnavailableError, NoInstancesError, registerInstance, RegistrationError, type Client, type Lease } from '../../src/client/index.js';
import { nameOf, quiet, startFakeRegistry, startNamed, tally, type FakeRegistry } from './helpers.js';

let registry: FakeRegistry;
let instances: TestUpstream[] = [];
let leases: Lease[] = [];
let clients: Client[] = [];

afterEach(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(leases.map((l) => l.close()));
  await Promise.all(instances.map((i) => i.close()));
  await registry?.close();
  clients = [];
  leases = [];
  instances = [];
});

/** registerAll starts echo instances a, b, c... and registers each as USERS. */
async function registerAll(names: string, extra: { renewalInterval?: string; leaseDuration?: string } = {}): Promise<void> {
  instances = await startNamed(names);
  leases = await Promise.all(instances.map((i) => registerInstance({ registry: registry.url, app: 'users', host: '127.0.0.1', port: i.port, healthCheckPath: '/healthz', logger: quiet, ...extra })));
}

function client(options: Partial<Parameters<typeof createClient>[0]> = {}): Client {
  const c = createClient({ discovery: { registry: { url: registry.url, refresh: '50ms' } }, logger: quiet, ...options });
  clients.push(c);
  return c;
}

describe('registerInstance', () => {
  it('registers what eureka-js-client registers, heartbeats, and deregisters on close', async () => {
    registry = await startFakeRegistry();
    await registerAll('a', { renewalInterval: '50ms' });
    const reg = [...registry.apps.get('USERS')!.values()][0]!;
    const port = instances[0]!.port;
    expect(reg.instance).toEqual({
      instanceId: `127.0.0.1:users:${port}`,
      hostName: '127.0.0.1',
      app: 'USERS',
      ipAddr: '127.0.0.1',
      vipAddress: 'users',
      status: 'UP',
      port: { $: port, '@enabled': 'true' },
      securePort: { $: 443, '@enabled': 'false' },
      homePageUrl: `http://127.0.0.1:${port}/`,
      statusPageUrl: `http://127.0.0.1:${port}/`,
      healthCheckUrl: `http://127.0.0.1:${port}/healthz`,
      dataCenterInfo: { '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo', name: 'MyOwn' },
      leaseInfo: { renewalIntervalInSecs: 1, durationInSecs: 90 },
      metadata: {},
    });
    const beat = `PUT /eureka/apps/USERS/${encodeURIComponent(`127.0.0.1:users:${port}`)}`;
    await waitFor(() => registry.calls().filter((c) => c === beat).length >= 2, { message: 'two heartbeats' });
    await leases[0]!.close();
    expect(registry.calls().at(-1)).toBe(`DELETE /eureka/apps/USERS/${encodeURIComponent(`127.0.0.1:users:${port}`)}`);
    expect(registry.apps.get('USERS')!.size).toBe(0);
  });

  it('registers again when a heartbeat gets 404 (the registry forgot the instance)', async () => {
    registry = await startFakeRegistry();
    await registerAll('a', { renewalInterval: '50ms' });
    registry.apps.get('USERS')!.clear();
    await waitFor(() => registry.apps.get('USERS')!.size === 1, { message: 're-registration' });
    expect(registry.calls().filter((c) => c.startsWith('POST '))).toHaveLength(2);
  });

  it('throws RegistrationError when the registry is unreachable or refuses', async () => {
    registry = await startFakeRegistry();
    registry.down = true;
    const refused = await registerInstance({ registry: registry.url, app: 'users', port: 3000 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RegistrationError);
    expect((refused as Error).message).toMatch(/answered 503/);
    await registry.close();
    const unreachable = await registerInstance({ registry: registry.url, app: 'users', port: 3000, timeout: '1s' }).catch((e: unknown) => e);
    expect(unreachable).toBeInstanceOf(RegistrationError);
  });
});

describe('createClient with the registry', () => {
  it('spreads calls round-robin over the registered instances, exactly', async () => {
    registry = await startFakeRegistry();
    await registerAll('abc');
    const c = client({ balancer: 'round-robin' });
    const seen: string[] = [];
    for (let i = 0; i < 30; i++) seen.push(await nameOf(await c.request('users', { path: '/users/42' })));
    expect(tally(seen)).toEqual({ a: 10, b: 10, c: 10 });
    // Strict rotation: every window of three holds each instance once.
    for (let i = 0; i < 30; i += 3) expect(new Set(seen.slice(i, i + 3)).size).toBe(3);
    // The registry was read once per refresh, not per call.
    expect(registry.calls().filter((x) => x.startsWith('GET ')).length).toBeLessThan(30);
  });

  it('names applications case-insensitively (Eureka upper-cases them)', async () => {
    registry = await startFakeRegistry();
    await registerAll('a');
    const c = client();
    expect(await nameOf(await c.request('Users', { path: '/' }))).toBe('a');
    expect(await nameOf(await c.request('USERS', { path: '/' }))).toBe('a');
  });

  it('follows registrations and deregistrations', async () => {
    registry = await startFakeRegistry();
    await registerAll('ab');
    const c = client();
    const names = async (n: number) => new Set(await Promise.all(Array.from({ length: n }, async () => nameOf(await c.request('users', { path: '/' })))));
    expect(await names(4)).toEqual(new Set(['a', 'b']));
    await leases[0]!.close();
    await waitFor(async () => (await names(4)).size === 1, { message: `${instances[0]!.name} leaves` });
    expect(await names(4)).toEqual(new Set([instances[1]!.name]));
  });

  it('fails at once with DiscoveryUnavailableError when the registry is down at start', async () => {
    registry = await startFakeRegistry();
    registry.down = true;
    const c = client({ startTimeout: '5s' });
    const t0 = Date.now();
    const err = await c.request('users', { path: '/' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DiscoveryUnavailableError);
    expect((err as DiscoveryUnavailableError).message).toMatch(/cannot discover the instances of USERS: eureka USERS at http:\/\/127\.0\.0\.1:\d+\/eureka: status 503/);
    expect(Date.now() - t0).toBeLessThan(2000);
    // The next call fails at once too, and discovery recovers by itself.
    await expect(c.request('users', { path: '/' })).rejects.toBeInstanceOf(DiscoveryUnavailableError);
    registry.down = false;
    await registerAll('a');
    await waitFor(async () => c.request('users', { path: '/' }).then(nameOf, () => undefined), { message: 'recovery' });
  });

  it('serves from the fallback while the registry is down at start, then from the registry', async () => {
    registry = await startFakeRegistry();
    const [fallback] = await startNamed('f');
    await registerAll('a');
    instances.push(fallback!);
    registry.down = true;
    const c = client({ fallback: { targets: { USERS: [{ url: fallback!.url }] } } });
    expect(await nameOf(await c.request('users', { path: '/' }))).toBe('f');
    registry.down = false;
    await waitFor(async () => (await nameOf(await c.request('users', { path: '/' }))) === 'a', { message: 'the registry\'s instances' });
  });

  it('keeps the last known instances when the registry is lost later', async () => {
    registry = await startFakeRegistry();
    await registerAll('ab');
    const c = client();
    await c.request('users', { path: '/' }).then(nameOf);
    const gets = () => registry.calls().filter((x) => x.startsWith('GET ')).length;
    registry.down = true;
    const failedReads = gets();
    await waitFor(() => gets() >= failedReads + 2, { message: 'failed reads' });
    const seen = await Promise.all(Array.from({ length: 6 }, async () => nameOf(await c.request('users', { path: '/' }))));
    expect(tally(seen)).toEqual({ a: 3, b: 3 });
  });

  it('fails fast with NoInstancesError for an application nobody registered', async () => {
    registry = await startFakeRegistry();
    const c = client();
    const err = await c.request('nobody', { path: '/' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoInstancesError);
    expect((err as NoInstancesError).message).toBe('no instance of NOBODY is available: no instance is registered');
    expect((err as NoInstancesError).status).toBe(503);
  });
});
