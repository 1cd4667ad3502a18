/**
 * Upstream response and idle timeouts, enforced by one sweep over the
 * attempts in flight instead of a timer per request.
 *
 * Why not undici's headersTimeout/bodyTimeout: on a reused connection undici
 * swaps the parser's native keep-alive timer for a new FastTimer (the headers
 * timeout) on every request, and a cleared FastTimer stays in undici's timer
 * list until its next tick, 0.5–1 s later — long enough to be promoted to old
 * space. Under load that was ~70 % of everything the gateway promoted, and
 * the mark-compacts it caused every few seconds were the gateway's p99 tail
 * (measured with a sampling heap profile; see the README's performance notes).
 *
 * Here an attempt carries its deadline as a number and sits in an intrusive
 * list (no object is allocated per request); one unref'd interval, running
 * only while something is armed, expires what is due every TICK_MS. A
 * timeout therefore fires between its deadline and TICK_MS later (undici's
 * own fast timers have a 0.5–1 s resolution).
 */

/** TICK_MS is the sweep period, and so the most a timeout may fire late. */
export const TICK_MS = 100;

/** Timed is anything with a deadline: the fields are the list's links, owned by Deadlines. */
export interface Timed {
  deadline: number;
  timedArmed: boolean;
  timedPrev: Timed | null;
  timedNext: Timed | null;
  /** expire is called once when the deadline passed; the entry is already disarmed. */
  expire(): void;
}

/** Deadlines is the list of armed entries and the sweep that expires them. */
export class Deadlines {
  private head: Timed | null = null;
  private timer: NodeJS.Timeout | undefined;
  private readonly sweepBound = () => this.sweep();

  /** arm sets (or moves) the entry's deadline to `ms` from `now` (a caller that just read the clock passes its reading). */
  arm(t: Timed, ms: number, now: number = performance.now()): void {
    t.deadline = now + ms;
    if (t.timedArmed) return;
    t.timedArmed = true;
    t.timedPrev = null;
    t.timedNext = this.head;
    if (this.head !== null) this.head.timedPrev = t;
    this.head = t;
    // The process may exit with requests still armed (tests, shutdown): the sweep never keeps it alive.
    this.timer ??= setInterval(this.sweepBound, TICK_MS).unref();
  }

  /** disarm takes the entry off the list; disarming an unarmed entry does nothing. */
  disarm(t: Timed): void {
    if (!t.timedArmed) return;
    t.timedArmed = false;
    if (t.timedPrev !== null) t.timedPrev.timedNext = t.timedNext;
    else this.head = t.timedNext;
    if (t.timedNext !== null) t.timedNext.timedPrev = t.timedPrev;
    t.timedPrev = null;
    t.timedNext = null;
  }

  /** sweep expires every entry whose deadline passed; it stops the interval when the list is empty. */
  sweep(now = performance.now()): void {
    let t = this.head;
    while (t !== null) {
      // Read the next link first: expire() may disarm this entry and arm new ones (a retry), which go to the head.
      const next: Timed | null = t.timedNext;
      if (t.deadline <= now) {
        this.disarm(t);
        t.expire();
      }
      t = next;
    }
    if (this.head === null && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

/** deadlines is the process's one list (every gateway in the process shares the sweep). */
export const deadlines = new Deadlines();
