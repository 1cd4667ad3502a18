/**
 * The idle sweep (src/streams/idle-sweep.ts) on real sockets: a quiet stream
 * is closed no sooner than its timeout, a stream that keeps moving bytes
 * (either way) is not, and a stream whose socket closed leaves the sweep.
 */
import net from 'node:net';
import { once } from 'node:events';
import { afterEach, expect, test } from 'vitest';
import { IdleSweep } from '../../src/streams/idle-sweep.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

/** pair gives the two ends of a loopback TCP connection. */
async function pair(): Promise<{ a: net.Socket; b: net.Socket }> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection');
  const a = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1' });
  const [b] = (await accepted) as [net.Socket];
  await once(a, 'connect');
  cleanup.push(() => {
    a.destroy();
    b.destroy();
    server.close();
  });
  return { a, b };
}

test('a quiet stream is reported idle after its timeout, not before', async () => {
  const { b } = await pair();
  const sweep = new IdleSweep();
  const started = performance.now();
  const idle = new Promise<number>((resolve) => sweep.watch(b, 200, () => resolve(performance.now() - started)));
  const after = await idle;
  expect(after).toBeGreaterThanOrEqual(200);
  expect(after).toBeLessThan(200 + 2 * 50 + 200); // two sweep periods (a quarter of the timeout each), plus a busy machine's slack
  expect(sweep.size).toBe(0);
});

test('bytes either way keep a stream alive; it is idle only once they stop', async () => {
  const { a, b } = await pair();
  b.on('data', () => undefined);
  a.on('data', () => undefined);
  const sweep = new IdleSweep();
  let idleAt: number | undefined;
  sweep.watch(b, 200, () => (idleAt = performance.now()));
  // 600 ms of traffic, alternating directions every 50 ms: three timeouts' worth, none of them quiet.
  for (let i = 0; i < 12; i++) {
    (i % 2 === 0 ? a : b).write('x');
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(idleAt).toBeUndefined();
  const stopped = performance.now();
  while (idleAt === undefined) await new Promise((r) => setTimeout(r, 20));
  expect(idleAt - stopped).toBeGreaterThanOrEqual(150); // the last byte went ≤ 50 ms before `stopped`
});

test('a stopped watch leaves the sweep and never fires', async () => {
  const { b } = await pair();
  const sweep = new IdleSweep();
  let fired = false;
  const stop = sweep.watch(b, 100, () => (fired = true));
  const other = new Promise<void>((resolve) => sweep.watch(b, 300, resolve));
  stop();
  expect(sweep.size).toBe(1);
  await other; // well past the stopped watch's timeout
  expect(fired).toBe(false);
});
