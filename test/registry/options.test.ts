/**
 * The registry's options and address policy: defaults, the checks the schema
 * cannot make, and which addresses may become dial targets (table-driven).
 */
import { describe, expect, it } from 'vitest';
import { AddressPolicy, compileRegistryOptions, RegistryOptionsError } from '../../src/registry/index.js';

describe('registry options', () => {
  it('defaults to loopback, Eureka lease timings, self-preservation at 85 % and the documented caps', () => {
    const o = compileRegistryOptions({});
    expect(o).toMatchObject({ host: '127.0.0.1', port: 8761, renewalMs: 30_000, expiryMs: 90_000, evictEveryMs: 60_000, selfPreservation: { threshold: 0.85, windowMs: 60_000 }, maxInstancesPerApp: 1000, maxApps: 1000, maxBodyBytes: 65536, auth: { kind: 'none' } });
    expect(Object.isFrozen(o)).toBe(true);
  });

  it.each([
    [{ lease: { renewal: '30s', expiry: '30s' } }, /lease.expiry/],
    [{ selfPreservation: { window: '5m' } }, /selfPreservation.window/],
    [{ allowTargets: ['10.0.0.0/33'] }, /allowTargets/],
    [{ listen: { hots: 'x' } }, /listen/],
    [{ auth: { basic: { user: 'svc', password: 'short' } } }, /auth/],
    [{ auth: { token: 'abc' } }, /auth/],
    [{ maxInstancesPerApp: 0 }, /maxInstancesPerApp/],
  ])('refuses %j', (doc, where) => {
    expect(() => compileRegistryOptions(doc)).toThrow(RegistryOptionsError);
    expect(() => compileRegistryOptions(doc)).toThrow(where);
  });

  it('can turn self-preservation off', () => {
    expect(compileRegistryOptions({ selfPreservation: false }).selfPreservation).toBeUndefined();
  });
});

describe('address policy', () => {
  const defaults = compileRegistryOptions({}).addresses;
  it.each([
    ['127.0.0.1', true],
    ['10.1.2.3', true],
    ['172.16.0.9', true],
    ['192.168.1.1', true],
    ['::1', true],
    ['fd12::1', true],
    ['::ffff:10.0.0.1', true],
    ['8.8.8.8', false],
    ['172.32.0.1', false],
    ['169.254.169.254', false],
    ['::ffff:169.254.169.254', false],
    ['0.0.0.0', false],
    ['::', false],
    ['224.0.0.251', false],
    ['255.255.255.255', false],
    ['fe80::1', false],
    ['fd00:ec2::254', false],
    ['localhost', false],
    ['10.0.0.1:8080', false],
  ])('default allowTargets: %s → %s', (ip, ok) => {
    expect(defaults.check(ip).ok).toBe(ok);
  });

  it('keeps refused ranges closed inside a wide entry, and opens one an entry names', () => {
    const wide = new AddressPolicy(['0.0.0.0/0']);
    expect(wide.check('8.8.8.8').ok).toBe(true);
    expect(wide.check('169.254.169.254')).toMatchObject({ ok: false, reason: expect.stringMatching(/metadata/) });
    const named = new AddressPolicy(['169.254.10.0/24']);
    expect(named.check('169.254.10.5').ok).toBe(true);
    expect(named.check('169.254.169.254').ok).toBe(false);
  });
});
