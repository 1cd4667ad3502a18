/**
 * A minimal WebSocket frame reader (RFC 6455 §5.2) that tracks message sizes
 * on a byte stream without buffering payloads, so the gateway can enforce a
 * message size limit while splicing sockets. Written here because `ws` parses
 * and re-frames whole messages, which would cost a copy per message and break
 * the splice; this only reads headers.
 */

/** FrameLimiter watches client-to-upstream bytes and trips when a message passes the limit. */
export class FrameLimiter {
  /** Bytes of the current frame's payload still to skip. */
  private remaining = 0;
  /** Header bytes collected while a header straddles chunks. */
  private header: number[] = [];
  /** Size of the message being assembled (across continuation frames). */
  private messageSize = 0;
  private tripped = false;

  constructor(
    private readonly limit: number,
    private readonly onTrip: () => void,
  ) {}

  /** push inspects a chunk; returns false (and trips once) when the limit is passed. */
  push(chunk: Buffer): boolean {
    if (this.tripped) return false;
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const skip = Math.min(this.remaining, chunk.length - i);
        this.remaining -= skip;
        i += skip;
        continue;
      }
      this.header.push(chunk[i]!);
      i++;
      const need = this.headerLength();
      if (need === -1 || this.header.length < need) continue;
      const h = this.header;
      const fin = (h[0]! & 0x80) !== 0;
      const opcode = h[0]! & 0x0f;
      let len = h[1]! & 0x7f;
      if (len === 126) len = (h[2]! << 8) | h[3]!;
      else if (len === 127) {
        const hi = (h[2]! << 24) | (h[3]! << 16) | (h[4]! << 8) | h[5]!;
        len = hi !== 0 ? Number.MAX_SAFE_INTEGER : ((h[6]! << 24) >>> 0) + ((h[7]! << 16) | (h[8]! << 8) | h[9]!);
      }
      this.header = [];
      this.remaining = len;
      if (opcode < 0x8) {
        this.messageSize += len;
        if (this.messageSize > this.limit) {
          this.tripped = true;
          this.onTrip();
          return false;
        }
        if (fin) this.messageSize = 0;
      }
    }
    return true;
  }

  /** headerLength is the full header size once enough bytes are known, else -1. */
  private headerLength(): number {
    const h = this.header;
    if (h.length < 2) return -1;
    const masked = (h[1]! & 0x80) !== 0 ? 4 : 0;
    const len = h[1]! & 0x7f;
    return 2 + (len === 126 ? 2 : len === 127 ? 8 : 0) + masked;
  }
}
