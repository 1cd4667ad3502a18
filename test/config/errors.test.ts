/**
 * What a person sees when a configuration is wrong: each case is a set of
 * files with mistakes at known lines, and the exact errors `switchyard
 * validate` prints for them (file:line:col: path: message; suggestion).
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, ConfigInvalid, formatPath } from '../../src/config/errors.js';
import { loadErrors, UPSTREAM, type Tree } from './helpers.js';

interface Case {
  name: string;
  files: Tree;
  env?: Record<string, string>;
  errors: string[];
}

const cases: Case[] = [
  {
    name: 'misspelt key, with a suggestion at the key',
    files: { 'routes/users.yaml': 'upstreams:\n  users:\n    balancr: round-robin\n    targets:\n      - url: http://users:8080\n' },
    errors: ['routes/users.yaml:3:5: upstreams.users: unknown key "balancr"; did you mean "balancer"?'],
  },
  {
    name: 'unknown key with nothing close lists the allowed keys',
    files: { 'routes/users.yaml': 'upstreams: {}\nroutez: []\nxyz: 1\n' },
    errors: [
      'routes/users.yaml:2:1: unknown key "routez"; did you mean "routes"?',
      'routes/users.yaml:3:1: unknown key "xyz" (expected one of $schema, upstreams, routes, streamRoutes)',
    ],
  },
  {
    name: 'misspelt balancer, with the allowed values and a suggestion',
    files: { 'routes/users.yaml': 'upstreams:\n  users:\n    balancer: least-conections\n    targets:\n      - url: http://users:8080\n' },
    errors: [
      'routes/users.yaml:3:15: upstreams.users.balancer: expected one of round-robin, weighted-round-robin, least-connections, ip-hash, random; did you mean "least-connections"?',
    ],
  },
  {
    name: 'unknown upstream, with the closest name',
    files: {
      'routes/a-upstreams.yaml': UPSTREAM,
      'routes/users.yaml': 'routes:\n  - id: users\n    match: { path: /users/* }\n    upstream: user\n',
    },
    errors: ['routes/users.yaml:4:15: routes[0].upstream: unknown upstream "user"; did you mean "users"?'],
  },
  {
    name: 'unknown upstream with nothing close lists the defined ones',
    files: { 'routes/users.yaml': `${UPSTREAM}routes:\n  - id: billing\n    match: { path: /billing }\n    upstream: payments\n` },
    errors: ['routes/users.yaml:8:15: routes[0].upstream: unknown upstream "payments" (defined: users)'],
  },
  {
    name: 'duplicate route id across two files names both',
    files: {
      'routes/a.yaml': `${UPSTREAM}routes:\n  - id: users\n    match: { path: /a }\n    upstream: users\n`,
      'routes/b.yaml': 'routes:\n  - id: other\n    match: { path: /o }\n    upstream: users\n  - id: users\n    match: { path: /b }\n    upstream: users\n',
    },
    errors: ['routes/b.yaml:5:9: routes[1].id: duplicate route id "users" (also defined at routes/a.yaml:6:9)'],
  },
  {
    name: 'duplicate upstream across two files names both',
    files: { 'routes/a.yaml': UPSTREAM, 'routes/b.yaml': `# the same pool again\n${UPSTREAM}` },
    errors: ['routes/b.yaml:3:3: upstreams.users: duplicate upstream "users" (also defined at routes/a.yaml:2:3)'],
  },
  {
    name: 'empty targets',
    files: { 'routes/a.yaml': 'upstreams:\n  users:\n    targets: []\n' },
    errors: ['routes/a.yaml:3:14: upstreams.users.targets: must not be empty'],
  },
  {
    name: 'missing targets',
    files: { 'routes/a.yaml': 'upstreams:\n  users:\n    balancer: random\n' },
    errors: ['routes/a.yaml:2:3: upstreams.users: an upstream needs exactly one of targets or discover (neither is set)'],
  },
  {
    name: 'bad target URLs: scheme, path, credentials (password never shown), query, not a URL',
    files: {
      'routes/a.yaml': [
        'upstreams:',
        '  users:',
        '    targets:',
        '      - url: ftp://files:21',
        '      - url: http://users:8080/api',
        '      - url: http://admin:hunter2@users:8080',
        '      - url: http://users:8080/?x=1',
        '      - url: users:8080',
        '      - url: http://users:8080/',
        '',
      ].join('\n'),
    },
    errors: [
      'routes/a.yaml:4:14: upstreams.users.targets[0].url: unsupported scheme "ftp:" in URL "ftp://files:21": expected http or https',
      'routes/a.yaml:5:14: upstreams.users.targets[1].url: URL "http://users:8080/api" must not have a path (routes decide paths; see stripPrefix)',
      'routes/a.yaml:6:14: upstreams.users.targets[2].url: URL "http://admin:***@users:8080" must not contain credentials',
      'routes/a.yaml:7:14: upstreams.users.targets[3].url: URL "http://users:8080/?x=1" must not have a query',
      'routes/a.yaml:8:14: upstreams.users.targets[4].url: unsupported scheme "users:" in URL "users:8080": expected http or https',
    ],
  },
  {
    name: 'bad durations: malformed, negative, infinite',
    files: {
      'routes/a.yaml': `${UPSTREAM}    healthCheck:\n      interval: 5 seconds\n      timeout: -1\n    slowStart: .inf\n`,
    },
    errors: [
      'routes/a.yaml:6:17: upstreams.users.healthCheck.interval: expected a duration such as 500ms, 5s or a number of milliseconds, got "5 seconds"',
      'routes/a.yaml:7:16: upstreams.users.healthCheck.timeout: expected a duration such as 500ms, 5s or a number of milliseconds, got -1',
      'routes/a.yaml:8:16: upstreams.users.slowStart: invalid duration Infinity: must be a finite length of time',
    ],
  },
  {
    name: 'wrong types',
    files: {
      'routes/a.yaml': `${UPSTREAM}        weight: "3"\nroutes:\n  - id: 42\n    match: { path: /a }\n    upstream: users\n    stripPrefix: "yes"\n    bodyLimit: 1.5\n`,
    },
    errors: [
      'routes/a.yaml:5:17: upstreams.users.targets[0].weight: expected integer, got string',
      'routes/a.yaml:7:9: routes[0].id: expected string, got number',
      'routes/a.yaml:10:18: routes[0].stripPrefix: expected boolean, got string',
      'routes/a.yaml:11:16: routes[0].bodyLimit: expected integer, got 1.5',
    ],
  },
  {
    name: 'missing required keys, reported at the object',
    files: { 'routes/a.yaml': `${UPSTREAM}routes:\n  - id: a\n    upstream: users\n  - match:\n      path: /b\n` },
    errors: [
      'routes/a.yaml:6:5: routes[0]: missing key "match"',
      'routes/a.yaml:8:5: routes[1]: missing key "id"',
      'routes/a.yaml:8:5: routes[1]: missing key "upstream"',
    ],
  },
  {
    name: 'patterns in words',
    files: { 'routes/a.yaml': `${UPSTREAM}routes:\n  - id: -a\n    match: { path: users, methods: [GET, GET] }\n    upstream: users\n` },
    errors: [
      'routes/a.yaml:6:9: routes[0].id: must start with a letter or digit and contain only letters, digits, ".", "_" and "-", got "-a"',
      'routes/a.yaml:7:20: routes[0].match.path: must start with "/", got "users"',
      'routes/a.yaml:7:42: routes[0].match.methods[1]: duplicate of item 0',
    ],
  },
  {
    name: 'an upstream name that is not a name',
    files: { 'routes/a.yaml': 'upstreams:\n  "user pool":\n    targets: [{ url: "http://a:1" }]\n' },
    errors: ['routes/a.yaml:2:3: upstreams["user pool"]: invalid name "user pool": must start with a letter or digit and contain only letters, digits, ".", "_" and "-"'],
  },
  {
    name: 'unions collapse to one message per place',
    files: {
      'gateway.yaml': 'trustProxy: sometimes\nroutes: []\nchain:\n  - cors\n  - { cors: {}, jwt: {} }\n  - 7\n',
    },
    errors: [
      'gateway.yaml:1:13: trustProxy: expected boolean or array, got string',
      'gateway.yaml:2:9: routes: must not be empty',
      'gateway.yaml:5:5: chain[1]: expected exactly one key, got 2',
      'gateway.yaml:6:5: chain[2]: expected string or object, got number',
    ],
  },
  {
    name: 'gateway.yaml: misspelt key and enum',
    files: { 'gateway.yaml': 'listen:\n  prot: 8080\nlog:\n  level: warning\n' },
    errors: [
      'gateway.yaml:2:3: listen: unknown key "prot"; did you mean "port"?',
      'gateway.yaml:4:10: log.level: expected one of fatal, error, warn, info, debug, trace, silent; did you mean "warn"?',
    ],
  },
  {
    name: 'YAML syntax error at the yaml library position',
    files: { 'routes/a.yaml': 'upstreams:\n  users:\n    targets: [{ url: "http://a:1" }\nroutes: []\n' },
    errors: ['routes/a.yaml:4:1: syntax error: flow sequence in block collection must be sufficiently indented and end with a ]'],
  },
  {
    name: 'tab indentation',
    files: { 'routes/a.yaml': 'upstreams:\n\tusers: {}\n' },
    errors: ['routes/a.yaml:2:1: syntax error: tabs are not allowed as indentation'],
  },
  {
    name: 'duplicate YAML key, with the path of its map',
    files: { 'routes/a.yaml': `${UPSTREAM}routes:\n  - id: a\n    match: { path: /a }\n    upstream: users\n    upstream: billing\n` },
    errors: ['routes/a.yaml:9:5: routes[0]: duplicate key "upstream"'],
  },
  {
    name: 'tags are refused: route files are data',
    files: { 'routes/a.yaml': 'upstreams: !!binary aGVsbG8=\nroutes: !js/function "return 1"\n' },
    errors: [
      'routes/a.yaml:1:12: unsupported tag !!binary: config files are plain data',
      'routes/a.yaml:2:9: unsupported tag !js/function: config files are plain data',
    ],
  },
  {
    name: 'alias bombs are refused',
    files: {
      'routes/a.yaml': 'a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b]\n',
    },
    errors: ['routes/a.yaml:2:8: excessive alias count indicates a resource exhaustion attack'],
  },
  {
    name: 'two documents in one file',
    files: { 'routes/a.yaml': 'routes: []\n---\nroutes: []\n' },
    errors: ['routes/a.yaml:2:1: a config file holds one document; remove the second "---" and what follows or move it to its own file'],
  },
  {
    name: 'missing environment variable, reported once at the value',
    files: {
      'gateway.yaml': 'admin:\n  token: ${ADMIN_TOKEN}\n',
      'routes/a.yaml': 'upstreams:\n  users:\n    targets:\n      - url: ${USERS_URL}\n      - url: "http://${HOST:-users}:${PORT"\n',
    },
    errors: [
      'gateway.yaml:2:10: admin.token: environment variable ADMIN_TOKEN is not set',
      'routes/a.yaml:4:14: upstreams.users.targets[0].url: environment variable USERS_URL is not set',
      'routes/a.yaml:5:14: upstreams.users.targets[1].url: unterminated "${" (write "$${" for a literal "${")',
    ],
  },
  {
    name: 'a variable that is set but not a number where a number is expected',
    files: { 'gateway.yaml': 'listen:\n  port: ${PORT}\n' },
    env: { PORT: 'eighty' },
    errors: ['gateway.yaml:2:9: listen.port: expected integer, got string'],
  },
  {
    name: 'JSON route file, with JSON positions',
    files: {
      'routes/users.json': '{\n  "upstreams": {\n    "users": {\n      "balancer": "round_robin",\n      "targets": [{ "url": "http://users:8080", "wieght": 2 }]\n    }\n  }\n}\n',
    },
    errors: [
      'routes/users.json:4:19: upstreams.users.balancer: expected one of round-robin, weighted-round-robin, least-connections, ip-hash, random; did you mean "round-robin"?',
      'routes/users.json:5:49: upstreams.users.targets[0]: unknown key "wieght"; did you mean "weight"?',
    ],
  },
  {
    name: 'JSON duplicate key',
    files: { 'routes/users.json': '{\n  "routes": [],\n  "routes": []\n}\n' },
    errors: ['routes/users.json:3:3: duplicate key "routes"'],
  },
  {
    name: 'a listed route file that does not exist',
    files: { 'gateway.yaml': 'routes:\n  - teams/users.yaml\n  - teams/billing.yaml\n', 'teams/users.yaml': UPSTREAM },
    errors: ['gateway.yaml:3:5: routes[1]: route file "teams/billing.yaml": file not found'],
  },
  {
    name: 'a routes directory that does not exist',
    files: { 'gateway.yaml': 'routes: ./services\n' },
    errors: ['gateway.yaml:1:9: routes: routes directory "services" not found'],
  },
  {
    name: 'a route file that is not a map',
    files: { 'routes/a.yaml': '- id: a\n' },
    errors: ['routes/a.yaml:1:1: expected object, got array'],
  },
];

describe('config errors people can act on', () => {
  it.each(cases)('$name', async ({ files, env, errors }) => {
    expect(await loadErrors(files, env)).toEqual(errors);
  });

  it('reports every error of every file at once, sorted by file then line', async () => {
    const errors = await loadErrors({
      'gateway.yaml': 'listen:\n  port: http\nlog: { level: loud }\n',
      'routes/b.yaml': 'upstreams:\n  users:\n    targets: []\nroutes:\n  - id: a\n    match: { path: /b }\n    upstream: user\n',
      'routes/a.yaml': 'upstreams:\n  billing:\n    balancer: fastest\n    targets: [{ url: "ftp://x" }]\n',
      'routes/c.yaml': 'routes: [\n',
    });
    expect(errors).toEqual([
      'gateway.yaml:2:9: listen.port: expected integer, got string',
      'gateway.yaml:3:15: log.level: expected one of fatal, error, warn, info, debug, trace, silent',
      'routes/a.yaml:3:15: upstreams.billing.balancer: expected one of round-robin, weighted-round-robin, least-connections, ip-hash, random',
      'routes/a.yaml:4:22: upstreams.billing.targets[0].url: unsupported scheme "ftp:" in URL "ftp://x": expected http or https',
      'routes/b.yaml:3:14: upstreams.users.targets: must not be empty',
      // No "unknown upstream" for b.yaml: c.yaml did not parse and might define it.
      'routes/c.yaml:2:1: syntax error: flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
  });

});

describe('ConfigError.format', () => {
  it.each([
    { fields: { file: 'routes/users.yaml', line: 12, col: 7, path: 'routes[0].upstream', message: 'unknown upstream "user"', suggestion: 'did you mean "users"?' }, text: 'routes/users.yaml:12:7: routes[0].upstream: unknown upstream "user"; did you mean "users"?' },
    { fields: { file: 'users.yaml', line: 0, col: 0, path: 'routes[0]', message: 'missing key "id"' }, text: 'users.yaml: routes[0]: missing key "id"' },
    { fields: { file: 'a.yaml', line: 3, col: 0, path: '', message: 'ambiguous' }, text: 'a.yaml:3: ambiguous' },
  ])('$text', ({ fields, text }) => {
    expect(new ConfigError(fields).format()).toBe(text);
    expect(String(new ConfigError(fields))).toBe(text);
  });

  it('serialises as plain data', () => {
    const e = new ConfigError({ file: 'a.yaml', line: 1, col: 2, path: 'x', message: 'bad' });
    expect(JSON.parse(JSON.stringify(e))).toEqual({ file: 'a.yaml', line: 1, col: 2, path: 'x', message: 'bad' });
  });

  it('ConfigInvalid carries every error and says them all', () => {
    const errs = [new ConfigError({ file: 'a', line: 1, col: 1, path: 'x', message: 'one' }), new ConfigError({ file: 'b', line: 2, col: 1, path: '', message: 'two' })];
    const e = new ConfigInvalid(errs);
    expect(e).toBeInstanceOf(Error);
    expect(e.errors).toBe(errs);
    expect(e.message).toBe('a:1:1: x: one\nb:2:1: two');
  });

  it.each([
    { path: ['routes', 2, 'match', 'path'], text: 'routes[2].match.path' },
    { path: ['upstreams', 'users', 'targets', 0, 'url'], text: 'upstreams.users.targets[0].url' },
    { path: ['upstreams', 'users.v2', 'targets'], text: 'upstreams["users.v2"].targets' },
    { path: ['upstreams', 'users-v2'], text: 'upstreams.users-v2' },
    { path: [], text: '' },
  ])('formatPath $text', ({ path, text }) => {
    expect(formatPath(path)).toBe(text);
  });
});
