/**
 * Where the JSON log lines go (not in a terminal): a file descriptor, written
 * in batches. A busy gateway writes one access line per request; written one
 * by one, or in pino's 4 KiB asynchronous chunks through libuv's thread pool,
 * the writes cost about 8 % of the CPU under load (profile in
 * bench/README.md). Here lines are gathered in one buffer — pino's as UTF-8,
 * the access log's encoded in place (line-writer.ts) — and written with one
 * synchronous `write` per batch of `batchBytes` (64 KiB, about 200 lines), and
 * at least every `flushMs` (200 ms) so a quiet gateway's lines still show up
 * at once. Synchronous on purpose: nothing is ever in flight, so the exit
 * handler's final flush writes exactly what is left — no line lost on SIGTERM
 * or `process.exit`, none written twice.
 *
 * A full non-blocking pipe (a log collector that fell behind) answers EAGAIN:
 * the batch is kept and retried on the next tick instead of blocking the
 * request path; past `maxPendingBytes` (16 MiB) new lines are dropped and
 * counted (`dropped`), so a stuck reader cannot grow the heap without bound;
 * once the reader drains the pipe, the batch buffer is back to its size.
 * Any other write error (EPIPE: nobody reads stdout any more) drops the batch
 * and counts it: a log write never throws into a request.
 *
 * Access lines are deferred (`defer`): the record is queued and the lines of
 * one event-loop turn are encoded together at its end (setImmediate), or
 * before anything else is written here (a pino line, a flush, the exit
 * handler), so the order of lines is the order of the calls. Encoded one at
 * a time, each line ran with the encoder's code and data pushed out of the
 * CPU's caches by the request's other work: 3.4 µs a line with its writes
 * inside the gateway, 2.8 together (bench/README.md journal, "Issue 17
 * (2026-12-07, fourth session)"); and the response leaves before its line
 * is encoded.
 */
import { writeSync } from 'node:fs';
import { LineWriter } from './line-writer.js';

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

/** LineSource encodes a deferred line into the destination (the access log's precompiled path). */
export interface LineSource {
  encodeLine(w: LineWriter, record: object, time: number): void;
}

/** MAX_DEFERRED bounds the lines one turn may queue: past it they are encoded at once. */
const MAX_DEFERRED = 1024;

/** PIPE_BUF is the largest pipe write Linux keeps whole. */
const PIPE_BUF = 4096;

/** open holds the destinations the one exit handler flushes. */
const open = new Set<BatchDestination>();
let exitHooked = false;

/** sleep blocks the thread for `ms` (only on exit, waiting out a full pipe). */
function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * BatchDestination is a pino destination stream (`write(line)`) that writes
 * to `fd` in batches. It is also the LineWriter the access log encodes its
 * lines into (line-writer.ts): a line is written in place, and `endLine`
 * closes it. Whatever writes into it, the bytes before `lineStart` are whole
 * lines, and only those are ever written out.
 */
export class BatchDestination extends LineWriter {
  /** dropped counts lines left out because the reader was stuck or gone. */
  dropped = 0;
  /** writes counts write system calls (tests and the benchmark read it). */
  writes = 0;

  /** lineStart is where the line being written begins (equal to `len` between lines). */
  private lineStart = 0;
  /** stalled is the part of an encoded batch a full pipe did not take yet; written before the batch buffer. */
  private stalled: Buffer | undefined = undefined;
  private readonly batchBytes: number;
  private readonly maxPendingBytes: number;
  private readonly lineAtomic: boolean;
  private readonly timer: NodeJS.Timeout;
  /** The deferred lines (`defer`): their sources, records and times, `deferred` of them. */
  private deferred = 0;
  private readonly sources: (LineSource | undefined)[] = [];
  private readonly records: (object | undefined)[] = [];
  private readonly times: number[] = [];
  private readonly drainLater = (): void => this.drain();

