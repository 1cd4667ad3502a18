/**
 * 13.16: a port that is already taken — on the public, the admin or the
 * HTTPS-redirect listener — ends `switchyard start` with one line naming the
 * gateway.yaml line that chose it, a non-zero exit and no stack trace. The
 * port is held by a real server.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from './helpers.js';

describe('13.16: a port in use is one line naming gateway.yaml:line', { timeout: 120_000 }, () => {
  let dir: string;
  let remove: () => Promise<void>;
  let holder: net.Server;
  let port: number;
  beforeAll(async () => {
    ({ dir, remove } = await tempDir());
    holder = net.createServer((s) => s.destroy());
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    port = (holder.address() as net.AddressInfo).port;
    await writeFile(join(dir, 'route.yaml'), 'upstreams:\n  a: { targets: [{ url: "http://127.0.0.1:9" }] }\nroutes:\n  - { id: a, match: { path: /a/* }, upstream: a }\n');
  });
  afterAll(async () => {
    await new Promise((resolve) => holder.close(resolve));
    await remove();
  });

  /** start runs `switchyard start` on gateway.yaml text and expects it to fail on its own. */
  async function start(gatewayYaml: string, extra: string[] = []) {
    await writeFile(join(dir, 'gateway.yaml'), `${gatewayYaml}routes: [route.yaml]\nlog: { level: warn }\nreload: { watch: false }\n`);
    const r = await runCli(['start', ...extra], { cwd: dir });
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(r.code).toBe(1);
    return r.stderr;
  }

  it('13.16: the public listener (listen.port), at its line', async () => {
    const err = await start(`# the public side\nlisten:\n  host: 127.0.0.1\n  port: ${port}\nadmin: { port: 0 }\n`);
    expect(err).toBe(`switchyard: gateway.yaml:4: listen.port: 127.0.0.1:${port} is already in use (EADDRINUSE)\n`);
  });

  it('13.16: the admin listener (admin.port), at its line', async () => {
    const err = await start(`listen: { host: 127.0.0.1, port: 0 }\nadmin: { host: 127.0.0.1, port: ${port} }\n`);
    expect(err).toBe(`switchyard: gateway.yaml:2: admin.port: 127.0.0.1:${port} is already in use (EADDRINUSE)\n`);
  });

  it('13.16: the admin listener of a cluster primary, before any worker starts', async () => {
    const err = await start(`listen: { host: 127.0.0.1, port: 0 }\nadmin: { host: 127.0.0.1, port: ${port} }\n`, ['--workers', '2']);
    expect(err).toBe(`switchyard: gateway.yaml:2: admin.port: 127.0.0.1:${port} is already in use (EADDRINUSE)\n`);
  });

  it('13.16: the HTTPS redirect listener (listen.redirectHttp), at its line', async () => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'gw.key'), '-out', join(dir, 'gw.crt'), '-days', '2', '-subj', '/CN=gw.test', '-addext', 'subjectAltName=DNS:gw.test'], { stdio: 'ignore' });
    const err = await start(`listen:\n  host: 127.0.0.1\n  port: 0\n  tls: { cert: gw.crt, key: gw.key }\n  redirectHttp: ${port}\nadmin: { port: 0 }\n`);
    expect(err).toBe(`switchyard: gateway.yaml:5: listen.redirectHttp: 127.0.0.1:${port} is already in use (EADDRINUSE)\n`);
  });

  it('13.16: demo names the fixed port it cannot use, exit 1', async () => {
    // The demo's ports are fixed (routes/*.yaml name them); hold its last one so every earlier one was bound and released.
    const demoPort = new net.Server();
    const held = await new Promise<boolean>((resolve) => {
      demoPort.once('error', () => resolve(false)); // taken already: the demo fails on it all the same
      demoPort.listen(9012, '127.0.0.1', () => resolve(true));
    });
    try {
      const r = await runCli(['demo'], { cwd: dir });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^switchyard demo: 127\.0\.0\.1:90\d\d \(pool \w+\) cannot be used \(EADDRINUSE\); is another demo running\?\n$/);
      if (held) expect(r.stderr).toContain(':9012 ');
    } finally {
      if (held) await new Promise((resolve) => demoPort.close(resolve));
    }
  });
});
