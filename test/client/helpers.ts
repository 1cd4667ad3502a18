/**
 * Shared parts of the client tests: a fake Eureka registry (a real HTTP
 * server on a loopback port speaking the endpoints registerInstance and the
 * eureka provider use, with lease expiry), named echo instances, instances
 * as child processes that register themselves (so `kill -9` really stops
 * their heartbeats), and a tally of which instance answered.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino, type Logger } from 'pino';
import { startUpstream, type TestUpstream } from '../../src/testing/index.js';
import type { ClientResponse } from '../../src/client/index.js';

/** quiet is a logger that writes nothing (SWITCHYARD_TEST_LOG=debug shows the client's lines). */
export const quiet: Logger = pino({ level: process.env.SWITCHYARD_TEST_LOG ?? 'silent' });

/** Registration is one instance as the fake registry holds it. */
export interface Registration {
  instance: Record<string, unknown>;
  renewedAt: number;
  registeredAt: number;
}

/** FakeRegistry is a Eureka REST server under /eureka on a loopback port. */
export interface FakeRegistry {
  readonly url: string;
  readonly server: TestUpstream;
  /** apps holds the registrations by upper-case app, then instance id. */
  readonly apps: Map<string, Map<string, Registration>>;
  /** down: every request is answered 503 (a registry lost). */
  down: boolean;
  /** calls lists "METHOD path" of every request. */
  calls(): string[];
  close(): Promise<void>;
}

/** startFakeRegistry starts the fake; leases expire after the durationInSecs each instance declares. */
export async function startFakeRegistry(): Promise<FakeRegistry> {
  const apps = new Map<string, Map<string, Registration>>();
  const state = { down: false };
  const evict = () => {
    const now = Date.now();
    for (const regs of apps.values()) {
      for (const [id, r] of regs) {
        const lease = r.instance.leaseInfo as { durationInSecs?: number } | undefined;
        if (now - r.renewedAt > (lease?.durationInSecs ?? 90) * 1000) regs.delete(id);
      }
    }
  };
  const server = await startUpstream('registry', (req, res, body) => {
    if (state.down) return void res.writeHead(503).end();
    evict();
    const m = /^\/eureka\/apps\/([^/?]+)(?:\/([^/?]+))?$/.exec(req.url ?? '');
    if (m === null) return void res.writeHead(404).end();
    const app = decodeURIComponent(m[1]!).toUpperCase();
    const id = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    const regs = apps.get(app) ?? new Map<string, Registration>();
    apps.set(app, regs);
    if (req.method === 'POST' && id === undefined) {
      const doc = JSON.parse(body.toString()) as { instance: Record<string, unknown> };
      regs.set(String(doc.instance.instanceId), { instance: doc.instance, renewedAt: Date.now(), registeredAt: Date.now() });
      return void res.writeHead(204).end();
    }
    if (req.method === 'PUT' && id !== undefined) {
      const r = regs.get(id);
      if (r === undefined) return void res.writeHead(404).end();
      r.renewedAt = Date.now();
      return void res.writeHead(200).end();
    }
    if (req.method === 'DELETE' && id !== undefined) {
      return void res.writeHead(regs.delete(id) ? 200 : 404).end();
    }
    if (req.method === 'GET' && id === undefined) {
      if (regs.size === 0) return void res.writeHead(404).end();
      const instance = [...regs.values()].map((r) => ({ ...r.instance, leaseInfo: { ...(r.instance.leaseInfo as object), lastRenewalTimestamp: r.renewedAt } }));
      const out = JSON.stringify({ application: { name: app, instance } });
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(out);
    }
    res.writeHead(405).end();
  });
  return {
    url: `${server.url}/eureka`,
    server,
    apps,
    get down() {
      return state.down;
    },
    set down(v) {
      state.down = v;
    },
    calls: () => server.requests.map((r) => `${r.method} ${r.url}`),
    close: () => server.close(),
  };
}

/**
 * startNamed starts echo instances named by the letters of `names` (each
 * answers `{ upstream: name, ... }`), sorted by url: discovery reports sets
 * sorted by url, so instances[0] is first in a rotation.
 */
export async function startNamed(names: string): Promise<TestUpstream[]> {
  const list = await Promise.all([...names].map((n) => startUpstream(n)));
  return list.sort((x, y) => (x.url < y.url ? -1 : 1));
}

/** nameOf reads which instance answered an echo response (and consumes the body). */
export async function nameOf(res: ClientResponse): Promise<string> {
  return ((await res.body.json()) as { upstream: string }).upstream;
}

/** tally counts occurrences. */
export function tally(names: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names) out[n] = (out[n] ?? 0) + 1;
  return out;
}

// By URL: `--import tsx` would otherwise be resolved from the child's working directory.
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const INSTANCE = join(import.meta.dirname, 'fixtures/instance.ts');

/** ChildInstance is a service instance in its own process, registered through registerInstance. */
export interface ChildInstance {
  readonly name: string;
  readonly port: number;
  readonly process: ChildProcess;
  /** stop sends SIGTERM (graceful: the instance deregisters) and waits for the exit. */
  stop(): Promise<void>;
  /** kill sends SIGKILL: no deregistration, heartbeats just stop. */
  kill(): Promise<void>;
}

/** startChildInstance starts test/client/fixtures/instance.ts and resolves once it has registered. */
export function startChildInstance(name: string, env: { REGISTRY: string; APP: string; RENEWAL?: string; LEASE?: string }): Promise<ChildInstance> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, INSTANCE], { env: { ...process.env, NAME: name, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    let out = '';
    const timer = setTimeout(() => reject(new Error(`instance ${name} did not register within 20s`)), 20_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /^ready (\d+)$/m.exec(out);
      if (m === null) return;
      clearTimeout(timer);
      const port = Number(m[1]);
      resolve({
        name,
        port,
        process: child,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
        kill: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        },
      });
    });
    child.once('exit', (code) => reject(new Error(`instance ${name} exited with ${code} before registering`)));
  });
}
