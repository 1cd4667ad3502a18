/**
 * suggest: the closest name, or nothing when nothing is close.
 */
import { describe, expect, it } from 'vitest';
import { distance, suggest } from '../../src/config/suggest.js';

const BALANCERS = ['round-robin', 'weighted-round-robin', 'least-connections', 'ip-hash', 'random'];
const KEYS = ['balancer', 'targets', 'hostHeader', 'timeouts', 'keepAlive', 'tls', 'healthCheck'];

describe('suggest', () => {
  it.each([
    { word: 'balancr', candidates: KEYS, out: 'balancer' },
    { word: 'target', candidates: KEYS, out: 'targets' },
    { word: 'healthcheck', candidates: KEYS, out: 'healthCheck' },
    { word: 'tsl', candidates: KEYS, out: 'tls' },
    { word: 'least-conections', candidates: BALANCERS, out: 'least-connections' },
    { word: 'roundrobin', candidates: BALANCERS, out: 'round-robin' },
    { word: 'ROUND-ROBIN', candidates: BALANCERS, out: 'round-robin' },
    { word: 'least', candidates: BALANCERS, out: 'least-connections' }, // cut short
    { word: 'warning', candidates: ['warn', 'error'], out: 'warn' }, // run on
    { word: 'user', candidates: ['users', 'billing'], out: 'users' },
    { word: 'fastest', candidates: BALANCERS, out: undefined },
    { word: 'x', candidates: ['ip', 'id'], out: undefined },
    { word: 'anything', candidates: [], out: undefined },
  ])('$word → $out', ({ word, candidates, out }) => {
    expect(suggest(word, candidates)).toBe(out);
  });
});

describe('13.16: other products\' balancer names are suggested, never accepted', () => {
  it.each([
    ['leastconn', 'least-connections'], // HAProxy
    ['least_conn', 'least-connections'], // nginx
    ['LEAST_REQUEST', 'least-connections'], // Envoy
    ['roundrobin', 'round-robin'], // HAProxy
    ['ROUND_ROBIN', 'round-robin'], // Envoy
    ['rr', 'round-robin'],
    ['wrr', 'weighted-round-robin'],
    ['static-rr', 'weighted-round-robin'], // HAProxy
    ['ip_hash', 'ip-hash'], // nginx
    ['source', 'ip-hash'], // HAProxy
    ['RANDOM', 'random'], // Envoy
  ])('%s → %s', (word, out) => {
    expect(suggest(word, BALANCERS)).toBe(out);
  });

  it('an alias only names a candidate that is offered', () => {
    expect(suggest('wrr', ['round-robin', 'random'])).toBeUndefined();
    expect(suggest('source', KEYS)).toBeUndefined();
    expect(suggest('constructor', BALANCERS)).toBeUndefined();
  });
});

describe('distance', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['', 'abc', 3],
    ['kitten', 'sitting', 3],
    ['balancr', 'balancer', 1],
    ['flaw', 'lawn', 2],
  ] as const)('%s ↔ %s = %d', (a, b, d) => {
    expect(distance(a, b)).toBe(d);
    expect(distance(b, a)).toBe(d);
  });
});
