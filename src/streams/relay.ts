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

/** MIN is a new relay's buffer: a slice of a shared slab (below), so a short or idle connection has no ArrayBuffer, and few pages, of its own. */
const MIN = 1024;
const MAX = 1024 * 1024;

/**
 * SLAB is the size of the ArrayBuffers that MIN buffers are cut from. Node's
 * own pool (Buffer.allocUnsafe under 4 KiB) is 8 KiB: a new ArrayBuffer every
 * four connections, its allocation and collection ~1.5 % of the CPU of short
 * connections (bench/README.md, journal "Issue 18 … short connections"); a
 * 64 KiB slab serves 32. A slab lives while any of its slices does.
 */
const SLAB = 64 * 1024;
let slab = Buffer.allocUnsafeSlow(SLAB);
let slabUsed = 0;

/** small cuts a MIN buffer from the current slab (a new slab when it is used up). */
function small(): Buffer {
  if (slabUsed + MIN > SLAB) {
    slab = Buffer.allocUnsafeSlow(SLAB);
    slabUsed = 0;
  }
  const b = slab.subarray(slabUsed, slabUsed + MIN);
  slabUsed += MIN;
  return b;
}

/** Relay forwards what its source reads to a destination; its `onread` goes into the source's socket options. */
export class Relay {
  private buf = small();
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
    else if (n < size / 16 && size > MIN) this.buf = small();
    // Otherwise the same buffer, even when a write still points into it: reads resume only once that write has completed.
  }
}

/** Adoption is how an accepted socket comes to read into a relay's buffer: in place (the socket itself) or by moving its handle into a new Socket. */
export type Adoption = 'in-place' | 'handle';

/** UserBufferSlots are the internal symbols under which net.Socket keeps its `onread` buffer, generator and callback. */
interface UserBufferSlots {
  readonly kBuffer: symbol;
  readonly kBufferCb: symbol;
  readonly kBufferGen: symbol;
}

/**
 * probeSlots finds where this Node's net.Socket keeps `onread` (kBuffer,
 * kBufferCb, kBufferGen: a socket made with onread holds the generator and
 * callback there, a plain one holds null), so an accepted socket can be given
 * the same slots. Undefined when Node's internals differ: adoption then moves
 * the handle instead.
 */
function probeSlots(): UserBufferSlots | undefined {
  const gen = (): Buffer => Buffer.alloc(1);
  const cb = (): boolean => true;
  try {
    const made = new Socket({ onread: { buffer: gen, callback: cb } } as ConstructorParameters<typeof Socket>[0]) as unknown as Record<symbol, unknown>;
    const plain = new Socket() as unknown as Record<symbol, unknown>;
    const syms = Object.getOwnPropertySymbols(made);
    const find = (d: string) => syms.find((s) => s.description === d);
    const kBuffer = find('kBuffer');
    const kBufferCb = find('kBufferCb');
    const kBufferGen = find('kBufferGen');
    (made as unknown as Socket).destroy();
    (plain as unknown as Socket).destroy();
    if (kBuffer === undefined || kBufferCb === undefined || kBufferGen === undefined) return undefined;
    if (made[kBuffer] !== true || made[kBufferCb] !== cb || made[kBufferGen] !== gen) return undefined;
    if (plain[kBuffer] !== null || plain[kBufferCb] !== null || plain[kBufferGen] !== null) return undefined;
    return { kBuffer, kBufferCb, kBufferGen };
  } catch {
    return undefined;
  }
}

const SLOTS = probeSlots();

/** ADOPTION is the way this Node supports, decided once at load: in place when probeSlots found net's slots, else the handle move. */
export const ADOPTION: Adoption = SLOTS === undefined ? 'handle' : 'in-place';

