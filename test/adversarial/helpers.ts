/**
 * Tools for talking to the gateway the way well-behaved clients never do:
 * a raw TCP client that sends exact bytes and parses whatever comes back, and
 * a "recorder" upstream (a plain TCP server, not node:http, so it never
 * normalizes what it sees) that logs the exact bytes it receives and answers
 * with a configurable raw response, malformed ones included. Tests assert on
 * the recorder that nothing, or exactly one well-framed request, got through.
 */
import net from 'node:net';
export { freePort } from '../helpers/ports.js';

/** Head is a parsed start line plus headers, in arrival order. */
export interface Head {
  /** headers in order as [name, value]; names as sent. */
  headers: Array<[string, string]>;
  /** header returns the first value of a header (case-insensitive). */
  header(name: string): string | undefined;
  /** all returns every value of a header (case-insensitive). */
  all(name: string): string[];
}

/** ParsedResponse is one response the raw client read. */
export interface ParsedResponse extends Head {
  version: string;
  status: number;
  reason: string;
  body: Buffer;
  /** json parses the body. */
  json(): any;
}

/** ParsedRequest is one request the recorder read. */
export interface ParsedRequest extends Head {
  method: string;
  target: string;
  version: string;
  body: Buffer;
  /** raw is the exact bytes of this request. */
  raw: Buffer;
}

/** RawResult is everything one raw connection got back. */
export interface RawResult {
  /** bytes is every byte received. */
  bytes: Buffer;
  text: string;
  responses: ParsedResponse[];
  /** closed is true when the gateway closed the connection before the deadline. */
  closed: boolean;
  /** ms is how long the exchange took. */
  ms: number;
  /** error names bytes that do not parse as HTTP responses (they are kept in `bytes`). */
  error: string | undefined;
}

function makeHead(headers: Array<[string, string]>): Head {
  return {
    headers,
    header: (name) => headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1],
    all: (name) => headers.filter(([n]) => n.toLowerCase() === name.toLowerCase()).map(([, v]) => v),
  };
}

class Incomplete extends Error {}
class Malformed extends Error {}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** parseHeadBlock parses `start\r\nname: value\r\n...\r\n\r\n` strictly (CRLF only, no obs-fold). */
function parseHeadBlock(buf: Buffer, from: number): { start: string; headers: Array<[string, string]>; end: number } {
  const endIdx = buf.indexOf('\r\n\r\n', from, 'latin1');
  if (endIdx === -1) {
    if (buf.length - from > 1 << 20) throw new Malformed('head larger than 1 MiB');
    throw new Incomplete();
  }
  const block = buf.toString('latin1', from, endIdx);
  const lines = block.split('\r\n');
  const headers: Array<[string, string]> = [];
  for (const line of lines.slice(1)) {
    if (/[\r\n]/.test(line)) throw new Malformed(`bare CR or LF in header line ${JSON.stringify(line)}`);
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Malformed(`header line without a name: ${JSON.stringify(line)}`);
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) throw new Malformed(`bad header name ${JSON.stringify(name)}`);
    headers.push([name, line.slice(colon + 1).trim()]);
  }
  if (/[\r\n]/.test(lines[0]!)) throw new Malformed(`bare CR or LF in start line ${JSON.stringify(lines[0])}`);
  return { start: lines[0]!, headers, end: endIdx + 4 };
}

/** decodeChunked decodes a chunked body strictly; returns the body and where it ends. */
function decodeChunked(buf: Buffer, from: number): { body: Buffer; end: number } {
  const parts: Buffer[] = [];
  let at = from;
  for (;;) {
    const eol = buf.indexOf('\r\n', at, 'latin1');
    if (eol === -1) throw new Incomplete();
    const sizeLine = buf.toString('latin1', at, eol);
    if (!/^[0-9A-Fa-f]{1,8}$/.test(sizeLine)) throw new Malformed(`bad chunk size line ${JSON.stringify(sizeLine)}`);
    const size = Number.parseInt(sizeLine, 16);
    at = eol + 2;
    if (size === 0) {
      // No trailers are expected from the gateway or towards upstreams.
      if (buf.length < at + 2) throw new Incomplete();
      if (buf.toString('latin1', at, at + 2) !== '\r\n') throw new Malformed('trailers or junk after last chunk');
      return { body: Buffer.concat(parts), end: at + 2 };
    }
    if (buf.length < at + size + 2) throw new Incomplete();
    parts.push(buf.subarray(at, at + size));
    if (buf.toString('latin1', at + size, at + size + 2) !== '\r\n') throw new Malformed('chunk not followed by CRLF');
    at += size + 2;
  }
}

