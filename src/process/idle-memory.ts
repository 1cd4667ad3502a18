/**
 * Giving memory back to the OS when the gateway is idle.
 *
 * V8 grows the young generation to its maximum (two 16 MiB semi-spaces on
 * Node 20) during start-up and under load, and shrinks it only in a GC that
 * sees a low allocation rate or is asked to reduce memory. An idle process
 * allocates almost nothing, so no GC runs: the semi-spaces and the old-space
 * pages holding start-up garbage (config parsing, schema compilation, the
 * previous configuration after a reload) stay resident for good — about
 * 35 MiB of an idle gateway's 115 MiB with 1,000 routes. V8's memory reducer
 * would do this by itself after a quiet spell, but the gateway runs without
 * it (node-flags.ts: it deoptimizes the request path), so the gateway gives
 * the signal itself when told to: once per idle period, after `memory.releaseWhenIdle`
 * without a request and with none in flight, one memory-reducing full GC
 * (V8's LowMemoryNotification). Traffic grows the heap back as it needs.
 *
 * Why the inspector: `HeapProfiler.collectGarbage` over an in-process
 * node:inspector session is the one public API that reaches
 * LowMemoryNotification. `global.gc()` needs `--expose-gc` and runs a
 * regular full GC, which keeps the semi-spaces committed (measured: 32 MiB
 * before and after). The session opens no port and lives for the one call.
 * A Node built without the inspector has nothing to call: release is off.
 *
 * No malloc_trim: glibc keeps some memory V8's helper threads freed into its
 * arenas, and a native helper calling malloc_trim(0) gave it back, but it
 * bought only about 4.5 MiB of 84 MiB (1,000 routes, median of 3: 83.8 MiB
 * with the GC alone, 79.3 with the GC and malloc_trim, 123.7 with no release;
 * bench/README.md) against a C toolchain at every `npm ci` (issue 17).
 * `MALLOC_ARENA_MAX=2` in the environment gets most of it without code.
 *
 * Cost: one stop-the-world GC of the live heap (50–70 ms measured with 1,000
 * routes), once per idle period. A request that arrives during it waits that
 * long; none is in flight when it starts. And like V8's reducer it clears
 * the weak references optimized code holds, so the request path runs
 * deoptimized afterwards: 17 % fewer requests a second at first, 8 % fewer a
 * minute later (2026-12-07, docs/operations.md "Idle memory"). That is why
 * the release is off by default (`memory.releaseWhenIdle: 0`): a bursty front
 * door would pay it on every burst. Turn it on where idle RSS matters more
 * than throughput after a quiet spell.
 */
import { createRequire } from 'node:module';
import type { Session } from 'node:inspector';
import type { Logger } from 'pino';

/** IdleProbe tells the idle detector about traffic. */
export interface IdleProbe {
  /** activity is a count that changes whenever a request is seen or the configuration changes. */
  activity(): number;
  /** busy is true while requests or WebSockets are in flight. */
  busy(): boolean;
}

/** Release runs the memory-reducing GC; resolves when it is done. */
export type Release = () => Promise<void>;

/** Released is what one release did (logged at debug level; also returned for tests). */
export interface Released {
  ms: number;
  rssBefore: number;
  rssAfter: number;
}

/** SessionCtor is node:inspector's Session class (absent when Node was built without the inspector). */
type SessionCtor = new () => Session;

let sessionClass: SessionCtor | null | undefined;

/** inspectorSession loads node:inspector once, on first use; null when this Node has no inspector. */
function inspectorSession(): SessionCtor | null {
  if (sessionClass !== undefined) return sessionClass;
  try {
    // Loaded on first idle release, not at start-up: most of its cost is never paid by a gateway that stays busy.
    sessionClass = (createRequire(import.meta.url)('node:inspector') as { Session: SessionCtor }).Session;
  } catch {
    sessionClass = null;
  }
  return sessionClass;
}

/** releaseAvailable tells whether this Node can run lowMemoryGc (it has the inspector). */
export function releaseAvailable(): boolean {
  return inspectorSession() !== null;
}

