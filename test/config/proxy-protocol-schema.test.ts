/**
 * Issue 18 config: gateway.yaml `proxyProtocol.accept` — defaults applied,
 * peers checked as addresses/CIDRs at their file:line, versions and unknown
 * keys refused with a suggestion.
 */
import { describe, expect, it } from 'vitest';
import { restartNotices } from '../../src/gateway/restart-required.js';
import { loadErrors, loadValid } from './helpers.js';

describe('18: proxyProtocol.accept', () => {
  it('applies the defaults (both versions, 3s)', async () => {
    const c = await loadValid({ 'gateway.yaml': 'proxyProtocol:\n  accept: { from: [10.0.0.0/8, "fd00::/8", 192.0.2.7] }\n' });
    expect(c.gateway.proxyProtocol).toEqual({ accept: { from: ['10.0.0.0/8', 'fd00::/8', '192.0.2.7'], versions: ['v1', 'v2'], timeout: '3s' } });
  });

  it.each([
    ['10.0.0.0/33', /gateway\.yaml:3:\d+: proxyProtocol\.accept\.from\[1\]: "10\.0\.0\.0\/33" has an invalid prefix length/],
    ['lb.internal', /gateway\.yaml:3:\d+: proxyProtocol\.accept\.from\[1\]: "lb\.internal" is not an IP address or CIDR/],
    ['10.0.0.0/8/8', /gateway\.yaml:3:\d+: proxyProtocol\.accept\.from\[1\]: "10\.0\.0\.0\/8\/8" is not an IP address or CIDR/],
  ])('refuses the peer %s at its file:line', async (entry, message) => {
    const errors = await loadErrors({ 'gateway.yaml': `proxyProtocol:\n  accept:\n    from: [10.0.0.1, "${entry}"]\n` });
    expect(errors.join('\n')).toMatch(message);
  });

  it('refuses an unknown version and an unknown key with a suggestion', async () => {
    const errors = (await loadErrors({ 'gateway.yaml': 'proxyProtocol:\n  accept:\n    from: [10.0.0.1]\n    versions: [v3]\n    timout: 1s\n' })).join('\n');
    expect(errors).toMatch(/gateway\.yaml:4:\d+: proxyProtocol\.accept\.versions\[0\]/);
    expect(errors).toMatch(/gateway\.yaml:5:\d+: .*timout[\s\S]*timeout/);
  });

  it('refuses an empty peer list', async () => {
    const errors = await loadErrors({ 'gateway.yaml': 'proxyProtocol:\n  accept: { from: [] }\n' });
    expect(errors.join('\n')).toMatch(/gateway\.yaml:2:\d+: proxyProtocol\.accept\.from/);
  });

  it('a change waits for a restart, and the reload says which key', async () => {
    const running = (await loadValid({ 'gateway.yaml': '' })).gateway;
    const configured = (await loadValid({ 'gateway.yaml': 'proxyProtocol: { accept: { from: [10.0.0.0/8] } }\n' })).gateway;
    expect(restartNotices(running, configured)).toEqual([{ key: 'proxyProtocol', running: null, configured: { accept: { from: ['10.0.0.0/8'], versions: ['v1', 'v2'], timeout: '3s' } } }]);
    const narrower = (await loadValid({ 'gateway.yaml': 'proxyProtocol: { accept: { from: [10.0.0.0/16] } }\n' })).gateway;
    expect(restartNotices(configured, narrower).map((n) => n.key)).toEqual(['proxyProtocol.accept.from']);
  });
});
