/**
 * HTTP/2 sessions of the TLS listener, held to the client limits HTTP/1.1
 * connections get from node's http.Server, and never left open by a broken
 * or vanished peer.
 *
 * Why this is needed: node's Http2Session stops reading its socket while a
 * write is in progress and, for good, once nghttp2 has sent a connection-error
 * GOAWAY (a DATA frame over 16,384 bytes, DATA on stream 0, a SETTINGS frame
 * whose length is not a multiple of 6, ...). It then sees neither the peer's
 * FIN nor its reset: the socket sits in CLOSE-WAIT holding a
 * `limits.maxConnections` slot and its streams stay "in flight" (RFC 9113
 * §5.4.1 says the connection MUST be closed). And `session.destroy()` waits
 * for that write before it closes the socket, so shutdown could wait forever.
 *
 * What is done, per session:
 * - Stuck writes: every PEEK_MS, a session whose writes wait in its socket
 *   (the client is not taking them) has the socket asked for one read, so a
 *   FIN or reset the session was not reading is seen: the vanished slow
 *   reader is noticed within PEEK_MS, as HTTP/1.1 notices it at once.
 * - Silence probe: after PROBE_MS without session activity the socket is
 *   asked for one read too, and a PING is sent. A client that does not
 *   acknowledge it in time is cut. A terminated nghttp2 session never sends
 *   the PING, and a client halfway through a header block cannot answer one
 *   (RFC 9113 §6.10: only CONTINUATION may follow), so this bounds both the
 *   connection-error leak and the header time. When the client still has
 *   bytes to read, its acknowledgement waits behind them: it then gets
 *   `limits.sendTimeout`, as a slow reader does on HTTP/1.1.
 * - Idle: a session without an open stream for `limits.keepAliveTimeout` is
 *   closed (GOAWAY), as an idle HTTP/1.1 keep-alive connection is.
 * - Request body: a stream whose request has not ended within
 *   `limits.requestTimeout` is answered 408 (or cut, once its response started).
 * - Every close is bounded: a session asked to close that has not closed its
 *   socket CLOSE_GRACE_MS after its last stream ended is destroyed, socket
 *   included.
 */
