/**
 * One direction of a stream, read into a buffer the direction keeps and
 * reuses (net's `onread: { buffer, callback }`), instead of stream.pipe(),
 * which gets a fresh 64 KiB Buffer from every read. Measured on a bulk
 * stream (bench/README.md, journal "Issue 18"): the piped gateway spent
 * about 5 CPU s per GB (allocation, the GC it drives, one syscall per 64 KiB),
 * HAProxy 0.9; with reused buffers growing to 1 MiB the gateway spends 0.6–0.7.
 *
 * Backpressure: a chunk is written on at once. When the write did not reach
 * the kernel whole (the destination's buffer holds some of it), reading stops
 * until that write completes, so the buffer is never overwritten while a
 * write still points into it, and a slow reader holds at most one buffer
 * (≤ 1 MiB) per direction in the gateway.
 *
 * Memory: a buffer starts at 1 KiB, grows ×4 when a read fills it (a bulk
 * stream), and drops back to that when a read uses less than 1/16 of it,
 * so idle and chatty streams keep small buffers.
 */
import { Socket } from 'node:net';

/** MIN is well under Buffer.poolSize / 2, so a connection's first buffers are slices of Node's shared 8 KiB pool (several connections per pool): no ArrayBuffer, and few pages, of its own per connection. */
const MIN = 1024;
const MAX = 1024 * 1024;

/** Relay forwards what its source reads to a destination; its `onread` goes into the source's socket options. */
export class Relay {
  private buf = Buffer.allocUnsafe(MIN);
  private src: Socket | undefined;
  private dst: Socket | undefined;
  private waiting = false;
  /** guard judges the first chunk before it is sent on (false: dropped, reading stops, `onRefused` runs). */
  private guard: ((chunk: Buffer) => boolean) | undefined;
  private onRefused: (() => void) | undefined;

  /** onread is what net.connect / new Socket take: this relay's buffer and callback. */
  readonly onread = {
    buffer: (): Buffer => this.buf,
    callback: (n: number, buf: Buffer): boolean => this.forward(n, buf),
  };

  /** start sends what `src` reads to `dst` from now on; `src` must be paused until then (nothing is read without a destination). */
  start(src: Socket, dst: Socket, guard?: (chunk: Buffer) => boolean, onRefused?: () => void): void {
    this.src = src;
    this.dst = dst;
    this.guard = guard;
    this.onRefused = onRefused;
    src.once('end', () => dst.end());
    src.resume();
  }

  private readonly written = (): void => {
    if (this.waiting && this.dst !== undefined && this.dst.writableLength === 0) {
      this.waiting = false;
      this.src?.resume();
    }
  };

  private forward(n: number, buf: Buffer): boolean {
    const dst = this.dst;
    if (dst === undefined || dst.destroyed) return false;
    const chunk = buf.subarray(0, n);
    if (this.guard !== undefined) {
      const guard = this.guard;
      this.guard = undefined;
      if (!guard(chunk)) {
        this.onRefused?.();
        return false;
      }
    }
    dst.write(chunk, this.written);
    if (dst.writableLength > 0) {
      // The kernel did not take the chunk whole: the write still points into buf. Stop reading until it completes.
      this.waiting = true;
      this.next(n, buf);
      return false;
    }
    this.next(n, buf);
    return true;
  }

  /** next picks the buffer for the following read (net asks for it right after the callback). */
  private next(n: number, buf: Buffer): void {
    const size = buf.length;
    if (n === size && size < MAX) this.buf = Buffer.allocUnsafe(size * 4);
    else if (n < size / 16 && size > MIN) this.buf = Buffer.allocUnsafe(MIN);
    // Otherwise the same buffer, even when a write still points into it: reads resume only once that write has completed.
  }
}

/**
 * adopt re-creates an accepted (paused) server socket with a relay reading
 * into its buffer: net.Server cannot take `onread`, so the connection's
 * handle moves to a new Socket that does. Bytes the old socket had read and
 * not consumed (after a PROXY header or a ClientHello) are returned to be
 * sent first. Undefined when the socket has no handle to move (closed, or a
 * Node whose net.Socket keeps it elsewhere): the caller pipes instead.
 */
export function adopt(old: Socket, relay: Relay): { socket: Socket; leftover: Buffer | undefined } | undefined {
  const handle = (old as unknown as { _handle?: unknown })._handle;
  // A socket that already read its FIN (ended, 'end' not yet emitted) keeps the pipe path: its handle will not report the end again.
  const ended = (old as unknown as { _readableState?: { ended?: boolean } })._readableState?.ended !== false;
  if (handle === null || typeof handle !== 'object' || old.destroyed || ended) return undefined;
  const leftover = old.readableLength > 0 ? (old.read() as Buffer | null) ?? undefined : undefined;
  // The new socket takes the handle (its reads, writes and close); the old one, left without it, closes as a shell (net.Server counts it off).
  const socket = new Socket({ handle, allowHalfOpen: true, onread: relay.onread, readable: true, writable: true, pauseOnCreate: true } as ConstructorParameters<typeof Socket>[0]);
  (old as unknown as { _handle: unknown })._handle = null;
  old.removeAllListeners('error');
  old.on('error', () => undefined);
  old.destroy();
  return { socket, leftover };
}
