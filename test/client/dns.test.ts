/**
 * DNS discovery through the client: each application maps to a DNS name
 * (the same shape as a route file's `discover: { dns }`), resolved by a real
 * DNS server (dnsmasq on a loopback port) into one instance per address.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { TestUpstream } from '../../src/testing/index.js';
import { createClient, NoInstancesError, type Client } from '../../src/client/index.js';
import { startDnsmasq, type TestDnsmasq } from '../helpers/dnsmasq.js';
import { nameOf, quiet, startNamed } from './helpers.js';

let dns: TestDnsmasq | undefined;
let instances: TestUpstream[] = [];
let client: Client | undefined;

afterEach(async () => {
  await client?.close();
  await Promise.all(instances.map((i) => i.close()));
  await dns?.close();
  client = undefined;
  dns = undefined;
  instances = [];
});

describe('createClient with DNS discovery', () => {
  it('calls the instance at the address the application\'s name resolves to', async () => {
    instances = await startNamed('a');
    dns = await startDnsmasq({ hosts: ['127.0.0.1 users.test'], ttl: 0 });
    client = createClient({
      discovery: { dns: { apps: { users: { name: 'users.test', port: instances[0]!.port, family: 'ipv4' } }, resolver: { servers: [dns.server], timeout: '300ms', tries: 1 } } },
      logger: quiet,
    });
    expect(await nameOf(await client.request('USERS', { path: '/' }))).toBe('a');
    // An application without a DNS name is not configured: it fails fast.
    await expect(client.request('orders', { path: '/' })).rejects.toBeInstanceOf(NoInstancesError);
  });
});
