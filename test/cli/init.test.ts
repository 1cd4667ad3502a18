/**
 * 13.16: `switchyard init` writes a starting configuration that passes
 * `switchyard validate` as written, and never overwrites without --force.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers.js';

describe('13.16: switchyard init', { timeout: 120_000 }, () => {
  let dir: string;
  let remove: () => Promise<void>;
  beforeEach(async () => ({ dir, remove } = await tempDir()));
  afterEach(() => remove());

  it('13.16: init writes a commented gateway.yaml and a route file; validate passes on them', async () => {
    const r = await runCli(['init'], { cwd: dir });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('wrote gateway.yaml\nwrote routes/example.yaml\n');
    const gateway = await readFile(join(dir, 'gateway.yaml'), 'utf8');
    const route = await readFile(join(dir, 'routes/example.yaml'), 'utf8');
    // Commented: at least a third of the lines explain.
    for (const text of [gateway, route]) {
      const lines = text.split('\n').filter((l) => l.trim() !== '');
      expect(lines.filter((l) => l.trimStart().startsWith('#')).length).toBeGreaterThanOrEqual(lines.length / 3);
    }
    const v = await runCli(['validate'], { cwd: dir });
    expect(v.stderr).toBe('');
    expect(v.stdout).toBe('ok: 1 route, 1 upstream in 2 files\n');
    expect(v.code).toBe(0);
  });

  it('13.16: init DIR writes there; the examples in its comments are valid too once uncommented', async () => {
    const r = await runCli(['init', 'edge'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('switchyard validate --config edge/gateway.yaml');
    const gatewayFile = join(dir, 'edge/gateway.yaml');
    const routeFile = join(dir, 'edge/routes/example.yaml');
    // Turn the documented alternatives on: the chain example, trustProxy, the second target, the health check, methods/host, plugins.
    const gateway = (await readFile(gatewayFile, 'utf8'))
      .replace(/^chain: \[\]\n/m, '')
      .replace(/^#   (chain: .*)$/m, '$1')
      .replace(/^# (trustProxy: .*)$/m, '$1');
    const route = (await readFile(routeFile, 'utf8'))
      .replace('balancer: round-robin', 'balancer: weighted-round-robin')
      .replace(/^ {6}# (- url: .*)\n {6}# +(weight: \d+)/m, '      $1\n        $2')
      .replace(/^ {4}# (healthCheck: .*)$/m, '    $1')
      .replace(/^ {6}# (methods: .*)$/m, '      $1')
      .replace(/^ {6}# (host: .*)$/m, '      $1')
      .replace(/^ {4}# (plugins:.*)\n {4}# (.*)$/m, '    $1\n    $2');
    await writeFile(gatewayFile, gateway);
    await writeFile(routeFile, route);
    expect(gateway).toMatch(/^chain: \[request-id/m);
    expect(route).toMatch(/^ {6}- jwt:/m);
    expect(route).toMatch(/^ {8}weight: 2/m);
    const v = await runCli(['validate', '-c', 'edge/gateway.yaml'], { cwd: dir });
    expect(v.stderr).toBe('');
    expect(v.code).toBe(0);
  });

  it('13.16: init refuses to overwrite existing files (nothing written), --force overwrites', async () => {
    await writeFile(join(dir, 'gateway.yaml'), 'mine: true\n');
    const r = await runCli(['init'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('switchyard: gateway.yaml already exists; nothing written (--force overwrites)\n');
    expect(await readFile(join(dir, 'gateway.yaml'), 'utf8')).toBe('mine: true\n');
    await expect(readFile(join(dir, 'routes/example.yaml'))).rejects.toThrow(/ENOENT/);
    const forced = await runCli(['init', '--force'], { cwd: dir });
    expect(forced.code).toBe(0);
    expect(await readFile(join(dir, 'gateway.yaml'), 'utf8')).toContain('listen:');
  });
});
