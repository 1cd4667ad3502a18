/**
 * createClient and registerInstance validate their options with the
 * route-file validator: the same wording, the same "did you mean", every
 * problem at once, thrown as InvalidOptionsError before anything is contacted.
 */
import { Registry } from 'prom-client';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { createClient, InvalidOptionsError, registerInstance, type ClientOptions, type DiscoveryOptions, type RegisterOptions } from '../../src/client/index.js';
import { validateClientOptions, validateRegisterOptions, type ClientOptionsDoc, type RegisterOptionsDoc } from '../../src/client/options.js';
import { quiet } from './helpers.js';

/** problems returns the formatted errors createClient throws for `options`. */
function problems(options: unknown): string[] {
  try {
    createClient(options as ClientOptions);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidOptionsError);
    expect((err as InvalidOptionsError).code).toBe('SY_ERR_LB_OPTIONS');
    return (err as InvalidOptionsError).errors.map((e) => e.format());
  }
  throw new Error('createClient accepted the options');
}

const discovery = { targets: { USERS: [{ url: 'http://127.0.0.1:9001' }] } };

describe('createClient options', () => {
  it.each([
    { name: 'a misspelt key', options: { discovery, balancr: 'random' }, want: 'createClient options: unknown key "balancr"; did you mean "balancer"?' },
    { name: 'another product\'s balancer name', options: { discovery, balancer: 'least_conn' }, want: 'createClient options: balancer: expected one of round-robin, weighted-round-robin, least-connections, ip-hash, random; did you mean "least-connections"?' },
    { name: 'a misspelt nested key', options: { discovery, outlierDetection: { consecutiveFailure: 3 } }, want: 'createClient options: outlierDetection: unknown key "consecutiveFailure"; did you mean "consecutiveFailures"?' },
    { name: 'a misspelt discovery source', options: { discovery: { registy: 'http://gw:8761/eureka' } }, want: 'createClient options: discovery: unknown key "registy"; did you mean "registry"?' },
    { name: 'two discovery sources', options: { discovery: { ...discovery, registry: 'http://gw:8761/eureka' } }, want: 'createClient options: discovery: expected exactly one key, got 2' },
    { name: 'a bad duration', options: { discovery, timeouts: { connect: 'soon' } }, want: 'createClient options: timeouts.connect: expected a duration such as 500ms, 5s or a number of milliseconds, got "soon"' },
    { name: 'a retried status below 500', options: { discovery, retry: { on: [404] } }, want: 'createClient options: retry.on[0]: expected a number >= 500, got 404' },
    { name: 'a target with a path', options: { discovery: { targets: { USERS: [{ url: 'http://10.0.0.5:8080/api' }] } } }, want: 'createClient options: discovery.targets.USERS[0].url: URL "http://10.0.0.5:8080/api" must not have a path (routes decide paths; see stripPrefix)' },
    { name: 'no discovery', options: {}, want: 'createClient options: missing key "discovery"' },
    { name: 'a logger that is not one', options: { discovery, logger: 'debug' }, want: 'createClient options: logger: expected a pino logger (an object with child())' },
    { name: 'metrics that are not a registry', options: { discovery, metrics: {} }, want: 'createClient options: metrics: expected a prom-client Registry' },
  ])('rejects $name', ({ options, want }) => {
    expect(problems(options)).toContain(want);
  });

  it('reports every problem at once', () => {
    expect(problems({ discovery, balancer: 'rr', retry: { attempts: 9 } })).toEqual([
      'createClient options: balancer: expected one of round-robin, weighted-round-robin, least-connections, ip-hash, random; did you mean "round-robin"?',
      'createClient options: retry.attempts: expected a number <= 5, got 9',
    ]);
  });

  it('fills the route-file defaults, without touching the caller\'s object', () => {
    const given = { discovery };
    const doc = validateClientOptions(given);
    expect(given).toEqual({ discovery });
    expect(doc).toMatchObject({
      balancer: 'round-robin',
      outlierDetection: { enabled: true, consecutiveFailures: 5, baseEjectionTime: '30s', maxEjectionPercent: 50 },
      retry: { attempts: 1, on: [502, 503, 504] },
      retryBudget: { percent: 20, minPerSecond: 3 },
      timeouts: { connect: '5s', response: '30s', idle: '60s' },
      keepAlive: { connections: 128, idle: '4s', pipelining: 1 },
      startTimeout: '5s',
    });
  });

  it('accepts every discovery source, a fallback, a logger and a registry', () => {
    const ok: ClientOptions[] = [
      { discovery: { registry: 'http://svc:pw@gw:8761/eureka' } },
      { discovery: { registry: { url: 'http://gw:8761/eureka', refresh: '1s' } } },
      { discovery: { eureka: { url: 'http://eureka:8761/eureka' } }, fallback: { targets: { USERS: [{ url: 'http://10.0.0.5:8080' }] } } },
      { discovery: { dns: { apps: { USERS: { name: 'users.internal', port: 8080 } }, resolver: { servers: ['127.0.0.1:5353'] } } } },
      { discovery, balancer: 'least-connections', logger: quiet, metrics: new Registry() },
    ];
    for (const options of ok) expect(() => createClient(options)).not.toThrow();
  });

  it('types: a validated document is valid input again', () => {
    // The schema says "exactly one source" with maxProperties, the type with a union: compare source by source.
    type Sources = NonNullable<ClientOptionsDoc['discovery']>;
    expectTypeOf<Omit<ClientOptionsDoc, 'discovery'>>().toMatchTypeOf<Omit<ClientOptions, 'discovery' | 'logger' | 'metrics'>>();
    expectTypeOf<{ registry: NonNullable<Sources['registry']> }>().toMatchTypeOf<DiscoveryOptions>();
    expectTypeOf<{ eureka: NonNullable<Sources['eureka']> }>().toMatchTypeOf<DiscoveryOptions>();
    expectTypeOf<{ dns: NonNullable<Sources['dns']> }>().toMatchTypeOf<DiscoveryOptions>();
    expectTypeOf<{ targets: NonNullable<Sources['targets']> }>().toMatchTypeOf<DiscoveryOptions>();
    expectTypeOf<RegisterOptionsDoc>().toMatchTypeOf<RegisterOptions>();
  });
});

describe('registerInstance options', () => {
  it('rejects before contacting anything, with the same wording', async () => {
    const err = await registerInstance({ registry: 'gw:8761', app: 'users', prot: 3000 } as unknown as RegisterOptions).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidOptionsError);
    expect((err as InvalidOptionsError).errors.map((e) => e.format())).toEqual([
      'registerInstance options: missing key "port"',
      'registerInstance options: unknown key "prot"; did you mean "port"?',
      'registerInstance options: registry: must match the pattern ^https?://, got "gw:8761"',
    ]);
  });

  it('fills Eureka\'s lease defaults', () => {
    expect(validateRegisterOptions({ registry: 'http://gw:8761/eureka', app: 'users', port: 3000 })).toMatchObject({ renewalInterval: '30s', leaseDuration: '90s', timeout: '5s' });
  });
});

describe('options that are not data', () => {
  it('are an InvalidOptionsError, not a crash', () => {
    expect(problems({ discovery, retry: { on: () => [503] } })[0]).toMatch(/^createClient options: expected plain data/);
  });
});