/** bodyFraming reads the framing headers; throws Malformed on ambiguous framing. */
function bodyFraming(head: Head): { kind: 'none' } | { kind: 'length'; n: number } | { kind: 'chunked' } | { kind: 'close' } {
  const te = head.all('transfer-encoding');
  const cl = head.all('content-length');
  if (te.length > 0 && cl.length > 0) throw new Malformed('both Transfer-Encoding and Content-Length');
  if (te.length > 1 || cl.length > 1) throw new Malformed('duplicate framing header');
  if (te.length === 1) {
    if (te[0] !== 'chunked') throw new Malformed(`transfer-encoding ${JSON.stringify(te[0])}`);
    return { kind: 'chunked' };
  }
  if (cl.length === 1) {
    if (!/^\d{1,15}$/.test(cl[0]!)) throw new Malformed(`content-length ${JSON.stringify(cl[0])}`);
    return { kind: 'length', n: Number(cl[0]) };
  }
  return { kind: 'close' };
}

/** parseResponses parses as many complete responses as `buf` holds. */
export function parseResponses(buf: Buffer, closed: boolean, headRequest = false): { responses: ParsedResponse[]; error: string | undefined } {
  const responses: ParsedResponse[] = [];
  let at = 0;
  try {
    while (at < buf.length) {
      const h = parseHeadBlock(buf, at);
      const m = /^(HTTP\/1\.[01]) (\d{3})(?: (.*))?$/.exec(h.start);
      if (!m) throw new Malformed(`bad status line ${JSON.stringify(h.start)}`);
      const head = makeHead(h.headers);
      const status = Number(m[2]);
      let body: Buffer;
      let end: number;
      if (headRequest || status < 200 || status === 204 || status === 304) {
        body = Buffer.alloc(0);
        end = h.end;
      } else {
        const f = bodyFraming(head);
        if (f.kind === 'chunked') ({ body, end } = decodeChunked(buf, h.end));
        else if (f.kind === 'length') {
          if (buf.length < h.end + f.n) throw new Incomplete();
          body = buf.subarray(h.end, h.end + f.n);
          end = h.end + f.n;
        } else {
          if (!closed) throw new Incomplete();
          body = buf.subarray(h.end);
          end = buf.length;
        }
      }
      at = end;
      if (status < 200) continue;
      responses.push({ ...head, version: m[1]!, status, reason: m[3] ?? '', body, json: () => JSON.parse(body.toString('utf8')) });
    }
  } catch (err) {
    if (err instanceof Incomplete) return { responses, error: closed ? 'truncated response' : undefined };
    if (err instanceof Malformed) return { responses, error: err.message };
    throw err;
  }
  return { responses, error: undefined };
}

/** SendOptions controls one raw exchange. */
export interface SendOptions {
  /** until: 'close' waits for the gateway to close; a number stops after that many complete responses. Default 'close'. */
  until?: 'close' | number;
  /** deadline bounds the whole exchange, in ms (default 3000). It is not an error to reach it: see `closed`. */
  deadline?: number;
  /** head is true when the request was HEAD (responses carry no body). */
  head?: boolean;
  /** halfClose ends our side after sending (a client that sends nothing more). */
  halfClose?: boolean;
}

/**
 * sendRaw opens a TCP connection, writes `data` exactly (pieces in order,
 * each in its own write), and collects the response bytes until the
 * connection closes, `until` responses are complete, or the deadline passes.
 */
