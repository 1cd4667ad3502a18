/**
 * Where the JSON log lines go (not in a terminal): a file descriptor, written
 * in batches. A busy gateway writes one access line per request; written one
 * by one, or in pino's 4 KiB asynchronous chunks through libuv's thread pool,
 * the writes cost about 8 % of the CPU under load (profile in
 * bench/README.md). Here lines are joined in memory and written with one
 * synchronous `write` per batch of `batchBytes` (64 KiB, about 200 lines), and
 * at least every `flushMs` (200 ms) so a quiet gateway's lines still show up
 * at once. Synchronous on purpose: nothing is ever in flight, so the exit
 * handler's final flush writes exactly what is left — no line lost on SIGTERM
 * or `process.exit`, none written twice.
 *
 * A full non-blocking pipe (a log collector that fell behind) answers EAGAIN:
 * the batch is kept and retried on the next tick instead of blocking the
 * request path; past `maxPendingBytes` (16 MiB) new lines are dropped and
 * counted (`dropped`), so a stuck reader cannot grow the heap without bound.
 * Any other write error (EPIPE: nobody reads stdout any more) drops the batch
 * and counts it: a log write never throws into a request.
 */
import { writeSync } from 'node:fs';

/** BatchOptions tunes a BatchDestination (defaults in the file comment). */
export interface BatchOptions {
  batchBytes?: number;
  flushMs?: number;
  maxPendingBytes?: number;
  /**
   * lineAtomic: write at most PIPE_BUF (4096) bytes at a time, cut at a line
   * end. Set in cluster workers, whose stdout is one pipe shared by every
   * process: the kernel keeps a pipe write of up to 4096 bytes whole, a
   * longer one may interleave with another worker's mid-line.
   */
  lineAtomic?: boolean;
}

/** PIPE_BUF is the largest pipe write Linux keeps whole. */
const PIPE_BUF = 4096;

/** open holds the destinations the one exit handler flushes. */
const open = new Set<BatchDestination>();
let exitHooked = false;

/** sleep blocks the thread for `ms` (only on exit, waiting out a full pipe). */
function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** BatchDestination is a pino destination stream (`write(line)`) that writes to `fd` in batches. */
export class BatchDestination {
  /** dropped counts lines left out because the reader was stuck or gone. */
  dropped = 0;
  /** writes counts write system calls (tests and the benchmark read it). */
  writes = 0;

  /** buf holds the batch being filled (encoded as lines arrive: no string to flatten and copy later). */
  private buf: Buffer;
  private len = 0;
  /** stalled is the part of an encoded batch a full pipe did not take yet; written before the batch buffer. */
  private stalled: Buffer | undefined = undefined;
  private readonly batchBytes: number;
  private readonly maxPendingBytes: number;
  private readonly lineAtomic: boolean;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly fd: number,
    options: BatchOptions = {},
  ) {
    this.batchBytes = options.batchBytes ?? 64 * 1024;
    this.buf = Buffer.allocUnsafe(this.batchBytes);
    this.maxPendingBytes = options.maxPendingBytes ?? 16 * 1024 * 1024;
    this.lineAtomic = options.lineAtomic ?? false;
    this.timer = setInterval(() => this.flush(), options.flushMs ?? 200).unref();
    open.add(this);
    if (!exitHooked) {
      exitHooked = true;
      process.on('exit', () => {
        for (const d of open) d.flushSync();
      });
    }
  }

  /** write queues one line (pino calls it with a whole line, newline included). */
  write(line: string): boolean {
    // String length counts UTF-16 units, not bytes: close enough for a batch threshold.
    // A UTF-16 unit is at most 3 UTF-8 bytes: flush first when the line might not fit.
    if (this.len + line.length * 3 > this.buf.length) {
      if (this.stalled === undefined) this.flush();
      if (this.len + line.length * 3 > this.buf.length) return this.grow(line);
    }
    this.len += this.buf.write(line, this.len);
    return true;
  }

  /** flush writes what is queued now; a full pipe keeps the rest for the next tick. */
  flush(): void {
    if (this.stalled !== undefined && !this.writeOut(this.stalled, false)) return;
    if (this.len === 0) return;
    const batch = this.take();
    this.writeOut(batch, false);
  }

  /** flushSync writes everything queued, waiting out a full pipe (exit, shutdown). */
  flushSync(): void {
    if (this.stalled !== undefined && !this.writeOut(this.stalled, true)) return;
    if (this.len === 0) return;
    this.writeOut(this.take(), true);
  }

  /** take hands out the filled part of the batch buffer, which is then reused (writeOut copies what it must keep). */
  private take(): Buffer {
    const batch = this.buf.subarray(0, this.len);
    this.len = 0;
    return batch;
  }

  /**
   * grow queues a line that does not fit in the batch buffer: a very long
   * line, or a reader stuck long enough that the stalled batch is still held.
   * Past maxPendingBytes the line is dropped and counted.
   */
  private grow(line: string): boolean {
    const bytes = Buffer.from(line);
    const held = (this.stalled?.length ?? 0) + this.len;
    if (held + bytes.length > this.maxPendingBytes) {
      this.dropped++;
      return true;
    }
    // Doubling: while a reader is stuck, lines keep arriving, and each must not copy everything held so far.
    const batch = Buffer.allocUnsafe(Math.max(this.batchBytes, 2 * (this.len + bytes.length)));
    this.buf.copy(batch, 0, 0, this.len);
    bytes.copy(batch, this.len);
    this.buf = batch;
    this.len += bytes.length;
    if (this.stalled === undefined) this.flush();
    return true;
  }

  /** end flushes and stops the timer (the destination is not written to again). */
  end(): void {
    this.flushSync();
    clearInterval(this.timer);
    open.delete(this);
  }

  /**
   * writeOut writes `buf` whole; false when a full pipe left some of it in
   * `stalled` (only when not `waiting`) or an error dropped it.
   */
  private writeOut(buf: Buffer, waiting: boolean): boolean {
    let off = 0;
    let waited = 0;
    while (off < buf.length) {
      try {
        this.writes++;
        off += writeSync(this.fd, buf, off, chunkLength(buf, off, this.lineAtomic));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          // On exit, wait (up to 10 s) for the reader; otherwise come back on the next tick.
          if (waiting && waited < 10_000) {
            sleep(1);
            waited++;
            continue;
          }
          if (waiting) break;
          // A copy: the batch buffer is refilled from the start right after.
          this.stalled = Buffer.from(buf.subarray(off));
          return false;
        }
        break;
      }
    }
    if (off < buf.length) {
      this.dropped += countLines(buf.subarray(off));
      this.stalled = undefined;
      return false;
    }
    this.stalled = undefined;
    return true;
  }
}

/**
 * chunkLength is how much of `buf` from `off` one write takes: all of it, or
 * with lineAtomic the most whole lines within PIPE_BUF (a longer single
 * line goes alone, as one write).
 */
function chunkLength(buf: Buffer, off: number, lineAtomic: boolean): number {
  const rest = buf.length - off;
  if (!lineAtomic || rest <= PIPE_BUF) return rest;
  const cut = buf.lastIndexOf(10, off + PIPE_BUF - 1);
  if (cut >= off) return cut + 1 - off;
  const end = buf.indexOf(10, off + PIPE_BUF);
  return end === -1 ? rest : end + 1 - off;
}

/** countLines counts the newline-terminated lines in `buf` (a partial last line counts as one). */
function countLines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
  return buf.length > 0 && buf[buf.length - 1] !== 10 ? n + 1 : n;
}