import http2, { type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2';
import type { ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { LinkedSet, type LinkedNode } from '../process/linked-set.js';
import { writeBare } from '../proxy/respond.js';
import { CLOSE_GRACE_MS } from './close-grace.js';

/** H2Limits are the client limits, in milliseconds (0 = no limit where the setting allows it). */
export interface H2Limits {
  headerMs: number;
  requestMs: number;
  keepAliveMs: number;
  sendMs: number;
}

/** PROBE_MAX_MS is the longest silence before a session is probed. */
const PROBE_MAX_MS = 1000;
/** ACK_MAX_MS is the longest wait for a PING acknowledgement when the client has nothing left to read. */
const ACK_MAX_MS = 3000;
/** PEEK_MS is how often a session whose writes are stuck in its socket is asked for a read (a vanished peer is seen within it). */
const PEEK_MS = 500;

/** probeTimings keeps silence + acknowledgement within the header timeout (a stalled header block is cut in time). */
export function probeTimings(headerMs: number): { probeMs: number; ackMs: number } {
  const h = headerMs > 0 ? headerMs : Infinity;
  return { probeMs: Math.max(50, Math.min(PROBE_MAX_MS, Math.floor(h / 4))), ackMs: Math.max(100, Math.min(ACK_MAX_MS, Math.floor(h / 2))) };
}

/** Watched is one live session and the TLS socket under it. */
interface Watched {
  session: ServerHttp2Session;
  socket: TLSSocket | undefined;
  streams: number;
  idle: NodeJS.Timeout | undefined;
  grace: NodeJS.Timeout | undefined;
  pinging: boolean;
  /** place is the session's node among the live ones. */
  place: LinkedNode<Watched> | undefined;
}

/** queued is the number of bytes written to the socket that the kernel has not taken yet (the client is behind). */
function queued(socket: TLSSocket | undefined): number {
  return (socket as unknown as { _handle?: { writeQueueSize?: number } } | undefined)?._handle?.writeQueueSize ?? 0;
}

/**
 * peek asks the socket for one read. node stops reading under a session with
 * a write in progress; a peer that closed meanwhile is only noticed by a
 * read. The session stops reading again after it (node does the same when a
 * write completes).
 */
function peek(socket: TLSSocket | undefined): void {
  (socket as unknown as { _handle?: { readStart?(): number } } | undefined)?._handle?.readStart?.();
}

/** H2Sessions supervises the HTTP/2 sessions of one server. */
export class H2Sessions {
  /** A linked set, not a Map: sessions come and go (process/linked-set.ts says why). */
  private readonly live = new LinkedSet<Watched>();
  private readonly probeMs: number;
  private readonly ackMs: number;
  /** peeker runs only while sessions are open. */
  private peeker: NodeJS.Timeout | undefined;

  constructor(
    server: Http2SecureServer,
    private readonly limits: H2Limits,
  ) {
    ({ probeMs: this.probeMs, ackMs: this.ackMs } = probeTimings(limits.headerMs));
    // node creates the session inside its own 'secureConnection' listener and
    // emits 'session' synchronously: the socket seen first is the session's.
    // (session.socket is a proxy that refuses destroy().)
    let arriving: TLSSocket | undefined;
    server.prependListener('secureConnection', (s: TLSSocket) => (arriving = s));
    server.on('session', (session: ServerHttp2Session) => {
      const socket = arriving;
      arriving = undefined;
      this.watch(session, socket);
    });
  }

  /** size is the number of open sessions. */
  get size(): number {
    return this.live.size;
  }

  private watch(session: ServerHttp2Session, socket: TLSSocket | undefined): void {
    const w: Watched = { session, socket, streams: 0, idle: undefined, grace: undefined, pinging: false, place: undefined };
    w.place = this.live.add(w);
    this.peeker ??= setInterval(() => this.peekStuck(), PEEK_MS).unref();
    session.on('stream', (stream) => {
      if (w.streams++ === 0) clearTimeout(w.idle);
      stream.once('close', () => {
        if (--w.streams === 0) this.quiet(w);
      });
    });
    session.on('timeout', () => this.probe(w));
    session.setTimeout(this.probeMs);
    // node destroys the session on these; the listener keeps them from being unhandled and the socket is made sure of.
    session.on('error', () => this.kill(w));
    socket?.once('close', () => this.kill(w));
    session.once('close', () => {
      clearTimeout(w.idle);
      clearTimeout(w.grace);
      if (w.place !== undefined) this.live.delete(w.place);
      w.place = undefined;
      if (this.live.size === 0) {
        clearInterval(this.peeker);
        this.peeker = undefined;
      }
      if (socket !== undefined && !socket.destroyed) socket.destroy();
    });
    this.quiet(w);
  }

  /** peekStuck asks every socket with writes waiting in it for one read. */
  private peekStuck(): void {
    for (const w of this.live.values()) if (queued(w.socket) > 0) peek(w.socket);
  }

  /** quiet is called when a session has no open stream: idle timer, or the end of a requested close. */
  private quiet(w: Watched): void {
    if (w.session.destroyed) return;
    if (w.session.closed) return this.bound(w);
    clearTimeout(w.idle);
    if (this.limits.keepAliveMs <= 0) return;
    w.idle = setTimeout(() => this.retire(w), this.limits.keepAliveMs).unref();
  }

  /** probe runs after a silence: one read for a close the session was not reading, and a PING the client must answer. */
  private probe(w: Watched): void {
    const { session, socket } = w;
    if (session.destroyed) return;
    peek(socket);
    if (w.pinging || session.destroyed) return;
    // Bytes still queued for the client: the acknowledgement waits behind
    // them (and node does not read while they are being written), as any slow
    // reader's data does: the client then gets limits.sendTimeout.
    let deadline: NodeJS.Timeout | undefined;
    const expire = (slow: boolean) => {
      if (!slow && queued(socket) > 0) {
        peek(socket);
        // sendTimeout 0 is no limit: the acknowledgement may take as long as the client's reading does.
        if (this.limits.sendMs > 0) deadline = setTimeout(() => expire(true), Math.max(0, this.limits.sendMs - this.ackMs)).unref();
        return;
      }
      this.kill(w);
    };
    if (queued(socket) > 0) {
      if (this.limits.sendMs > 0) deadline = setTimeout(() => expire(true), this.limits.sendMs).unref();
    } else deadline = setTimeout(() => expire(false), this.ackMs).unref();
    w.pinging = true;
    let sent = false;
    try {
      sent = session.ping((err) => {
        clearTimeout(deadline);
        w.pinging = false;
        if (err === null && !session.destroyed) session.setTimeout(this.probeMs);
      });
    } catch {
      // The session is closing under us: the deadline decides.
    }
    if (!sent) {
      w.pinging = false;
      clearTimeout(deadline);
      this.kill(w);
    }
  }

  /** retire closes a session gracefully (GOAWAY: open streams finish), bounded once they have. */
  private retire(w: Watched): void {
    if (w.session.destroyed) return;
    if (!w.session.closed) w.session.close();
    if (w.streams === 0) this.bound(w);
  }

  /** bound destroys a closing session that has not let go of its socket CLOSE_GRACE_MS from now. */
  private bound(w: Watched): void {
    w.grace ??= setTimeout(() => this.kill(w), CLOSE_GRACE_MS).unref();
  }

  /** kill destroys the session (its streams are aborted: their exchanges finish as client-closed) and the socket under it. */
  private kill(w: Watched): void {
    if (!w.session.destroyed) w.session.destroy();
    // node's destroy waits for a write in progress before closing the socket; a dead peer never completes one.
    if (w.socket !== undefined && !w.socket.destroyed) w.socket.destroy();
  }

  /** closeIdle asks every session to finish (GOAWAY): in-flight streams complete, no new ones start. */
  closeIdle(): void {
    for (const w of this.live.values()) this.retire(w);
  }

  /** closeAll cuts every session and its socket. */
  closeAll(): void {
    for (const w of this.live.values()) this.kill(w);
  }

  /**
   * timeRequest holds an HTTP/2 request body to `limits.requestTimeout`, as
   * node's http.Server does for HTTP/1.1: past it, a 408 if the response has
   * not started (then RST_STREAM NO_ERROR, RFC 9113 §8.1: the client may stop
   * sending), else the stream is cut.
   */
  timeRequest(req: Http2ServerRequest, res: Http2ServerResponse): void {
    const stream = req.stream;
    if (this.limits.requestMs <= 0 || stream.endAfterHeaders || stream.destroyed) return;
    const timer = setTimeout(() => {
      if (req.complete || stream.destroyed) return;
      if (res.headersSent) return void stream.close(http2.constants.NGHTTP2_CANCEL);
      res.once('finish', () => stream.close(http2.constants.NGHTTP2_NO_ERROR));
      writeBare(res as unknown as ServerResponse, 'SY_ERR_REQUEST_TIMEOUT', '-');
    }, this.limits.requestMs).unref();
    const done = () => clearTimeout(timer);
    req.once('end', done);
    stream.once('close', done);
  }
}