export function sendRaw(port: number, data: string | Buffer | Array<string | Buffer>, opts: SendOptions = {}): Promise<RawResult> {
  const until = opts.until ?? 'close';
  const deadline = opts.deadline ?? 3000;
  const pieces = Array.isArray(data) ? data : [data];
  const t0 = Date.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ port, host: '127.0.0.1' });
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const bytes = Buffer.concat(chunks);
      const parsed = parseResponses(bytes, closed, opts.head);
      resolve({ bytes, text: bytes.toString('latin1'), responses: parsed.responses, closed, ms: Date.now() - t0, error: parsed.error });
    };
    const timer = setTimeout(() => finish(false), deadline);
    socket.on('connect', () => {
      for (const p of pieces) socket.write(typeof p === 'string' ? Buffer.from(p, 'latin1') : p);
      if (opts.halfClose) socket.end();
    });
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (typeof until === 'number') {
        const parsed = parseResponses(Buffer.concat(chunks), false, opts.head);
        if (parsed.responses.length >= until) finish(false);
      }
    });
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
  });
}

/** RecordedConnection is one connection the recorder accepted. */
export interface RecordedConnection {
  socket: net.Socket;
  /** bytes is every byte received on it, exactly. */
  bytes: Buffer;
  /** requests lists the well-framed requests parsed from it. */
  requests: ParsedRequest[];
  /** malformed names the first framing problem seen on it, if any. */
  malformed: string | undefined;
  /** parsedTo is how far `bytes` has been parsed into requests. */
  parsedTo: number;
  /** closed is true once the connection closed. */
  closed: boolean;
}

/** Responder answers one request on the recorder. */
export type Responder = (req: ParsedRequest, socket: net.Socket, conn: RecordedConnection) => void;

/** Recorder is a raw upstream that logs what it receives. */
export interface Recorder {
  readonly port: number;
  readonly url: string;
  readonly connections: RecordedConnection[];
  /** requests lists every well-framed request received, in order. */
  requests(): ParsedRequest[];
  /** partial lists connections holding bytes that are not (yet) a complete request. */
  partial(): RecordedConnection[];
  /** bytes is everything received on every connection. */
  bytes(): Buffer;
  /** malformed lists every framing problem seen. */
  malformed(): string[];
  /** respond sets how requests are answered: a raw response (string/Buffer) or a function. */
  respond(r: Responder | string | Buffer): void;
  /** onConnection runs for each new connection before any byte (to reset or hang at accept). */
  onConnection(fn: ((socket: net.Socket) => void) | undefined): void;
  /** reset forgets what was recorded and restores the default responder. */
  reset(): void;
  close(): Promise<void>;
}

/** okResponse is a well-framed 200 naming the request target (what the default responder sends). */
export function okResponse(req: ParsedRequest, extraHeaders = ''): string {
  const body = JSON.stringify({ method: req.method, target: req.target, bodyLength: req.body.length });
  return `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extraHeaders}\r\n${body}`;
}

const defaultResponder: Responder = (req, socket) => socket.write(okResponse(req));

/** parseRequest parses one request strictly from `buf` at `from`. */
function parseRequest(buf: Buffer, from: number): ParsedRequest {
  const h = parseHeadBlock(buf, from);
  const m = /^([A-Z]+) (\S+) (HTTP\/1\.1)$/.exec(h.start);
  if (!m) throw new Malformed(`bad request line ${JSON.stringify(h.start)}`);
  const head = makeHead(h.headers);
  if (head.all('host').length !== 1) throw new Malformed('not exactly one Host header');
  const f = bodyFraming(head);
  let body: Buffer;
  let end: number;
  if (f.kind === 'chunked') ({ body, end } = decodeChunked(buf, h.end));
  else if (f.kind === 'length') {
    if (buf.length < h.end + f.n) throw new Incomplete();
    body = buf.subarray(h.end, h.end + f.n);
    end = h.end + f.n;
  } else {
    body = Buffer.alloc(0);
    end = h.end;
  }
  return { ...head, method: m[1]!, target: m[2]!, version: m[3]!, body, raw: buf.subarray(from, end) };
}

