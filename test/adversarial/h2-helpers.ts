/**
 * Tools for HTTP/2 front-door tests: a throwaway certificate, a TLS gateway
 * speaking h2 and HTTP/1.1, a raw HTTP/2 client that sends hand-built frames
 * (malformed ones included) over node:tls with ALPN h2, and counters of the
 * gateway's open client sockets (node's own count and the kernel's view:
 * `ss`, CLOSE-WAIT included).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type net from 'node:net';
import tls from 'node:tls';
import { startGateway, type TestGateway } from '../../src/testing/index.js';
import type { GatewayOptions } from '../../src/gateway/gateway.js';

/** Cert is a self-signed certificate for gw.test, removed by cleanup(). */
export interface Cert {
  cert: string;
  key: string;
  ca: Buffer;
  cleanup(): void;
}

/** makeCert writes a throwaway EC certificate for gw.test with openssl (as test/gateway/tls.test.ts does). */
export function makeCert(): Cert {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-h2-'));
  const cert = join(dir, 'gw.crt');
  const key = join(dir, 'gw.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=gw.test', '-addext', 'subjectAltName=DNS:gw.test'], { stdio: 'ignore' });
  return { cert, key, ca: readFileSync(cert), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** startTlsGateway starts a gateway whose public listener is TLS with h2 (gateway doc merged over `gateway`). */
export function startTlsGateway(cert: Cert, gateway: Record<string, unknown>, routeFiles: Record<string, unknown>, extra: Partial<GatewayOptions> = {}): Promise<TestGateway> {
  return startGateway({
    ...extra,
    gateway: { ...gateway, listen: { tls: { certificates: [{ cert: cert.cert, key: cert.key }], recheck: 0 } }, admin: { enabled: false } },
    routeFiles,
  } as GatewayOptions);
}

/** PREFACE is the client connection preface (RFC 9113 §3.4). */
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Frame types and flags used here (RFC 9113 §6). */
export const DATA = 0x0;
export const HEADERS = 0x1;
export const SETTINGS = 0x4;
export const PING = 0x6;
export const WINDOW_UPDATE = 0x8;
export const END_STREAM = 0x1;
export const END_HEADERS = 0x4;
export const ACK = 0x1;

/** frame builds one frame: 9-byte header (length, type, flags, stream id) and payload. */
export function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([h, payload]);
}

/** literal is an HPACK "literal header field without indexing, new name" (RFC 7541 §6.2.2), short strings only. */
function literal(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x00, name.length]), Buffer.from(name, 'latin1'), Buffer.from([value.length]), Buffer.from(value, 'latin1')]);
}

/** headerBlock is an HPACK block for a request (static-table pseudo-headers, literal :path and :authority). */
export function headerBlock(method: 'GET' | 'POST', path: string, authority = 'gw.test'): Buffer {
  // Static table: 2 = :method GET, 3 = :method POST, 7 = :scheme https; 4 = :path (name), 1 = :authority (name).
  const m = method === 'GET' ? 0x82 : 0x83;
  const withName = (index: number, value: string) => Buffer.concat([Buffer.from([index, value.length]), Buffer.from(value, 'latin1')]);
  return Buffer.concat([Buffer.from([m, 0x87]), withName(0x04, path), withName(0x01, authority), literal('x-test', 'raw')]);
}

/** RawH2 is a raw HTTP/2 connection: bytes out as given, everything the gateway sent kept. */
export interface RawH2 {
  socket: tls.TLSSocket;
  /** received is every byte the gateway sent (decrypted). */
  received(): Buffer;
  /** frames parses what was received into frames (type, flags, stream, payload). */
  frames(): Array<{ type: number; flags: number; stream: number; payload: Buffer }>;
  write(data: Buffer): void;
  /** closed resolves with the ms from connect until the gateway closed the connection. */
  closed: Promise<number>;
  isClosed(): boolean;
}

/**
 * rawH2 connects with ALPN h2 and sends the preface and an empty SETTINGS
 * frame (unless `preface` is false). It acknowledges nothing and never closes
 * on its own: what happens to the connection is up to the gateway.
 */
export function rawH2(port: number, opts: { preface?: boolean } = {}): Promise<RawH2> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    let closedAt = 0;
    const t0 = performance.now();
    const socket = tls.connect({ port, host: '127.0.0.1', servername: 'gw.test', rejectUnauthorized: false, ALPNProtocols: ['h2'] }, () => {
      if (socket.alpnProtocol !== 'h2') return reject(new Error(`ALPN gave ${String(socket.alpnProtocol)}`));
      if (opts.preface !== false) socket.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0)]));
      resolve(conn);
    });
    socket.on('data', (c: Buffer) => (buf = Buffer.concat([buf, c])));
    socket.on('error', () => undefined);
    const closed = new Promise<number>((r) =>
      socket.once('close', () => {
        closedAt = performance.now();
        r(closedAt - t0);
      }),
    );
    const conn: RawH2 = {
      socket,
      received: () => buf,
      frames: () => {
        const out: Array<{ type: number; flags: number; stream: number; payload: Buffer }> = [];
        for (let off = 0; off + 9 <= buf.length; ) {
          const len = buf.readUIntBE(off, 3);
          if (off + 9 + len > buf.length) break;
          out.push({ type: buf[off + 3]!, flags: buf[off + 4]!, stream: buf.readUInt32BE(off + 5) & 0x7fffffff, payload: buf.subarray(off + 9, off + 9 + len) });
          off += 9 + len;
        }
        return out;
      },
      write: (data) => {
        if (!socket.destroyed) socket.write(data);
      },
      closed,
      isClosed: () => closedAt !== 0,
    };
  });
}

/** connections is node's count of the listener's open connections. */
export function connections(gw: TestGateway): Promise<number> {
  const server = (gw.gateway as unknown as { server: net.Server }).server;
  return new Promise((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
}

/** kernelSockets lists the kernel's TCP sockets on the gateway's port (any state but LISTEN), as `ss` shows them. */
export function kernelSockets(port: number): string[] {
  const out = execFileSync('ss', ['-Htan', `( sport = :${port} )`], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('LISTEN'));
}

/** closeWait lists the gateway's sockets in CLOSE-WAIT: the peer closed, the gateway never did. */
export function closeWait(port: number): string[] {
  return kernelSockets(port).filter((l) => l.startsWith('CLOSE-WAIT'));
}

/** sendQueue is the kernel's Send-Q (bytes the client has not acknowledged) of the gateway's socket to the client on `clientPort`. */
export function sendQueue(port: number, clientPort: number): number {
  const line = execFileSync('ss', ['-Htn', `( sport = :${port} and dport = :${clientPort} )`], { encoding: 'utf8' }).trim();
  // State Recv-Q Send-Q Local Peer
  return Number(line.split(/\s+/)[2] ?? 0);
}

/**
 * writesStuck waits until the gateway's socket to a client that stopped
 * reading is full (Send-Q above zero and unchanged over several polls): the
 * gateway's next write waits in node, which then stops reading that socket.
 */
export async function writesStuck(port: number, clientPort: number): Promise<void> {
  let last = -1;
  let same = 0;
  const { waitFor } = await import('../../src/testing/index.js');
  await waitFor(
    () => {
      const q = sendQueue(port, clientPort);
      same = q > 0 && q === last ? same + 1 : 0;
      last = q;
      return same >= 3;
    },
    { interval: 50, timeout: 10000, message: 'the gateway socket to the client full' },
  );
}