/**
 * lowMemoryGc asks V8 for a memory-reducing full GC (LowMemoryNotification):
 * the young generation shrinks to its initial size and old space is
 * compacted.
 */
export function lowMemoryGc(): Promise<void> {
  const Session = inspectorSession();
  if (Session === null) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const session = new Session();
    session.connect();
    session.post('HeapProfiler.collectGarbage', (err) => {
      // Disconnecting inside the session's own callback hangs the process on Node 20: leave the callback first.
      setImmediate(() => {
        session.disconnect();
        if (err) return reject(err);
        resolve();
      });
    });
  });
}

/**
 * releaseStartupMemory runs one memory-reducing GC (a process's start-up,
 * before its port opens: no request can wait on it) and logs what it gave
 * back at debug level; it never throws.
 */
export async function releaseStartupMemory(log: Logger): Promise<void> {
  const rssBefore = process.memoryUsage.rss();
  const start = performance.now();
  try {
    await lowMemoryGc();
  } catch (err) {
    log.warn({ err }, 'start-up memory release failed');
    return;
  }
  log.debug({ ms: Math.round((performance.now() - start) * 10) / 10, rssBefore, rssAfter: process.memoryUsage.rss() }, 'start-up: unused memory returned to the OS before listening');
}

/**
 * IdleMemory watches the traffic and releases memory once per idle period:
 * when `idleMs` passed with no new request and none in flight (checked every
 * idleMs / 2, so the release comes between 1 and 1.5 × idleMs after the last
 * request). The first idle period after start counts too: start-up leaves the
 * most garbage. 0 turns it off.
 */
export class IdleMemory {
  private timer: NodeJS.Timeout | undefined;
  private idleMs = 0;
  private lastActivity = Number.NaN;
  private quietTicks = 0;
  /** pending is true when there was traffic (or start-up) since the last release. */
  private pending = true;
  private running = false;
  /** releases counts releases done; checks counts idle checks (tests, debugging). */
  releases = 0;
  checks = 0;

  constructor(
    private readonly probe: IdleProbe,
    private readonly log: Logger,
    private readonly release: Release = lowMemoryGc,
  ) {}

  /** configure (re)starts the watch with a new idle time; an unchanged one keeps the running watch. */
  configure(idleMs: number): void {
    if (idleMs === this.idleMs && (this.timer !== undefined || idleMs === 0)) return;
    this.stop();
    this.idleMs = idleMs;
    if (idleMs === 0) return;
    // A (re)started watch has something to give back: start-up, or the reload that changed the time.
    this.pending = true;
    this.quietTicks = 0;
    this.lastActivity = this.probe.activity();
    // The process may exit while idle: the watch never keeps it alive.
    this.timer = setInterval(() => this.tick(), Math.max(1, Math.floor(idleMs / 2))).unref();
  }

  /** watching is true while the watch runs (releaseWhenIdle > 0, not stopped). */
  get watching(): boolean {
    return this.timer !== undefined;
  }

  /** stop ends the watch. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    this.checks++;
    const activity = this.probe.activity();
    if (activity !== this.lastActivity || this.probe.busy()) {
      this.lastActivity = activity;
      this.quietTicks = 0;
      this.pending = true;
      return;
    }
    this.quietTicks++;
    if (!this.pending || this.running || this.quietTicks < 2) return;
    this.pending = false;
    void this.releaseNow();
  }

  /** releaseNow runs one release and logs what it gave back; never throws. */
  async releaseNow(): Promise<Released | undefined> {
    this.running = true;
    const rssBefore = process.memoryUsage.rss();
    const start = performance.now();
    try {
      await this.release();
    } catch (err) {
      this.log.warn({ err }, 'idle memory release failed');
      return undefined;
    } finally {
      this.running = false;
    }
    this.releases++;
    // V8 unmaps freed pages on a helper thread shortly after the GC: rssAfter is an upper bound.
    const done: Released = { ms: Math.round((performance.now() - start) * 10) / 10, rssBefore, rssAfter: process.memoryUsage.rss() };
    this.log.debug(done, 'idle: unused memory returned to the OS');
    return done;
  }
}
