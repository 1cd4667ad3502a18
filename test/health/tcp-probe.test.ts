/**
 * The TCP probe against real loopback sockets.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTcpProbe } from '../../src/health/tcp-probe.js';
import { closedPort, startTcpServer, subjectFor, type TestServer } from './helpers.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTcpServer();
});
afterAll(() => server.close());

async function probeOnce(url: string, timeoutMs = 1000, signal = new AbortController().signal) {
  return createTcpProbe({ timeoutMs })(subjectFor(url), signal);
}

/**
 * blackhole makes a port whose connects hang: a stopped child process
 * listens with a backlog of 1, and fillers occupy the accept queue, so the
 * kernel drops further SYNs (as a firewalled or overloaded host does).
 */
async function blackhole(): Promise<{ port: number; close(): void }> {
  const script = "const s=require('net').createServer();s.listen({port:0,host:'127.0.0.1',backlog:1},()=>console.log(s.address().port))";
  const child: ChildProcess = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  const port = Number(String(chunk).trim());
  process.kill(child.pid!, 'SIGSTOP');
  const fillers: Socket[] = [];
  // backlog + 1 connections fit in the queue; wait for those, then add a few
  // more without waiting in case this kernel's queue is a little longer.
  for (let i = 0; i < 2; i++) {
    const s = connect({ host: '127.0.0.1', port });
    fillers.push(s);
    await once(s, 'connect');
  }
  for (let i = 0; i < 3; i++) fillers.push(connect({ host: '127.0.0.1', port }).on('error', () => undefined));
  return {
    port,
    close() {
      for (const s of fillers) s.destroy();
      child.kill('SIGKILL');
    },
  };
}

describe('tcp probe', () => {
  it('a listening port is healthy', async () => {
    expect(await probeOnce(server.url)).toMatchObject({ ok: true, reason: 'ok' });
  });

  it('a refused port fails fast with the error code', async () => {
    const port = await closedPort();
    const r = await probeOnce(`http://127.0.0.1:${port}`, 5000);
    expect(r).toMatchObject({ ok: false, reason: 'connect ECONNREFUSED' });
    expect(r.durationMs).toBeLessThan(1000);
  });

  it('a connect that hangs times out', async () => {
    const hole = await blackhole();
    try {
      const r = await probeOnce(`http://127.0.0.1:${hole.port}`, 100);
      expect(r).toMatchObject({ ok: false, reason: 'timeout after 100ms' });
      expect(r.durationMs).toBeGreaterThanOrEqual(90);
      expect(r.durationMs).toBeLessThan(1000);
    } finally {
      hole.close();
    }
  });

  it('an abort from the caller ends the probe with reason "aborted"', async () => {
    const ctl = new AbortController();
    ctl.abort();
    expect(await probeOnce(server.url, 1000, ctl.signal)).toMatchObject({ ok: false, reason: 'aborted' });
  });
});
