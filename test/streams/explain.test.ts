/**
 * `switchyard explain --listener NAME --sni NAME` through the real command
 * line: the route a stream connection takes, why the others do not, the
 * upstream and target; an unknown listener with a suggestion.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sy-stream-explain-'));
mkdirSync(join(dir, 'routes'));
writeFileSync(
  join(dir, 'gateway.yaml'),
  'streams:\n  edge-tls: { listen: { port: 18443 }, protocol: tls-passthrough }\n  postgres: { listen: { port: 15432 }, protocol: tcp }\n',
);
writeFileSync(
  join(dir, 'routes/tls.yaml'),
  `upstreams:
  api-tls: { targets: [ { url: "tcp://10.0.0.5:443" } ], proxyProtocol: v2 }
  other-tls: { balancer: least-connections, targets: [ { url: "tcp://10.0.0.6:443" }, { url: "tcp://10.0.0.7:443" } ] }
streamRoutes:
  - { id: api-h2, listener: edge-tls, match: { sni: api.example.com }, upstream: api-tls }
  - { id: wildcard, listener: edge-tls, match: { sni: "*.example.com" }, upstream: other-tls }
`,
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const config = join(dir, 'gateway.yaml');

describe('switchyard explain --listener', () => {
  it('names the route an SNI takes, its upstream and target, and why the others do not', async () => {
    const r = await runCli(['explain', '--listener', 'edge-tls', '--sni', 'API.example.com', '--config', config]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toEqual([
      'connection to edge-tls (tls-passthrough, port 18443) with SNI api.example.com',
      `→ stream route api-h2 (${join(dir, 'routes/tls.yaml')}:5), match sni api.example.com`,
      '  upstream: api-tls (round-robin, 1/1 eligible)',
      '  target:   tcp://10.0.0.5:443',
      '  sends:    PROXY protocol v2',
      'other routes:',
      '  wildcard                 SNI *.example.com: matches, but api.example.com is more specific',
      '',
    ]);
  }, 60_000);

  it('an unknown name is refused; an unknown listener gets a suggestion', async () => {
    const none = await runCli(['explain', '--listener', 'edge-tls', '--sni', 'db.other.test', '--config', config]);
    expect(none.code).toBe(1);
    expect(none.stdout).toContain('→ no stream route takes it (refused with a TLS unrecognized_name alert)');
    expect(none.stdout).toContain('SNI *.example.com does not match db.other.test');
    const typo = await runCli(['explain', '--listener', 'edge-tl', '--config', config]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe('unknown stream listener "edge-tl"; did you mean "edge-tls"?\n');
  }, 60_000);
});
