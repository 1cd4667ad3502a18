/**
 * The `registry` provider: the gateway's own registry read through the
 * RegistrySource interface — statuses, weights, the source text, only its own
 * application's changes, a failing store logged once and retried.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RegistryProvider, type DiscoveredInstance } from '../../src/discovery/index.js';
import { toInstance } from '../../src/discovery/registry.js';
import { waitFor } from '../../src/testing/index.js';
import { captureLog } from '../helpers/log-capture.js';
import { FakeRegistry, quiet, urls } from './helpers.js';

const reg = (over: Record<string, unknown> = {}) => ({
  app: 'ORDERS',
  instanceId: 'i-1',
  url: 'http://10.0.0.1:8080',
  status: 'UP',
  weight: 1,
  lastRenewedAt: 1_000_000,
  registeredAt: 900_000,
  metadata: {},
  ...over,
});

describe('toInstance', () => {
  it.each([
    ['UP', 'up'],
    ['OUT_OF_SERVICE', 'draining'],
    ['DOWN', 'down'],
    ['STARTING', 'down'],
    ['UNKNOWN', 'down'],
  ])('maps %s to %s', (status, expected) => {
    expect(toInstance(reg({ status }), 1_000_000).status).toBe(expected);
  });

  it('takes the weight from the metadata (1..100), else from the registration, else 1', () => {
    expect(toInstance(reg({ metadata: { weight: '7' } }), 0).weight).toBe(7);
    expect(toInstance(reg({ metadata: { weight: '700' } }), 0).weight).toBe(1);
    expect(toInstance(reg({ weight: 3 }), 0).weight).toBe(3);
    expect(toInstance(reg({ weight: 0 }), 0).weight).toBe(1);
  });

  it('names the app, the instance and the lease age in its source', () => {
    expect(toInstance(reg(), 1_012_400).source).toBe('registry ORDERS i-1, lease 12s');
  });
});

describe('RegistryProvider', () => {
  let source: FakeRegistry;
  let provider: RegistryProvider | undefined;
  afterEach(() => provider?.stop());

  it('reads its application case-insensitively, and ignores other applications', () => {
    source = new FakeRegistry();
    source.set('ORDERS', [{ url: 'http://10.0.0.1:8080' }]);
    const sets: Array<readonly DiscoveredInstance[]> = [];
    provider = new RegistryProvider({ source, app: 'orders', logger: quiet });
    provider.start((s) => sets.push(s));
    expect(urls(sets[0])).toEqual(['http://10.0.0.1:8080']); // at once: no network in between
    const reads = source.reads;
    source.set('billing', [{ url: 'http://10.0.0.9:8080' }]);
    expect(source.reads).toBe(reads);
    source.set('Orders', [{ url: 'http://10.0.0.2:8080' }]);
    expect(urls(sets[1])).toEqual(['http://10.0.0.2:8080']);
  });

  it('reports a status change as a new set (a source text change alone is not one)', () => {
    source = new FakeRegistry();
    source.set('ORDERS', [{ url: 'http://10.0.0.1:8080', lastRenewedAt: 1 }]);
    const sets: Array<readonly DiscoveredInstance[]> = [];
    provider = new RegistryProvider({ source, app: 'ORDERS', logger: quiet });
    provider.start((s) => sets.push(s));
    source.set('ORDERS', [{ url: 'http://10.0.0.1:8080', lastRenewedAt: 99_999 }]);
    expect(sets).toHaveLength(1);
    source.set('ORDERS', [{ url: 'http://10.0.0.1:8080', status: 'OUT_OF_SERVICE' }]);
    expect(sets.map((s) => s[0]!.status)).toEqual(['up', 'draining']);
  });

  it('unsubscribes on stop', () => {
    source = new FakeRegistry();
    provider = new RegistryProvider({ source, app: 'ORDERS', logger: quiet });
    provider.start(() => undefined);
    expect(source.subscribers).toBe(1);
    provider.stop();
    expect(source.subscribers).toBe(0);
  });

  it('logs a failing store once, retries it without a change event, and logs the recovery once', async () => {
    const log = captureLog();
    source = new FakeRegistry();
    source.set('ORDERS', [{ url: 'http://10.0.0.1:8080' }]);
    const sets: Array<readonly DiscoveredInstance[]> = [];
    provider = new RegistryProvider({ source, app: 'ORDERS', logger: log.logger, retryMs: 10 });
    provider.start((s) => sets.push(s));
    source.broken = true;
    source.announce('ORDERS');
    await waitFor(() => provider!.state().errors >= 3 || undefined, { message: 'three failed reads' });
    expect(provider.state().lastError).toBe('store unavailable');
    source.broken = false;
    await waitFor(() => provider!.state().lastError === undefined || undefined, { message: 'the retry that recovers' });
    expect(log.lines.filter((l) => l.msg.startsWith('discovery failing'))).toHaveLength(1);
    expect(log.lines.filter((l) => l.msg === 'discovery recovered')).toHaveLength(1);
    expect(sets).toHaveLength(1);
  });
});