  constructor(
    private readonly fd: number,
    options: BatchOptions = {},
  ) {
    super(options.batchBytes ?? 64 * 1024);
    this.batchBytes = this.buf.length;
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

  /** write queues one line (pino calls it with a whole line, newline included), after the deferred ones. */
  write(line: string): boolean {
    this.drain();
    this.utf8(line);
    this.endLine();
    return true;
  }

  /**
   * defer queues the line `source` encodes for `record` at `time`, to be
   * encoded with the rest of the turn's (see the file comment). The record
   * is kept until then: it must not change after this call.
   */
  defer(source: LineSource, record: object, time: number): void {
    const i = this.deferred++;
    this.sources[i] = source;
    this.records[i] = record;
    this.times[i] = time;
    if (i === 0) setImmediate(this.drainLater);
    else if (i + 1 >= MAX_DEFERRED) this.drain();
  }

  /**
   * drain encodes the deferred lines, in order, and lets their records go.
   * A line whose encoding throws is dropped and counted, its partial bytes
   * taken back: it runs from setImmediate, where a throw would end the
   * process.
   */
  drain(): void {
    const n = this.deferred;
    this.deferred = 0;
    for (let i = 0; i < n; i++) {
      try {
        this.sources[i]!.encodeLine(this, this.records[i]!, this.times[i]!);
        this.endLine();
      } catch {
        this.len = this.lineStart;
        this.dropped++;
      }
      this.sources[i] = undefined;
      this.records[i] = undefined;
    }
  }

  /**
   * endLine closes the line written since the last one: kept, or dropped
   * and counted when a stuck reader left more than maxPendingBytes held. A
   * batch buffer grown past its size (a very long line, a stuck reader) is
   * written out at once when the pipe takes it.
   */
  endLine(): void {
    if (this.len >= this.batchBytes) {
      if ((this.stalled?.length ?? 0) + this.len > this.maxPendingBytes) {
        this.len = this.lineStart;
        this.dropped++;
      } else if (this.stalled === undefined) {
        this.lineStart = this.len;
        this.writeQueued();
      }
    }
    this.lineStart = this.len;
  }

  /**
   * room makes room for `n` more bytes of the line being written: the whole
   * lines before it are written out and it moves to the front; when that is
   * not enough (a very long line, or a stuck reader holds a batch), the
   * buffer grows. Doubling: while a reader is stuck, lines keep arriving,
   * and each must not copy everything held so far.
   */
  protected override room(n: number): void {
    if (this.stalled === undefined && this.lineStart > 0) {
      const partial = this.len - this.lineStart;
      this.writeOut(this.buf.subarray(0, this.lineStart), false);
      // writeOut copied what a full pipe did not take: the front of the buffer is free.
      this.buf.copyWithin(0, this.lineStart, this.len);
      this.len = partial;
      this.lineStart = 0;
      if (this.len + n <= this.buf.length) return;
    }
    super.room(n);
  }

  /** flush writes what is queued now, deferred lines included; a full pipe keeps the rest for the next tick. */
  flush(): void {
    this.drain();
    this.writeQueued();
  }

  /** writeQueued writes the encoded lines; a full pipe keeps the rest for the next tick. */
  private writeQueued(): void {
    if (this.stalled !== undefined && !this.writeOut(this.stalled, false)) return;
    if (this.len === 0) return;
    this.writeOut(this.take(), false);
  }

  /** flushSync writes everything queued, deferred lines included, waiting out a full pipe (exit, shutdown). */
  flushSync(): void {
    this.drain();
    if (this.stalled !== undefined && !this.writeOut(this.stalled, true)) return;
    if (this.len === 0) return;
    this.writeOut(this.take(), true);
  }

  /**
   * take hands out the filled part of the batch buffer (whole lines: flushes
   * run between lines), which is then reused (writeOut copies what it must
   * keep); a buffer grown past the batch size (a stuck reader, a very long
   * line) is let go for a new one of the batch size.
   */
  private take(): Buffer {
    const batch = this.buf.subarray(0, this.len);
    if (this.buf.length > this.batchBytes) this.buf = Buffer.allocUnsafe(this.batchBytes);
    this.len = 0;
    this.lineStart = 0;
    return batch;
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