/** startRecorder starts a raw upstream on a loopback port. */
export async function startRecorder(): Promise<Recorder> {
  let responder: Responder = defaultResponder;
  let onConn: ((socket: net.Socket) => void) | undefined;
  const connections: RecordedConnection[] = [];
  const server = net.createServer((socket) => {
    const conn: RecordedConnection = { socket, bytes: Buffer.alloc(0), requests: [], malformed: undefined, parsedTo: 0, closed: false };
    connections.push(conn);
    socket.on('error', () => undefined);
    socket.on('close', () => (conn.closed = true));
    if (onConn) {
      onConn(socket);
      if (socket.destroyed) return;
    }
    socket.on('data', (c: Buffer) => {
      conn.bytes = Buffer.concat([conn.bytes, c]);
      while (conn.malformed === undefined && conn.parsedTo < conn.bytes.length) {
        let req: ParsedRequest;
        try {
          req = parseRequest(conn.bytes, conn.parsedTo);
        } catch (err) {
          if (err instanceof Incomplete) return;
          conn.malformed = (err as Error).message;
          return;
        }
        conn.parsedTo += req.raw.length;
        conn.requests.push(req);
        responder(req, socket, conn);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    connections,
    requests: () => connections.flatMap((c) => c.requests),
    bytes: () => Buffer.concat(connections.map((c) => c.bytes)),
    malformed: () => connections.flatMap((c) => (c.malformed ? [c.malformed] : [])),
    partial: () => connections.filter((c) => c.parsedTo < c.bytes.length),
    respond(r) {
      responder = typeof r === 'function' ? r : (_req, socket) => socket.write(r);
    },
    onConnection(fn) {
      onConn = fn;
    },
    reset() {
      // Pooled connections stay open across tests: keep them, forget what they carried.
      for (let i = connections.length - 1; i >= 0; i--) {
        const c = connections[i]!;
        if (c.closed) connections.splice(i, 1);
        else {
          c.bytes = c.bytes.subarray(c.parsedTo);
          c.parsedTo = 0;
          c.requests = [];
        }
      }
      responder = defaultResponder;
      onConn = undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of connections) c.socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** get builds a minimal well-formed GET request. */
export function get(path: string, extra = ''): string {
  return `GET ${path} HTTP/1.1\r\nHost: gw.test\r\n${extra}\r\n`;
}

/** INTERNAL_DETAIL matches things an error body must never contain (addresses, errno names, stacks). */
export const INTERNAL_DETAIL = /127\.0\.0\.1|::1|localhost|ECONN|EPIPE|ETIMEDOUT|UND_ERR|HPE_|at .*\.(?:js|ts):\d+|Error:/;

/** TcpProxy forwards a loopback port to another, and can hold all bytes (a stalled network or a frozen server). */
export interface TcpProxy {
  readonly port: number;
  /** pause holds every byte in both directions until resume. */
  pause(): void;
  /** retarget sends new connections to another port. */
  retarget(port: number): void;
  resume(): void;
  close(): Promise<void>;
}

/** startTcpProxy starts a pausable TCP forwarder to `targetPort` on 127.0.0.1. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let paused = false;
  let target = targetPort;
  const held: Array<() => void> = [];
  const sockets = new Set<net.Socket>();
  const relay = (from: net.Socket, to: net.Socket) => {
    from.on('data', (c: Buffer) => {
      if (paused) held.push(() => to.write(c));
      else to.write(c);
    });
  };
  const server = net.createServer((client) => {
    const upstream = net.connect({ port: target, host: '127.0.0.1' });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.once('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    relay(client, upstream);
    relay(upstream, client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    pause: () => (paused = true),
    retarget: (port) => (target = port),
    resume() {
      paused = false;
      for (const f of held.splice(0)) f();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
