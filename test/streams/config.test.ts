/**
 * Stream configuration mistakes, each with the exact error `switchyard
 * validate` prints (file:line:col: path: message; suggestion), table-driven.
 */
import { describe, expect, it } from 'vitest';
import { loadErrors, loadValid, type Tree } from '../config/helpers.js';

const GATEWAY = `streams:
  postgres: { listen: { port: 15432 }, protocol: tcp }
  edge-tls: { listen: { port: 18443 }, protocol: tls-passthrough }
  dns: { listen: { port: 15353 }, protocol: udp, sessionIdleTimeout: 30s }
`;
const POOLS = `upstreams:
  pg:
    balancer: least-connections
    targets: [ { url: "tcp://10.0.0.5:5432" }, { url: "tcp://10.0.0.6:5432" } ]
    healthCheck: { type: tcp, interval: 5s }
    proxyProtocol: v2
  web:
    targets: [ { url: "http://10.0.0.7:8080" } ]
  dns:
    targets: [ { url: "udp://10.0.0.8:53" } ]
`;

interface Case {
  name: string;
  files: Tree;
  errors: string[];
}

const cases: Case[] = [
  {
    name: 'unknown listener, with the closest name',
    files: { 'routes/a.yaml': `${POOLS}streamRoutes:\n  - { id: pg, listener: postgre, upstream: pg }\n` },
    errors: ['routes/a.yaml:12:25: streamRoutes[0].listener: unknown stream listener "postgre"; did you mean "postgres"?'],
  },
  {
    name: 'an http:// pool on a stream',
    files: { 'routes/a.yaml': `${POOLS}streamRoutes:\n  - { id: pg, listener: postgres, upstream: web }\n` },
    errors: ['routes/a.yaml:12:45: streamRoutes[0].upstream: upstream "web" has http(s):// targets (routes/a.yaml:7:3): a tcp listener forwards to tcp://host:port targets'],
  },
  {
    name: 'a tcp:// pool on an HTTP route',
    files: { 'routes/a.yaml': `${POOLS}routes:\n  - { id: api, match: { path: /api/* }, upstream: pg }\n` },
    errors: ['routes/a.yaml:12:51: routes[0].upstream: upstream "pg" has tcp:// targets (routes/a.yaml:2:3): HTTP routes need http:// or https:// targets; attach it with streamRoutes instead'],
  },
  {
    name: 'a tcp:// pool on a udp listener',
    files: { 'routes/a.yaml': `${POOLS}streamRoutes:\n  - { id: d, listener: dns, upstream: pg }\n` },
    errors: ['routes/a.yaml:12:39: streamRoutes[0].upstream: upstream "pg" has tcp:// targets (routes/a.yaml:2:3): a udp listener forwards to udp://host:port targets'],
  },
  {
    name: 'two routes claim one SNI on one listener',
    files: {
      'routes/a.yaml': `${POOLS}streamRoutes:\n  - { id: one, listener: edge-tls, match: { sni: api.example.com }, upstream: pg }\n  - { id: two, listener: edge-tls, match: { sni: API.example.com }, upstream: pg }\n`,
    },
    errors: [
      'routes/a.yaml:13:50: streamRoutes[1].match.sni: SNI "api.example.com" on listener "edge-tls" is claimed twice: by stream route "one" (routes/a.yaml:12:11) and here; a connection could take either (give one route another name or listener)',
    ],
  },
  {
    name: 'two catch-alls on one tls-passthrough listener are ambiguous',
    files: { 'routes/a.yaml': `${POOLS}streamRoutes:\n  - { id: one, listener: edge-tls, upstream: pg }\n  - { id: two, listener: edge-tls, upstream: pg }\n` },
    errors: [
      'routes/a.yaml:13:26: streamRoutes[1].listener: the catch-all (no match.sni) on listener "edge-tls" is claimed twice: by stream route "one" (routes/a.yaml:12:11) and here; a connection could take either (give one route another match.sni or listener)',
    ],
  },
  {
    name: 'two routes on one tcp listener are ambiguous',
    files: { 'routes/a.yaml': `${POOLS}streamRoutes:\n  - { id: one, listener: postgres, upstream: pg }\n  - { id: two, listener: postgres, upstream: pg }\n` },
    errors: [
      'routes/a.yaml:13:26: streamRoutes[1].listener: every connection (a tcp listener takes one route) on listener "postgres" is claimed twice: by stream route "one" (routes/a.yaml:12:11) and here; a connection could take either (give one route another match.sni or listener)',
    ],
  },
  {
    name: 'an SNI match on a tcp listener',
    files: { 'routes/a.yaml': `${POOLS}streamRoutes:\n  - { id: pg, listener: postgres, match: { sni: db.example.com }, upstream: pg }\n` },
    errors: ['routes/a.yaml:12:49: streamRoutes[0].match.sni: listener "postgres" is tcp: only tls-passthrough listeners read an SNI (remove match, or route on a tls-passthrough listener)'],
  },
  {
    name: 'sticky on a stream upstream, proxyProtocol on an HTTP upstream, an http health check on a stream',
    files: {
      'routes/a.yaml': `upstreams:
  pg:
    targets: [ { url: "tcp://10.0.0.5:5432" } ]
    sticky: { cookie: sid }
    healthCheck: { type: http }
  web:
    targets: [ { url: "http://10.0.0.7:8080" } ]
    proxyProtocol: v1
`,
    },
    errors: [
      'routes/a.yaml:4:5: upstreams.pg.sticky: sticky cookies do not apply to stream upstreams (there are no cookies below HTTP); use balancer: ip-hash to keep a client on one target',
      'routes/a.yaml:5:26: upstreams.pg.healthCheck.type: a stream upstream is checked with healthCheck.type: tcp (a plain connect), not http',
      'routes/a.yaml:8:5: upstreams.web.proxyProtocol: proxyProtocol is for stream upstreams (tcp:// targets): HTTP upstreams get the client address in X-Forwarded-For',
    ],
  },
  {
    name: 'a pool mixing tcp:// and http:// targets, a tcp:// target without a port',
    files: { 'routes/a.yaml': 'upstreams:\n  mixed:\n    targets: [ { url: "tcp://10.0.0.5:5432" }, { url: "http://10.0.0.6" } ]\n  noport:\n    targets: [ { url: "tcp://10.0.0.5" } ]\n' },
    errors: [
      'routes/a.yaml:3:55: upstreams.mixed.targets[1].url: a pool mixes tcp:// and http:// targets: an upstream serves either HTTP routes (http/https) or stream routes (tcp or udp)',
      'routes/a.yaml:5:23: upstreams.noport.targets[0].url: URL "tcp://10.0.0.5" needs a port: tcp://host:port',
    ],
  },
];

