/**
 * Shadow traffic: a route's `mirror` sends a copy of sampled requests to
 * another pool and throws its answer away. The copy must never hurt the
 * client's request, so everything here is fire-and-forget and bounded:
 *
 * - It is decided after the body is ready (handler.ts): only a body already
 *   buffered (known and at most `bodyLimit`) is copied; a body that streams is
 *   never held back for the copy (counted as over_limit).
 * - Sampling and the method check come first and allocate nothing.
 * - A process-wide gate caps copies in flight (limits.mirrorConcurrency):
 *   a copy over it is dropped and counted, never queued. A slot is freed only
 *   when undici is done with the copy, so copies waiting for a connection to
 *   a hung shadow also count and the wait cannot grow without bound.
 * - One deadline (`timeout`, on the shared sweep of deadlines.ts) covers the
 *   whole copy: waiting for a connection, the response head and its body. The
 *   shadow pool's own connect timeout applies as well.
 * - No retries, no sticky cookie, no response hook: the response head is only
 *   read for its status, so a shadow's Set-Cookie or X-Session-Set never
 *   reaches the client, the session store or a plugin.
 * - Nothing here throws into the request path.
 *
 * Counters live on the compiled mirror (MirrorStats, carried over reloads
 * while the route keeps its id); metrics, /routes and the dashboard read them.
 */
import { randomUUID } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { Target } from '../upstream/target.js';
import type { Exchange } from './exchange.js';
import { upstreamRequestHeaders } from './upstream-request.js';
import { idempotent } from './retry.js';
import { deadlines, type Timed } from './deadlines.js';
import { MIRROR_BUCKETS, type CompiledMirror } from './mirror-state.js';

/** MirrorTimeout ends a copy that outlived its `timeout`. */
class MirrorTimeout extends Error {
  constructor() {
    super('mirror timeout');
  }
}

/**
 * MirrorCopy is the undici handler of one copy: it reads the status, drops
 * the body and reports once, whichever way the copy ends.
 */
class MirrorCopy implements Dispatcher.DispatchHandler, Timed {
  private controller: Dispatcher.DispatchController | undefined = undefined;
  private expired = false;
  private done = false;
  private status = 0;
  private readonly t0 = performance.now();
  deadline = 0;
  timedArmed = false;
  timedPrev: Timed | null = null;
  timedNext: Timed | null = null;

  constructor(
    private readonly m: CompiledMirror,
    private readonly target: Target,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // Timed out while waiting for a connection: the shadow never gets it.
    if (this.expired) controller.abort(new MirrorTimeout());
  }

  expire(): void {
    this.expired = true;
    if (this.controller !== undefined && !this.done) this.controller.abort(new MirrorTimeout());
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number): void {
    if (statusCode < 200) return;
    if (statusCode > 599) return controller.abort(new Error(`status ${statusCode}`));
    // Headers are not even looked at: Set-Cookie, X-Session-Set and the rest go nowhere.
    this.status = statusCode;
  }

  onResponseData(): void {
    // Discarded: the copy's body is read only so the connection can be reused.
  }

  onResponseEnd(): void {
    this.end(this.status < 500 ? 'ok' : '5xx', undefined);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.end(err instanceof MirrorTimeout ? 'timeout' : 'error', err);
  }

  /** end frees the copy's slot and target and counts how it ended (once). */
  end(how: 'ok' | '5xx' | 'error' | 'timeout', err: Error | undefined): void {
    if (this.done) return;
    this.done = true;
    deadlines.disarm(this);
    const m = this.m;
    const s = m.stats;
    m.gate.inflight--;
    this.target.inflight--;
    const sec = (performance.now() - this.t0) / 1000;
    const h = s.latency;
    for (let i = 0; i < MIRROR_BUCKETS.length; i++) {
      if (sec <= MIRROR_BUCKETS[i]!) {
        h.counts[i]!++;
        break;
      }
    }
    h.sum += sec;
    h.count++;
    if (how === 'ok') s.ok++;
    else if (how === '5xx') s.shadow5xx++;
    else {
      s.errors++;
      if (how === 'timeout') s.timeouts++;
    }
    // Passive health of the shadow pool only: nothing of a copy reaches the primary's targets.
    try {
      if (how === 'ok') m.upstream.outcome(this.target, true, '');
      else m.upstream.outcome(this.target, false, how === '5xx' ? `status ${this.status}` : how === 'timeout' ? 'mirror timeout' : (err?.message ?? 'error'));
    } catch {
      /* a health hook's failure stays with the shadow */
    }
  }
}

/**
 * mirror sends a copy of `ex` to its route's shadow pool when it is sampled
 * and can be copied without touching the client's request. Called once per
 * request, once the body is ready (handler.ts). Never throws.
 */
export function mirror(ex: Exchange, m: CompiledMirror): void {
  if (!m.methods.has(ex.method)) return;
  if (m.percent < 100 && Math.random() * 100 >= m.percent) return;
  const s = m.stats;
  const body = ex.body;
  if (body !== null && !(Buffer.isBuffer(body) && body.length <= m.bodyLimit)) {
    s.overLimit++;
    return;
  }
  const gate = m.gate;
  if (gate.inflight >= m.max) {
    s.dropped++;
    return;
  }
  try {
    send(ex, m, body);
  } catch {
    // Building the copy failed (a header a plugin set, a pool a reload closed): the client's request goes on.
    s.errors++;
  }
}

/** send picks a shadow target and dispatches the copy. */
function send(ex: Exchange, m: CompiledMirror, body: Buffer | null): void {
  const shadow = m.upstream;
  const target = shadow.pick(ex.clientIp);
  if (target === undefined) {
    m.stats.unavailable++;
    return;
  }
  // Its own id: the shadow's logs must not be mistaken for the primary's; the original goes in X-Original-Request-Id.
  const headers = upstreamRequestHeaders(ex, target, shadow, randomUUID());
  headers.push('x-mirrored-from', ex.route.id, 'x-original-request-id', ex.id);
  const copy = new MirrorCopy(m, target);
  m.gate.inflight++;
  target.inflight++;
  target.requests++;
  m.stats.sent++;
  ex.mirrored = true;
  if (m.timeoutMs > 0) deadlines.arm(copy, m.timeoutMs);
  try {
    target.pool.dispatch(
      {
        path: ex.upstreamPath(),
        method: ex.method,
        headers,
        body,
        // Off: the copy's one deadline above covers head and body.
        headersTimeout: 0,
        bodyTimeout: 0,
        idempotent: idempotent(ex.method),
      },
      copy,
    );
  } catch (err) {
    copy.end('error', err as Error);
  }
}
