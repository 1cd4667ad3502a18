/**
 * The `eureka` provider: Eureka's JSON shapes (a list of one is an object,
 * ports are `{"$": 8080, "@enabled": "true"}`), what counts as an answer
 * (404 = no instances) and what is a failure (5xx, garbage, too large, too
 * slow), Basic auth from the URL, against a fake Eureka on a loopback port.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eurekaStatus, metadataWeight, parseApplication } from '../../src/discovery/eureka-json.js';
import { eurekaTarget } from '../../src/discovery/eureka.js';
import { EurekaProvider, type DiscoveredInstance } from '../../src/discovery/index.js';
import { waitFor } from '../../src/testing/index.js';
import { captureLog } from '../helpers/log-capture.js';
import { eurekaInstance, quiet, startFakeEureka, urls, type FakeEureka } from './helpers.js';

describe('Eureka statuses and weights', () => {
  it.each([
    ['UP', 'up'],
    ['up', 'up'],
    ['OUT_OF_SERVICE', 'draining'],
    ['DOWN', 'down'],
    ['STARTING', 'down'],
    ['UNKNOWN', 'down'],
    [undefined, 'down'],
  ])('status %s → %s', (status, expected) => {
    expect(eurekaStatus(status)).toBe(expected);
  });

  it.each([
    [{ weight: '5' }, 5],
    [{ weight: 100 }, 100],
    [{ weight: '101' }, 1],
    [{ weight: '0' }, 1],
    [{ weight: '-3' }, 1],
    [{ weight: '2.5' }, 1],
    [{ weight: 'heavy' }, 1],
    [{}, 1],
    [undefined, 1],
  ])('metadata %j → weight %d', (metadata, expected) => {
    expect(metadataWeight(metadata)).toBe(expected);
  });
});

describe('parseApplication', () => {
  const now = Date.now();

  it('reads a list of instances, and a single instance written as an object', () => {
    const list = parseApplication({ application: { name: 'ORDERS', instance: [eurekaInstance('10.0.0.1', 8080), eurekaInstance('10.0.0.2', 8080)] } }, now);
    expect(urls(list)).toEqual(['http://10.0.0.1:8080', 'http://10.0.0.2:8080']);
    const one = parseApplication({ application: { name: 'ORDERS', instance: eurekaInstance('10.0.0.1', 8080) } }, now);
    expect(urls(one)).toEqual(['http://10.0.0.1:8080']);
    expect(parseApplication({ application: { name: 'ORDERS' } }, now)).toEqual([]);
  });

  it('dials the secure port over https when it is enabled, bare and string ports included', () => {
    const [secure] = parseApplication({ application: { instance: eurekaInstance('10.0.0.1', 8080, { securePort: { $: '8443', '@enabled': 'true' } }) } }, now);
    expect(secure!.url).toBe('https://10.0.0.1:8443');
    const [bare] = parseApplication({ application: { instance: eurekaInstance('10.0.0.1', 8080, { port: 9090 }) } }, now);
    expect(bare!.url).toBe('http://10.0.0.1:9090');
    const [v6] = parseApplication({ application: { instance: eurekaInstance('::1', 8080) } }, now);
    expect(v6!.url).toBe('http://[::1]:8080');
  });

  it('skips an instance with no usable address or port, keeping the others', () => {
    const set = parseApplication(
      {
        application: {
          instance: [
            eurekaInstance('10.0.0.1', 8080, { port: { $: 8080, '@enabled': 'false' } }),
            eurekaInstance('', 8080, { hostName: '' }),
            eurekaInstance('10.0.0.3', 70000),
            eurekaInstance('evil/path', 80),
            eurekaInstance('10.0.0.4', 8080),
          ],
        },
      },
      now,
    );
    expect(urls(set)).toEqual(['http://10.0.0.4:8080']);
  });

  it('maps status, weight metadata and a source naming the lease age', () => {
    const [i] = parseApplication(
      { application: { name: 'ORDERS', instance: eurekaInstance('10.0.0.1', 8080, { instanceId: 'i-1', status: 'OUT_OF_SERVICE', metadata: { weight: '4' }, leaseInfo: { lastRenewalTimestamp: now - 12_000 } }) } },
      now,
    );
    expect(i).toEqual({ url: 'http://10.0.0.1:8080', weight: 4, status: 'draining', source: 'eureka ORDERS i-1, lease 12s' });
  });

  it.each([null, [], { applications: {} }, { application: { instance: ['x'] } }])('refuses %j as not Eureka', (body) => {
    expect(() => parseApplication(body, now)).toThrow(/not a Eureka application document/);
  });
});

describe('eurekaTarget', () => {
  it('takes Basic credentials out of the url and never prints them', () => {
    const t = eurekaTarget('http://svc:p%40ss@eureka:8761/eureka/', 'ORDERS');
    expect(t.origin).toBe('http://eureka:8761');
    expect(t.path).toBe('/eureka/apps/ORDERS');
    expect(t.headers.authorization).toBe(`Basic ${Buffer.from('svc:p@ss').toString('base64')}`);
    expect(t.display).toBe('http://eureka:8761/eureka');
  });
});

describe('EurekaProvider against a fake Eureka', () => {
  let eureka: FakeEureka;
  let provider: EurekaProvider | undefined;
  let sets: Array<readonly DiscoveredInstance[]>;
  const start = (url: string, extra: { maxBytes?: number; timeoutMs?: number; logger?: ReturnType<typeof captureLog>['logger'] } = {}) => {
    sets = [];
    provider = new EurekaProvider({ url, app: 'orders', refreshMs: 20, timeoutMs: extra.timeoutMs ?? 1000, logger: extra.logger ?? quiet, ...(extra.maxBytes ? { maxBytes: extra.maxBytes } : {}) });
    provider.start((s) => sets.push(s));
  };
  afterEach(async () => {
    provider?.stop();
    provider = undefined;
    await eureka.close();
  });

  it('asks for JSON and sends Basic auth from the url', async () => {
    eureka = await startFakeEureka({ auth: 'svc:s3cret' });
    eureka.instances = eurekaInstance('127.0.0.1', 9001);
    start(eureka.url.replace('http://', 'http://svc:s3cret@'));
    await waitFor(() => sets.length > 0, { message: 'the first set' });
    expect(urls(sets[0])).toEqual(['http://127.0.0.1:9001']);
    expect(eureka.server.requests[0]!.headers.accept).toBe('application/json');
  });

  it('treats a 404 as a real answer: the application has no instances', async () => {
    eureka = await startFakeEureka();
    eureka.instances = [eurekaInstance('127.0.0.1', 9001)];
    start(eureka.url);
    await waitFor(() => sets.length > 0, { message: 'the first set' });
    eureka.mode = 'missing';
    await waitFor(() => sets.length > 1, { message: 'the empty set' });
    expect(sets[1]).toEqual([]);
    expect(provider!.state().errors).toBe(0);
  });

  it('fails on wrong credentials, garbage and oversized bodies, keeping the set, and never logs the password', async () => {
    const log = captureLog();
    eureka = await startFakeEureka({ auth: 'svc:right' });
    eureka.instances = Array.from({ length: 50 }, (_, i) => eurekaInstance('127.0.0.1', 9000 + i));
    start(eureka.url.replace('http://', 'http://svc:wrong@'), { logger: log.logger, maxBytes: 4096 });
    await waitFor(() => provider!.state().errors > 0 || undefined, { message: 'a failure' });
    expect(provider!.state().lastError).toMatch(/status 401/);
    provider!.stop();
    start(eureka.url.replace('http://', 'http://svc:right@'), { logger: log.logger, maxBytes: 4096 });
    await waitFor(() => provider!.state().errors > 0 || undefined, { message: 'a failure' });
    expect(provider!.state().lastError).toMatch(/larger than 4096 bytes/);
    eureka.instances = [eurekaInstance('127.0.0.1', 9001)];
    await waitFor(() => sets.length > 0, { message: 'the small set' });
    eureka.mode = 'garbage';
    await waitFor(() => provider!.state().lastError?.includes('not JSON') || undefined, { message: 'garbage refused' });
    expect(sets).toHaveLength(1);
    expect(JSON.stringify(log.lines)).not.toMatch(/wrong|right/);
    // Once per run of failures (401; too large, then recovered; garbage), however many polls failed.
    expect(log.lines.filter((l) => l.msg.startsWith('discovery failing'))).toHaveLength(3);
    expect(log.lines.filter((l) => l.msg === 'discovery recovered')).toHaveLength(1);
  });

  it('times out a server that does not answer', async () => {
    eureka = await startFakeEureka();
    eureka.server.setHandler(() => undefined); // never answers
    start(eureka.url, { timeoutMs: 100 });
    await waitFor(() => provider!.state().errors > 0 || undefined, { message: 'a timeout' });
    expect(provider!.state().lastError).toMatch(/timed out after 100ms|timeout/i);
  });
});