describe('stream configuration errors', () => {
  it.each(cases)('$name', async ({ files, errors }) => {
    expect(await loadErrors({ 'gateway.yaml': GATEWAY, ...files })).toEqual(errors);
  });

  it('accepts the issue example: tcp, tls-passthrough by SNI with a wildcard and a catch-all, udp', async () => {
    const config = await loadValid({
      'gateway.yaml': GATEWAY,
      'routes/db.yaml': `${POOLS}streamRoutes:
  - { id: pg, listener: postgres, upstream: pg }
  - { id: api-h2, listener: edge-tls, match: { sni: api.example.com }, upstream: pg }
  - { id: wildcard, listener: edge-tls, match: { sni: "*.example.com" }, upstream: pg }
  - { id: rest, listener: edge-tls, upstream: pg }
  - { id: dns, listener: dns, upstream: dns }
`,
    });
    expect(config.gateway.streams?.postgres).toMatchObject({ protocol: 'tcp', connectTimeout: '5s', idleTimeout: '10m', maxConnections: 10000, drainTimeout: '30s' });
    expect(config.gateway.streams?.dns).toMatchObject({ sessionIdleTimeout: '30s', maxDatagramSize: 8192 });
    expect(config.files[0]!.doc.streamRoutes).toHaveLength(5);
  });
});
