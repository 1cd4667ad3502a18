/**
 * `trustProxy` decides whose X-Forwarded-For the gateway believes: an entry
 * that is not an address or CIDR is an error at its file:line (it used to be
 * accepted and never match, so a load balancer the operator meant to trust
 * was silently not trusted).
 */
import { describe, expect, it } from 'vitest';
import { loadErrors, loadValid } from './helpers.js';

describe('trustProxy entries', () => {
  it('accepts addresses and CIDRs of both families, and true/false', async () => {
    const c = await loadValid({ 'gateway.yaml': 'trustProxy: [10.0.0.0/8, 192.0.2.7, "fd00::/8", "::1"]\n' });
    expect(c.gateway.trustProxy).toEqual(['10.0.0.0/8', '192.0.2.7', 'fd00::/8', '::1']);
    expect((await loadValid({ 'gateway.yaml': 'trustProxy: true\n' })).gateway.trustProxy).toBe(true);
  });

  it.each([
    ['10.0.0.0/33', /gateway\.yaml:2:\d+: trustProxy\[1\]: "10\.0\.0\.0\/33" has an invalid prefix length/],
    ['lb.internal', /gateway\.yaml:2:\d+: trustProxy\[1\]: "lb\.internal" is not an IP address or CIDR/],
    ['10.0.0/8', /gateway\.yaml:2:\d+: trustProxy\[1\]: "10\.0\.0\/8" is not an IP address or CIDR/],
  ])('refuses %s at its file:line', async (entry, message) => {
    const errors = await loadErrors({ 'gateway.yaml': `trustProxy:\n  [10.0.0.1, "${entry}"]\n` });
    expect(errors.join('\n')).toMatch(message);
  });
});
