/**
 * Idle timeouts of a listener's streams from one interval timer, instead of
 * a `socket.setTimeout` per connection: that one arms a timer per socket,
 * re-arms it on every read and write and clears it at close, which measured
 * ~2 % of the gateway's CPU under short connections (bench/README.md, journal
 * "Issue 18 … short connections"). The sweep notices activity as a change in
 * the socket's byte counts (bytesRead + bytesWritten: a read or a write, as
 * socket.setTimeout counts), so a stream is closed between its idle timeout
 * and that plus two sweep periods after its last byte (or its watch); the
 * period is a quarter of the shortest timeout watched, at most 1 s.
 */
import type { Socket } from 'node:net';
import { LinkedSet, type LinkedNode } from '../process/linked-set.js';

/** MAX_PERIOD_MS bounds the sweep period: with the default idleTimeout (10m) a stream closes within 2 s of it. */
const MAX_PERIOD_MS = 1000;

/** Watched is one stream under the sweep. */
interface Watched {
  readonly socket: Socket;
  readonly timeoutMs: number;
  readonly onIdle: () => void;
  /** seen is the byte count at the last sweep that saw it change (-1: not swept yet); since is when (performance.now()). */
  seen: number;
  since: number;
  /** place is the stream's node in the sweep's set. */
  place: LinkedNode<Watched> | undefined;
}

/** IdleSweep watches streams for inactivity and calls their onIdle once they are quiet for their timeout. */
export class IdleSweep {
  /** A linked set, not a Set: streams come and go by the thousand a second (process/linked-set.ts says why). */
  private readonly watched = new LinkedSet<Watched>();
  private timer: NodeJS.Timeout | undefined;
  private periodMs = MAX_PERIOD_MS;

  /** watch starts counting `socket`'s inactivity; onIdle runs once (the stream is dropped from the sweep first). The result stops the watch. */
  watch(socket: Socket, timeoutMs: number, onIdle: () => void): () => void {
    // Nothing read at watch time: the first sweep takes the counts and starts the clock (reading them here, per connection, cost more than the rest of the watch).
    const w: Watched = { socket, timeoutMs, onIdle, seen: -1, since: 0, place: undefined };
    w.place = this.watched.add(w);
    const period = Math.max(1, Math.min(MAX_PERIOD_MS, Math.floor(timeoutMs / 4)));
    if (this.timer === undefined || period < this.periodMs) this.start(period);
    return () => this.unwatch(w);
  }

  /** size is the number of streams watched (tests). */
  get size(): number {
    return this.watched.size;
  }

  private unwatch(w: Watched): void {
    if (w.place === undefined || !this.watched.delete(w.place)) return;
    w.place = undefined;
    if (this.watched.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.periodMs = MAX_PERIOD_MS;
    }
  }

  private start(period: number): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.periodMs = period;
    this.timer = setInterval(() => this.sweep(), period);
    // The sweep never keeps the process alive: open sockets do, and a closing listener cuts them.
    this.timer.unref();
  }

  private sweep(): void {
    const now = performance.now();
    for (const w of this.watched.values()) {
      if (w.place === undefined) continue; // unwatched by an earlier stream's onIdle in this sweep
      const bytes = w.socket.bytesRead + w.socket.bytesWritten;
      if (bytes !== w.seen) {
        w.seen = bytes;
        w.since = now;
      } else if (now - w.since >= w.timeoutMs) {
        this.unwatch(w);
        w.onIdle();
      }
    }
  }
}
