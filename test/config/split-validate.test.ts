/**
 * Validation of `split` blocks: each problem named at its file:line with
 * what was expected, as `switchyard validate` prints it (load and compile).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { ConfigInvalid } from '../../src/config/errors.js';
import { createGateway } from '../../src/gateway/gateway.js';
import { relative, writeTree } from './helpers.js';

const POOLS = `upstreams:
  orders-v1: { targets: [ { url: "http://127.0.0.1:1" } ] }
  orders-v2: { targets: [ { url: "http://127.0.0.1:2" } ] }
  orders-sticky: { targets: [ { url: "http://127.0.0.1:3" } ], sticky: { cookie: sy-cohort } }
  redis: { targets: [ { url: "tcp://127.0.0.1:6379" } ] }
`;

/** errorsOf compiles a route file (after POOLS) and returns the formatted errors, paths relative to the tree ([] when valid). */
async function errorsOf(routes: string): Promise<string[]> {
  const dir = await writeTree({ 'gateway.yaml': '', 'routes/orders.yaml': POOLS + routes });
  try {
    const gw = await createGateway({ configFile: path.join(dir, 'gateway.yaml'), logger: pino({ level: 'silent' }), offline: true });
    await gw.close();
    return [];
  } catch (err) {
    if (!(err instanceof ConfigInvalid)) throw err;
    return err.errors.map((e) => relative(e.format(), dir));
  }
}

/** route is a route on line 6 of the file (after the 5 lines of POOLS); its split block is on line 10 and what it holds starts on line 11. */
const route = (split: string) => `routes:
  - id: orders
    match: { path: /api/orders/* }
    upstream: orders-v1
    split:
${split}`;

describe('split validation', () => {
  it.each([
    [
      'weights summing over 100',
      '      to:\n        - { upstream: orders-v2, weight: 60 }\n        - { upstream: orders-v1, weight: 50 }\n',
      'routes/orders.yaml:11:7: routes[0].split.to: the weights sum to 110: at most 100 (they are percents of the cohorts; the primary takes what is left)',
    ],
    ['a weight over 100', '      to: [ { upstream: orders-v2, weight: 101 } ]\n', /^routes\/orders\.yaml:11:\d+: routes\[0\]\.split\.to\[0\]\.weight: .*100/],
    ['an unknown upstream', '      to: [ { upstream: orders-v22, weight: 10 } ]\n', /^routes\/orders\.yaml:11:\d+: routes\[0\]\.split\.to\[0\]\.upstream: unknown upstream "orders-v22"; did you mean "orders-v2"\?$/],
    ['a leg with tcp:// targets', '      to: [ { upstream: redis, weight: 10 } ]\n', /^routes\/orders\.yaml:11:\d+: routes\[0\]\.split\.to\[0\]\.upstream: upstream "redis" has tcp:\/\/ targets: a split leg needs http:\/\/ or https:\/\/ targets$/],
    ['a leg with weight and when', '      to: [ { upstream: orders-v2, weight: 10, when: { headers: { x-canary: "1" } } } ]\n', /routes\[0\]\.split\.to\[0\]: a leg has weight or when, not both/],
    ['a leg with neither', '      to: [ { upstream: orders-v2 } ]\n', /routes\[0\]\.split\.to\[0\]: a leg needs weight \(a share of the cohorts\) or when \(an override\)/],
    ['an override checked like match (bad host)', '      to: [ { upstream: orders-v2, when: { host: "a*b.example.com" } } ]\n', /routes\[0\]\.split\.to\[0\]\.when: host "a\*b\.example\.com" may only use "\*\." as a leading wildcard/],
    ['an override without conditions', '      to: [ { upstream: orders-v2, when: {} } ]\n', /routes\[0\]\.split\.to\[0\]\.when/],
    ['an override with an unknown condition', '      to: [ { upstream: orders-v2, when: { header: { x: "1" } } } ]\n', /routes\[0\]\.split\.to\[0\]\.when.*header.*did you mean "headers"/],
    ['an unknown cohort key', '      by: claims:sub\n      to: [ { upstream: orders-v2, weight: 10 } ]\n', /^routes\/orders\.yaml:11:\d+: routes\[0\]\.split\.by: unknown cohort key "claims:sub": expected claim:NAME, cookie:NAME, header:NAME, session or ip; did you mean "claim"\?$/],
    ['a key kind without a name', '      by: "header:"\n      to: [ { upstream: orders-v2, weight: 10 } ]\n', /routes\[0\]\.split\.by: "header:" names no header: expected header:NAME/],
    ['a cohort cookie that is a sticky cookie', '      to: [ { upstream: orders-sticky, weight: 10 } ]\n', /routes\[0\]\.split\.cookie: cookie "sy-cohort" is the sticky cookie of upstream "orders-sticky"/],
    ['by: cookie naming a sticky cookie', '      by: cookie:sy-cohort\n      to: [ { upstream: orders-sticky, weight: 10 } ]\n', /^routes\/orders\.yaml:11:\d+: routes\[0\]\.split\.by: cookie "sy-cohort" is the sticky cookie/],
    ['an unknown fallback', '      fallback: secondary\n      to: [ { upstream: orders-v2, weight: 10 } ]\n', /routes\[0\]\.split\.fallback/],
  ])('refuses %s, at its file:line', async (_name, split, expected) => {
    const errors = await errorsOf(route(split));
    expect(errors.length, errors.join('\n')).toBeGreaterThanOrEqual(1);
    if (typeof expected === 'string') expect(errors, errors.join('\n')).toContain(expected);
    else expect(errors.some((e) => expected.test(e)), errors.join('\n')).toBe(true);
  });

  it('accepts a full split: weights to 100, overrides, fallback 503 written as a number, every key kind', async () => {
    for (const by of ['claim:sub', 'cookie:uid', 'header:x-user', 'session', 'ip']) {
      const split = `      by: ${by}\n      fallback: 503\n      to:\n        - { upstream: orders-v2, weight: 100 }\n        - { upstream: orders-v1, when: { cookies: { canary: "no" }, methods: [GET] } }\n`;
      expect(await errorsOf(route(split))).toEqual([]);
    }
    expect(await errorsOf(route('      to: [ { upstream: orders-v2, weight: 0 } ]\n'))).toEqual([]);
  });
});
