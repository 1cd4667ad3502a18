/**
 * discovery.registry checks the schema cannot express (window within expiry,
 * expiry after renewal, CIDRs) are config errors at their gateway.yaml line
 * when the configuration loads (start, reload, `switchyard validate`), not a
 * stack trace when the registry's listener starts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { ConfigInvalid } from '../../src/config/errors.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { startGateway } from '../../src/testing/index.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const gatewayYaml = (registry: string) => `listen: { host: 127.0.0.1, port: 0 }\nadmin: { host: 127.0.0.1, port: 0 }\nroutes: [./app.yaml]\nreload: { watch: false }\ndiscovery:\n  registry:\n    listen: { host: 127.0.0.1, port: 0 }\n${registry}`;

async function configDir(registry: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sy-registry-options-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'gateway.yaml'), gatewayYaml(registry));
  await writeFile(join(dir, 'app.yaml'), 'routes:\n  - { id: app, match: { path: /app/* }, upstream: app }\nupstreams:\n  app: { targets: [{ url: "http://127.0.0.1:9" }] }\n');
  return join(dir, 'gateway.yaml');
}

describe('15: discovery.registry options are checked when the configuration loads', () => {
  it.each([
    // window is not written (its default, 60s, is too long): the error points at the block it belongs to.
    ['    lease: { renewal: 10s, expiry: 30s }\n', 6, /discovery\.registry\.selfPreservation\.window: must be at most lease\.expiry \(30000ms\)/],
    ['    lease: { renewal: 30s, expiry: 20s }\n', 8, /discovery\.registry\.lease\.expiry: must exceed lease\.renewal \(30000ms\)/],
    ['    allowTargets: [10.0.0.0/33]\n', 8, /discovery\.registry\.allowTargets: /],
  ])('%s', async (block, line, message) => {
    const configFile = await configDir(block);
    const err = await Gateway.create({ configFile, logger: pino({ level: 'silent' }), offline: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigInvalid);
    const [only] = (err as ConfigInvalid).errors;
    expect(only!.format()).toMatch(message);
    expect(only!.file).toBe(configFile);
    expect(only!.line).toBe(line);
  });

  it('rejects a reload that breaks them, and keeps serving', async () => {
    const configFile = await configDir('');
    const gw = await startGateway({ configFile });
    cleanups.push(() => gw.close());
    await writeFile(configFile, gatewayYaml('    lease: { renewal: 10s, expiry: 30s }\n'));
    const result = await gw.gateway.reload();
    expect(result.ok).toBe(false);
    expect((await fetch(`http://127.0.0.1:${gw.gateway.registryPort}/eureka/apps`, { headers: { accept: 'application/json' } })).status).toBe(200);
    expect(!result.ok && result.errors.map((e) => e.format()).join('\n')).toMatch(/gateway\.yaml:6:\d+: discovery\.registry\.selfPreservation\.window: must be at most lease\.expiry/);
  });
});
