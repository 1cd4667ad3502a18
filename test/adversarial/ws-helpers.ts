/**
 * WebSocket tools for adversarial tests: a frame builder that can lie (any
 * declared length, unmasked, fragmented control frames), a raw client that
 * does the handshake by hand and then reads (or stops reading) bytes, and a
 * "WebSocket recorder" upstream that completes handshakes and logs every
 * byte it receives after them, so a test can assert exactly what reached it.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';

/** KEY is the handshake key of RFC 6455's example; ACCEPT is its answer. */
export const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Opcodes (RFC 6455 §5.2). */
export const OP = { CONTINUATION: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa } as const;

/** FrameSpec describes one frame to build. */
export interface FrameSpec {
  opcode: number;
  /** fin defaults to true. */
  fin?: boolean;
  payload?: Buffer;
  /** length is the declared payload length (default: the payload's); lie with it to send a header alone. */
  length?: number | bigint;
  /** mask defaults to true (clients must mask; servers must not). */
  mask?: boolean;
}

/** frame builds the bytes of one frame. */
export function frame(spec: FrameSpec): Buffer {
  const payload = spec.payload ?? Buffer.alloc(0);
  const length = BigInt(spec.length ?? payload.length);
  const mask = spec.mask ?? true;
  let head: Buffer;
  if (length < 126n) head = Buffer.from([0, Number(length)]);
  else if (length <= 0xffffn) {
    head = Buffer.alloc(4);
    head[1] = 126;
    head.writeUInt16BE(Number(length), 2);
  } else {
    head = Buffer.alloc(10);
    head[1] = 127;
    head.writeBigUInt64BE(length, 2);
  }
  head[0] = ((spec.fin ?? true) ? 0x80 : 0) | spec.opcode;
  if (!mask) return Buffer.concat([head, payload]);
  head[1]! |= 0x80;
  const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  const masked = Buffer.alloc(payload.length);
  for (let i = 0; i < payload.length; i++) masked[i] = payload[i]! ^ key[i & 3]!;
  return Buffer.concat([head, key, masked]);
}