/**
 * unconnectedSocket makes the socket an upstream connection is dialled on:
 * half-open allowed, no Nagle delay, reading into `relay`'s buffer from the
 * first read. Built empty and given those settings after, not with
 * `new Socket({ allowHalfOpen, noDelay, onread })`: a net.Socket constructed
 * with a non-empty options object leaves ~0.5 KB per socket that
 * young-generation collections cannot free, one constructed empty leaves
 * ~25 B (measured on Node 20: bench/README.md, journal "Issue 18
 * (2026-12-07)"; test/streams/young-garbage.test.ts). Where net's slots were
 * not found (probeSlots), the options are the way.
 */
export function unconnectedSocket(relay: Relay): Socket {
  if (SLOTS === undefined) return new Socket({ allowHalfOpen: true, onread: relay.onread } as ConstructorParameters<typeof Socket>[0]).setNoDelay(true);
  const socket = new Socket();
  socket.allowHalfOpen = true;
  socket.setNoDelay(true); // kept until the handle exists, applied at connect
  // What the constructor sets for `onread: { buffer: fn, callback }`; connect gives the handle the first buffer.
  const slots = socket as unknown as Record<symbol, unknown>;
  slots[SLOTS.kBuffer] = true;
  slots[SLOTS.kBufferGen] = relay.onread.buffer;
  slots[SLOTS.kBufferCb] = relay.onread.callback;
  return socket;
}

/** What adopt needs of a TCP handle (node's TCPWrap): user-buffer reads and read control. */
interface TcpHandle {
  reading: boolean;
  readStop(): number;
  useUserBuffer?(buf: Buffer): void;
}

/**
 * adopt makes an accepted (paused) server socket read into a relay's buffer:
 * net.Server cannot take `onread`. In place (the default where supported:
 * no second Socket per connection, which measured ~5 % of the CPU of short
 * connections) the socket is given what `new Socket({ onread })` would have
 * set: net's buffer slots and the handle's user buffer. Else the handle moves
 * to a new Socket made with `onread`, and the old one closes as a shell.
 * Bytes the socket had read and not consumed (after a PROXY header or a
 * ClientHello) are returned to be sent first. Undefined when the socket has
 * no handle (closed) or already read its FIN: the caller pipes instead.
 */
export function adopt(old: Socket, relay: Relay, how: Adoption = ADOPTION): { socket: Socket; leftover: Buffer | undefined; how: Adoption } | undefined {
  const handle = (old as unknown as { _handle?: TcpHandle | null })._handle;
  // A socket that already read its FIN (ended, 'end' not yet emitted) keeps the pipe path: its handle will not report the end again.
  const ended = (old as unknown as { _readableState?: { ended?: boolean } })._readableState?.ended !== false;
  if (handle === null || typeof handle !== 'object' || old.destroyed || ended) return undefined;
  if (how === 'in-place' && SLOTS !== undefined && typeof handle.useUserBuffer === 'function') {
    const leftover = old.readableLength > 0 ? (old.read() as Buffer | null) ?? undefined : undefined;
    // read() may have restarted the handle's reads (below the high-water mark): stop them; relay.start resumes them with a destination.
    handle.reading = false;
    handle.readStop();
    const slots = old as unknown as Record<symbol, unknown>;
    const buf = relay.onread.buffer();
    slots[SLOTS.kBufferGen] = relay.onread.buffer;
    slots[SLOTS.kBufferCb] = relay.onread.callback;
    slots[SLOTS.kBuffer] = buf;
    handle.useUserBuffer(buf);
    return { socket: old, leftover, how: 'in-place' };
  }
  const leftover = old.readableLength > 0 ? (old.read() as Buffer | null) ?? undefined : undefined;
  // The new socket takes the handle (its reads, writes and close); the old one, left without it, closes as a shell (net.Server counts it off).
  const socket = new Socket({ handle, allowHalfOpen: true, onread: relay.onread, readable: true, writable: true, pauseOnCreate: true } as ConstructorParameters<typeof Socket>[0]);
  (old as unknown as { _handle: unknown })._handle = null;
  old.removeAllListeners('error');
  old.on('error', () => undefined);
  old.destroy();
  return { socket, leftover, how: 'handle' };
}
