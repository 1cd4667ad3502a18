/**
 * The before/after trees of the golden tests: one change each, as a team
 * would make it in its route file.
 */
import { ORDERS, USERS } from './helpers.js';

/** Scenario is a change: the files before and after (gateway.yaml defaults to GATEWAY). */
export interface Scenario {
  before: Record<string, string>;
  after: Record<string, string>;
}

const base = { 'routes/orders.yaml': ORDERS, 'routes/users.yaml': USERS };

/** SCENARIOS are the golden cases by name. */
export const SCENARIOS: Record<string, Scenario> = {
  'route added': {
    before: base,
    after: {
      ...base,
      'routes/team-b.yaml': `routes:
  - id: reports
    match: { path: /api/reports/*, methods: [GET] }
    upstream: users
    plugins: [ jwt: { algorithms: [HS256], secret: "0123456789abcdef0123456789abcdef" } ]
`,
    },
  },
  'route removed': {
    before: base,
    after: { ...base, 'routes/users.yaml': USERS.split('  - id: users-admin')[0]! },
  },
  shadowed: {
    before: base,
    after: {
      ...base,
      'routes/team-b.yaml': `upstreams:
  orders-new:
    targets: [ { url: "http://10.0.0.9:8080" } ]
routes:
  - id: orders-new
    match: { path: /api/orders/*, methods: [GET] }
    upstream: orders-new
`,
    },
  },
  'auth removed': {
    before: base,
    after: {
      'gateway.yaml': 'listen: { host: 127.0.0.1, port: 0 }\nadmin: { host: 127.0.0.1, port: 0 }\n',
      'routes/orders.yaml': ORDERS.replace(/    plugins:\n.*\n/, ''),
      'routes/users.yaml': USERS,
    },
  },
  'global auth removed': {
    before: { ...base, 'gateway.yaml': 'listen: { host: 127.0.0.1, port: 0 }\nadmin: { host: 127.0.0.1, port: 0 }\nchain:\n  - request-id\n  - ip-filter: { allow: [10.0.0.0/8] }\n' },
    after: base,
  },
  'upstream target moved': {
    before: base,
    after: { ...base, 'routes/orders.yaml': ORDERS.replace('10.0.0.2:8080', '10.0.0.3:8080').replace('10.0.0.1:8080', '198.51.100.7:8080') },
  },
  'limits raised': {
    before: base,
    after: {
      ...base,
      'routes/users.yaml': USERS.replace('    upstream: users\n  - id: users-admin', '    upstream: users\n    bodyLimit: 52428800\n    timeouts: { response: 5m }\n  - id: users-admin'),
    },
  },
  'canary raised': {
    before: { ...base, 'routes/orders.yaml': canary(10) },
    after: { ...base, 'routes/orders.yaml': canary(20) },
  },
  'canary added': {
    before: base,
    after: { ...base, 'routes/orders.yaml': canary(10) },
  },
};

/** canary is ORDERS with an orders-v2 pool taking `weight` % of the cohorts by the `sub` claim, and an override for testers. */
function canary(weight: number): string {
  return ORDERS.replace('routes:', 'upstreams_v2_placeholder\nroutes:')
    .replace('upstreams_v2_placeholder\n', '')
    .replace('upstreams:\n', 'upstreams:\n  orders-v2:\n    targets: [ { url: "http://10.0.0.3:8080" } ]\n')
    .concat(`    split:\n      by: claim:sub\n      to:\n        - { upstream: orders-v2, weight: ${weight} }\n        - { upstream: orders-v2, when: { headers: { x-canary: "1" } } }\n`);
}
