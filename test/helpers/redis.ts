/**
 * A throwaway Redis for tests: a `redis-server` child on a free loopback
 * port, with no persistence, so tests never touch the machine's Redis on
 * 6379. When REDIS_URL is set that server is used instead; it cannot be
 * stopped or restarted, so tests that need to kill Redis skip themselves
 * (and only then).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { waitFor } from '../../src/testing/index.js';
import { freePort } from './ports.js';

/** TestRedis is a Redis server a test may use (and, when local, stop and restart). */
export interface TestRedis {
  /** url is the redis:// URL to connect to. */
  readonly url: string;
  readonly port: number;
  /** external is true when REDIS_URL is used (stop/restart are unsupported). */
  readonly external: boolean;
  /** stop kills the server and waits for it to exit. */
  stop(): Promise<void>;
  /** restart starts a fresh, empty server on the same port (stopping the old one first if running). */
  restart(): Promise<void>;
}

/** REDIS_IS_EXTERNAL is true when tests run against REDIS_URL rather than their own server. */
export const REDIS_IS_EXTERNAL = Boolean(process.env.REDIS_URL);

/** SKIP_NEEDS_LOCAL_REDIS is the reason shown by tests skipped because REDIS_URL cannot be stopped. */
export const SKIP_NEEDS_LOCAL_REDIS = 'REDIS_URL is set: this test stops/restarts Redis, which only works with the throwaway redis-server';

/** pings tells whether a Redis server answers PING on the port. */
function pings(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    let data = '';
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (chunk) => {
      data += chunk.toString();
      if (data.includes('\r\n')) done(data.startsWith('+PONG'));
    });
  });
}

function hasRedisServer(): boolean {
  const r = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

/** startRedis starts a throwaway redis-server (or uses REDIS_URL) and resolves once it answers PING. */
export async function startRedis(): Promise<TestRedis> {
  const external = process.env.REDIS_URL;
  if (external) {
    const unsupported = () => Promise.reject(new Error(SKIP_NEEDS_LOCAL_REDIS));
    return { url: external, port: Number(new URL(external).port || 6379), external: true, stop: unsupported, restart: unsupported };
  }
  if (!hasRedisServer()) throw new Error('redis-server not found: install it with "apt-get install -y redis-server" or set REDIS_URL');

  let port = await freePort();
  let child: ChildProcess | undefined;
  const launch = async () => {
    const proc = spawn('redis-server', ['--save', '', '--appendonly', 'no', '--port', String(port), '--bind', '127.0.0.1'], { stdio: 'ignore' });
    child = proc;
    let exited = false;
    proc.once('exit', () => (exited = true));
    await waitFor(
      async () => {
        if (exited) throw new Error(`redis-server exited before answering on port ${port}`);
        return pings(port);
      },
      { message: `redis-server to answer PING on port ${port}`, timeout: 10_000 },
    );
  };
  const stop = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, 'exit');
    proc.kill('SIGTERM');
    await exited;
  };
  // Between freePort and redis-server's bind another test can take the port:
  // the first launch then moves to a new one (restarts keep theirs).
  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (err) {
      if (attempt >= 5 || !/exited before answering/.test((err as Error).message)) throw err;
      port = await freePort();
    }
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    external: false,
    stop,
    restart: async () => {
      await stop();
      await launch();
    },
  };
}
