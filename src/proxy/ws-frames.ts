/**
 * A minimal WebSocket frame reader (RFC 6455 §5.2) that follows frame
 * boundaries on a byte stream without buffering payloads, so the gateway can
 * enforce a message size limit while splicing sockets, and knows when it may
 * slip a close frame of its own between an upstream's frames. Written here
 * because `ws` parses and re-frames whole messages, which would cost a copy
 * per message and break the splice; this only reads headers.
 */

/** CLOSE_TOO_BIG is close code 1009 ("message too big", RFC 6455 §7.4.1). */
const CLOSE_TOO_BIG = 1009;
/** CLOSE_PROTOCOL_ERROR is close code 1002 (a frame no endpoint may send). */
const CLOSE_PROTOCOL_ERROR = 1002;

/** MAX_CONTROL_PAYLOAD is the largest payload of a control frame (RFC 6455 §5.5). */
const MAX_CONTROL_PAYLOAD = 125;

/** closeFrame is an unmasked (server-to-client) close frame carrying `code`. */
export function closeFrame(code: number): Buffer {
  return Buffer.from([0x88, 0x02, code >> 8, code & 0xff]);
}

/** FrameReader tracks frame boundaries; subclasses judge each frame header. */
export class FrameReader {
  /** Bytes of the current frame's payload still to skip. */
  private remaining = 0;
  /** Header bytes collected so far (a header is at most 14 bytes and may straddle chunks). */
  private readonly header = new Uint8Array(14);
  private headerLength = 0;
  private stopped = false;

  /** atBoundary is true between frames: no header or payload is half read. */
  get atBoundary(): boolean {
    return this.remaining === 0 && this.headerLength === 0;
  }

  /** push reads a chunk; returns false (from then on) once `onFrame` refused a frame. */
  push(chunk: Buffer): boolean {
    if (this.stopped) return false;
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.remaining > 0) {
        const skip = Math.min(this.remaining, n - i);
        this.remaining -= skip;
        i += skip;
        continue;
      }
      const h = this.header;
      h[this.headerLength++] = chunk[i++]!;
      const need = this.headerSize();
      if (need === -1 || this.headerLength < need) continue;
      let len = h[1]! & 0x7f;
      if (len === 126) len = (h[2]! << 8) | h[3]!;
      else if (len === 127) {
        // Lengths past 2^53 (or with the reserved top bit set) are read as "too big for anything".
        const hi = ((h[2]! << 24) >>> 0) + ((h[3]! << 16) | (h[4]! << 8) | h[5]!);
        len = hi > 0x1fffff ? Number.MAX_SAFE_INTEGER : hi * 2 ** 32 + ((h[6]! << 24) >>> 0) + ((h[7]! << 16) | (h[8]! << 8) | h[9]!);
      }
      this.headerLength = 0;
      this.remaining = len;
      if (!this.onFrame((h[0]! & 0x80) !== 0, h[0]! & 0x0f, len)) {
        this.stopped = true;
        return false;
      }
    }
    return true;
  }

  /** onFrame judges one frame header (payload length `len`); false stops the stream. */
  protected onFrame(_fin: boolean, _opcode: number, _len: number): boolean {
    return true;
  }

  /** headerSize is the full header size once enough bytes are known, else -1. */
  private headerSize(): number {
    if (this.headerLength < 2) return -1;
    const b = this.header[1]!;
    const len = b & 0x7f;
    return 2 + (len === 126 ? 2 : len === 127 ? 8 : 0) + ((b & 0x80) !== 0 ? 4 : 0);
  }
}

/**
 * FrameLimiter watches client-to-upstream bytes and stops at the header of a
 * frame that takes its message past the limit (so none of that frame's
 * payload is forwarded), or at a control frame no client may send (a payload
 * over 125 bytes, or fragmented: a way to smuggle bytes past a message limit).
 * `violation` then holds the close code to answer with.
 */
export class FrameLimiter extends FrameReader {
  /** Size of the message being assembled (across continuation frames). */
  private messageSize = 0;
  /** violation is the close code once the limiter tripped (1009 or 1002), else 0. */
  violation = 0;

  constructor(private readonly limit: number) {
    super();
  }

  protected override onFrame(fin: boolean, opcode: number, len: number): boolean {
    if (opcode >= 0x8) {
      if (len <= MAX_CONTROL_PAYLOAD && fin) return true;
      this.violation = CLOSE_PROTOCOL_ERROR;
      return false;
    }
    this.messageSize += len;
    if (this.messageSize > this.limit) {
      this.violation = CLOSE_TOO_BIG;
      return false;
    }
    if (fin) this.messageSize = 0;
    return true;
  }
}