/** Frame is one parsed frame. */
export interface Frame {
  fin: boolean;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

/** parseFrames parses every complete frame in `buf` (unmasking payloads); `rest` is what remains. */
export function parseFrames(buf: Buffer): { frames: Frame[]; rest: Buffer } {
  const frames: Frame[] = [];
  let at = 0;
  for (;;) {
    if (buf.length - at < 2) break;
    const b1 = buf[at + 1]!;
    let len = b1 & 0x7f;
    let p = at + 2;
    if (len === 126) {
      if (buf.length < p + 2) break;
      len = buf.readUInt16BE(p);
      p += 2;
    } else if (len === 127) {
      if (buf.length < p + 8) break;
      len = Number(buf.readBigUInt64BE(p));
      p += 8;
    }
    const masked = (b1 & 0x80) !== 0;
    const key = masked ? buf.subarray(p, p + 4) : undefined;
    if (masked) p += 4;
    if (buf.length < p + len) break;
    const payload = Buffer.from(buf.subarray(p, p + len));
    if (key) for (let i = 0; i < payload.length; i++) payload[i]! ^= key[i & 3]!;
    frames.push({ fin: (buf[at]! & 0x80) !== 0, opcode: buf[at]! & 0x0f, masked, payload });
    at = p + len;
  }
  return { frames, rest: buf.subarray(at) };
}

/** closeCode reads the status code of a close frame's payload. */
export const closeCode = (f: Frame) => (f.payload.length >= 2 ? f.payload.readUInt16BE(0) : undefined);

/** RawWs is one raw client connection that sent a handshake. */
export interface RawWs {
  socket: net.Socket;
  /** status of the handshake answer (101 when upgraded). */
  status: number;
  /** head is the answer's start line and headers. */
  head: string;
  /** received is every byte after the answer's head so far. */
  received(): Buffer;
  /** bytesRead counts the bytes after the head read so far (also when they are not kept). */
  bytesRead(): number;
  /** ended is true once the gateway ended or closed the connection. */
  ended(): boolean;
  /** closed resolves when the connection is fully closed. */
  closed: Promise<void>;
}

/** upgradeRequest builds a handshake request for `path` with extra header lines. */
export function upgradeRequest(path: string, extra = '', host = 'gw.test'): string {
  return `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${KEY}\r\n${extra}\r\n`;
}

/**
 * openWs connects, sends the handshake (with `after` in the same write: bytes
 * a client pipelines behind its handshake) and resolves once the answer's
 * head arrived. `keep: false` counts bytes without keeping them (for large
 * downloads).
 */
export function openWs(port: number, request: string, opts: { after?: Buffer; keep?: boolean; deadline?: number } = {}): Promise<RawWs> {
  const keep = opts.keep ?? true;
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let headBuf = Buffer.alloc(0);
    let headDone = false;
    const chunks: Buffer[] = [];
    let count = 0;
    let ended = false;
    let resolveClosed!: () => void;
    const closed = new Promise<void>((r) => (resolveClosed = r));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no handshake answer within ${opts.deadline ?? 3000}ms`));
    }, opts.deadline ?? 3000);
    const conn: RawWs = {
      socket,
      status: 0,
      head: '',
      received: () => Buffer.concat(chunks),
      bytesRead: () => count,
      ended: () => ended,
      closed,
    };
    const body = (c: Buffer) => {
      count += c.length;
      if (keep) chunks.push(c);
    };
    socket.on('data', (c: Buffer) => {
      if (headDone) return body(c);
      headBuf = Buffer.concat([headBuf, c]);
      const end = headBuf.indexOf('\r\n\r\n');
      if (end === -1) return;
      headDone = true;
      clearTimeout(timer);
      conn.head = headBuf.toString('latin1', 0, end);
      conn.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(conn.head)?.[1] ?? 0);
      if (headBuf.length > end + 4) body(headBuf.subarray(end + 4));
      resolve(conn);
    });
    socket.on('end', () => (ended = true));
    socket.on('error', () => (ended = true));
    socket.on('close', () => {
      ended = true;
      clearTimeout(timer);
      if (!headDone) reject(new Error(`closed before a handshake answer: ${JSON.stringify(headBuf.toString('latin1'))}`));
      resolveClosed();
    });
    socket.on('connect', () => socket.write(opts.after ? Buffer.concat([Buffer.from(request, 'latin1'), opts.after]) : Buffer.from(request, 'latin1')));
  });
}

/** WsConnection is one handshake the recorder completed. */
export interface WsConnection {
  socket: net.Socket;
  /** request is the handshake request's head as received. */
  request: string;
  /** bytes is everything received after the handshake, exactly. */
  bytes: Buffer;
  closed: boolean;
}

/** WsRecorder is a raw WebSocket upstream. */
export interface WsRecorder {
  readonly port: number;
  readonly url: string;
  readonly connections: WsConnection[];
  /** onOpen runs once a handshake is answered (to send frames from the upstream). */
  onOpen(fn: ((conn: WsConnection) => void) | undefined): void;
  reset(): void;
  close(): Promise<void>;
}

/** startWsRecorder starts a raw upstream that answers every handshake with 101 and records what follows. */
export async function startWsRecorder(): Promise<WsRecorder> {
  const connections: WsConnection[] = [];
  let onOpen: ((conn: WsConnection) => void) | undefined;
  const server = net.createServer((socket) => {
    let head = Buffer.alloc(0);
    let conn: WsConnection | undefined;
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (conn) conn.closed = true;
    });
    socket.on('data', (c: Buffer) => {
      if (conn) {
        conn.bytes = Buffer.concat([conn.bytes, c]);
        return;
      }
      head = Buffer.concat([head, c]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      const request = head.toString('latin1', 0, end);
      const key = /\r\nsec-websocket-key: *([^\r]+)/i.exec(request)?.[1] ?? '';
      const accept = createHash('sha1').update(key + GUID).digest('base64');
      conn = { socket, request, bytes: Buffer.from(head.subarray(end + 4)), closed: false };
      connections.push(conn);
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      onOpen?.(conn);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    connections,
    onOpen: (fn) => (onOpen = fn),
    reset() {
      connections.length = 0;
      onOpen = undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of connections) c.socket.destroy();
        server.close(() => resolve());
      }),
  };
}
