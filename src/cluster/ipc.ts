/**
 * The primary↔worker protocol: the primary asks, a worker answers, over
 * node:cluster's IPC channel. Messages carry an `sy` tag so they never mix
 * with other users of the channel.
 */
import type { Worker } from 'node:cluster';

/** Op is an operation a worker performs for the primary (the admin backend's, its metrics as JSON, and shutdown). */
export type Op = 'readiness' | 'routes' | 'upstreams' | 'config' | 'stats' | 'reload' | 'dryRun' | 'model' | 'drain' | 'metrics' | 'shutdown';

/** Request is primary → worker. */
export interface Request {
  sy: 'req';
  id: number;
  op: Op;
  args: unknown[];
}

/** Response is worker → primary. */
export type Response = { sy: 'res'; id: number; ok: true; value: unknown } | { sy: 'res'; id: number; ok: false; error: string };

/** Lifecycle is a worker's unsolicited report: listening, or unable to start (with why). */
export type Lifecycle = { sy: 'listening'; port: number } | { sy: 'failed'; error: string };

/** isRequest tells a primary's request apart from other IPC messages. */
export function isRequest(m: unknown): m is Request {
  return typeof m === 'object' && m !== null && (m as { sy?: unknown }).sy === 'req';
}

function isResponse(m: unknown): m is Response {
  return typeof m === 'object' && m !== null && (m as { sy?: unknown }).sy === 'res';
}

/** isLifecycle tells a worker's lifecycle report apart from other IPC messages. */
export function isLifecycle(m: unknown): m is Lifecycle {
  const sy = typeof m === 'object' && m !== null ? (m as { sy?: unknown }).sy : undefined;
  return sy === 'listening' || sy === 'failed';
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * Caller sends requests to workers and matches their responses. A request
 * fails when the worker answers with an error, exits, or takes longer than
 * the timeout.
 */
export class Caller {
  private next = 1;
  private readonly pending = new Map<number, Pending & { worker: Worker }>();

  /** attach listens to a worker's messages and exit. */
  attach(worker: Worker): void {
    worker.on('message', (m: unknown) => {
      if (!isResponse(m)) return;
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(m.value);
      else p.reject(new Error(m.error));
    });
    worker.once('exit', () => {
      for (const [id, p] of this.pending) {
        if (p.worker !== worker) continue;
        this.pending.delete(id);
        clearTimeout(p.timer);
        p.reject(new Error(`worker ${worker.process.pid} exited`));
      }
    });
  }

  /** call asks one worker to perform `op`. */
  call<T>(worker: Worker, op: Op, args: unknown[] = [], timeoutMs = 5000): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`worker ${worker.process.pid} did not answer ${op} within ${timeoutMs}ms`));
      }, timeoutMs);
      timer.unref();
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer, worker });
      const msg: Request = { sy: 'req', id, op, args };
      try {
        worker.send(msg);
      } catch (err) {
        this.pending.delete(id);
        clearTimeout(timer);
        reject(err as Error);
      }
    });
  }
}

/** serve answers the primary's requests in a worker with `handle`. */
export function serve(handle: (op: Op, args: unknown[]) => Promise<unknown>): void {
  process.on('message', (m: unknown) => {
    if (!isRequest(m)) return;
    handle(m.op, m.args).then(
      (value) => reply({ sy: 'res', id: m.id, ok: true, value }),
      (err: unknown) => reply({ sy: 'res', id: m.id, ok: false, error: (err as Error)?.message ?? String(err) }),
    );
  });
}

/** report sends a lifecycle report to the primary; resolves once it is written. */
export function report(m: Lifecycle): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) return resolve();
    process.send!(m, undefined, {}, () => resolve());
  });
}

function reply(m: Response | Lifecycle): void {
  // The channel is gone when the primary died; the worker notices through 'disconnect'.
  if (process.connected) process.send!(m);
}
