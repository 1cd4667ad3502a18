/**
 * Graceful shutdown of the real CLI process: SIGTERM while slow requests are
 * in flight. They all complete, new connections are refused, exit code 0.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { startUpstream, waitFor, type TestUpstream } from '../../src/testing/index.js';
import { startCli } from '../helpers/cli.js';

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

function connects(port: number): Promise<boolean> {
  return new Promise((r) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      r(true);
    });
    s.once('error', () => r(false));
  });
}

describe('graceful shutdown', () => {
  it('finishes every in-flight request on SIGTERM, refuses new connections, and exits 0', async () => {
    const held: Array<() => void> = [];
    const slow: TestUpstream = await startUpstream('slow', (req, res) => {
      if (req.url === '/healthz') return void res.end('ok');
      held.push(() => res.writeHead(200, { 'content-type': 'text/plain' }).end(`done ${req.url}`));
    });
    cleanup.push(() => slow.close());
    const dir = mkdtempSync(join(tmpdir(), 'sy-shutdown-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'routes'));
    writeFileSync(join(dir, 'routes', 'r.yaml'), `upstreams:\n  slow:\n    targets: [{ url: "${slow.url}" }]\nroutes:\n  - { id: slow, match: { path: /* }, upstream: slow }\n`);
    writeFileSync(join(dir, 'gateway.yaml'), 'listen: { host: 127.0.0.1, port: 0 }\nadmin: { host: 127.0.0.1, port: 0 }\nroutes: ./routes\nshutdownTimeout: 10s\nlog: { level: info }\n');

    const cli = await startCli(join(dir, 'gateway.yaml'));
    cleanup.push(() => void cli.child.kill('SIGKILL'));
    const agent = new Agent({ connections: 5 });
    cleanup.push(() => agent.close());
    const inflight = [1, 2, 3, 4, 5].map((i) => request(`http://127.0.0.1:${cli.port}/r${i}`, { dispatcher: agent }).then(async (r) => ({ status: r.statusCode, body: await r.body.text() })));
    await waitFor(() => held.length === 5, { message: 'requests at the upstream' });

    cli.child.kill('SIGTERM');
    await waitFor(async () => !(await connects(cli.port)), { timeout: 5000, message: 'listener closed' });
    expect(cli.child.exitCode).toBe(null); // still finishing its in-flight work

    for (const release of held) release();
    const results = await Promise.all(inflight);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(results.map((r) => r.body).sort()).toEqual(['done /r1', 'done /r2', 'done /r3', 'done /r4', 'done /r5']);
    expect(await cli.exited).toBe(0);
  }, 30000);
});
