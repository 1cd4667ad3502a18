/**
 * A throwaway HAProxy for tests: the Debian `haproxy` binary in the
 * foreground (-db) with a generated `mode tcp` config on a free loopback
 * port, forwarding to one server with the given `server` options (e.g.
 * `send-proxy-v2`). Stopped by the test; never the machine's own haproxy.
 * .ci/run installs the package when it is missing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../src/testing/index.js';
import { freePort } from './ports.js';

/** HAPROXY is the Debian package's binary. */
export const HAPROXY = '/usr/sbin/haproxy';

/** TestHaproxy is a running haproxy: where clients connect, and how to stop it. */
export interface TestHaproxy {
  readonly port: number;
  /** config is the generated configuration (for failure messages). */
  readonly config: string;
  stop(): Promise<void>;
}

/** HaproxyOptions names the server haproxy forwards to and its server-line options. */
export interface HaproxyOptions {
  /** target is host:port of the one backend server. */
  target: string;
  /** serverOptions are appended to the `server` line, e.g. 'send-proxy-v2'. */
  serverOptions?: string;
}

/** accepts tells whether something accepts TCP connections on the port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** haproxyConfig renders the `mode tcp` configuration. */
export function haproxyConfig(port: number, opts: HaproxyOptions): string {
  return [
    'global',
    '  maxconn 4096',
    'defaults',
    '  mode tcp',
    '  timeout connect 5s',
    '  timeout client 30s',
    '  timeout server 30s',
    'frontend fe',
    `  bind 127.0.0.1:${port}`,
    '  default_backend be',
    'backend be',
    `  server s1 ${opts.target} ${opts.serverOptions ?? ''}`.trimEnd(),
    '',
  ].join('\n');
}

/** startHaproxy starts haproxy and resolves once its frontend accepts connections. */
export async function startHaproxy(opts: HaproxyOptions): Promise<TestHaproxy> {
  if (spawnSync(HAPROXY, ['-v'], { stdio: 'ignore' }).status !== 0) throw new Error(`${HAPROXY} not found: install it with "apt-get install -y haproxy"`);
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-haproxy-'));
  const file = join(dir, 'haproxy.cfg');
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const config = haproxyConfig(port, opts);
    writeFileSync(file, config);
    const child: ChildProcess = spawn(HAPROXY, ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    let exited = false;
    child.once('exit', () => (exited = true));
    try {
      await waitFor(
        async () => {
          if (exited) throw new Error(`haproxy exited: ${stderr}`);
          return accepts(port);
        },
        { timeout: 10_000, message: `haproxy to accept on ${port}` },
      );
    } catch (err) {
      // Another test can take the port between freePort and haproxy's bind: try a new one.
      if (attempt < 5 && exited) continue;
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    return {
      port,
      config,
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) {
          const done = once(child, 'exit');
          child.kill('SIGTERM');
          await done;
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}
