/**
 * Requests node's HTTP/1 parser refuses before any handler runs (ambiguous
 * framing such as Content-Length with Transfer-Encoding, a bad chunk,
 * oversized headers, a too-long request line, a header timeout). They are
 * answered on the raw socket, and still get what every request gets: a
 * request id (in the body and in X-Request-Id), an access-log line and a
 * count in switchyard_requests_total under route "" (like a 404). Smuggling
 * scanners send thousands of these, so their log lines are rate-limited; the
 * count of lines left out is logged when the window ends and counted in
 * switchyard_events_total{event="access_log_suppressed"}.
 */
import { randomUUID } from 'node:crypto';
import http, { type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ERRORS, errorBody, type ErrorCode } from '../errors.js';
import { peerAddress } from '../http/peer-address.js';
import { exchangeOf } from '../proxy/exchange.js';
import { finish, type FinishHook } from '../proxy/respond.js';

/** RefusalSink is told of each refusal written (the Observer's refusedByParser). */
export type RefusalSink = (method: string, path: string, status: number, id: string, ip: string, code: ErrorCode) => void;

const kRefused = Symbol('switchyard.refused');
type ClientSocket = Socket & { _httpMessage?: ServerResponse | null; [kRefused]?: true };

/** METHODS are the method names a refusal is counted under; anything else counts as "-" (metric labels stay bounded). */
const METHODS = new Set(http.METHODS);

/**
 * createClientErrorHandler returns the listener for the public server's
 * 'clientError' event: it answers malformed requests and closes. Node may
 * report the same broken connection more than once; it is answered once.
 * When pipelined requests ahead of the broken one are still being answered,
 * the refusal waits for them, so a client never takes our 400 for the answer
 * to an earlier request.
 */
export function createClientErrorHandler(maxUrlLength: number, sink: RefusalSink, onFinish: FinishHook): (err: Error & { code?: string; rawPacket?: Buffer }, socket: Socket) => void {
  return (err, socket) => {
    const s = socket as ClientSocket;
    if (s[kRefused]) return;
    s[kRefused] = true;
    const reason = err.code ?? '';
    // A socket error (the client reset the connection) is no request to answer: the request in progress, if any, logs its own 499.
    if (!reason.startsWith('HPE_') && reason !== 'ERR_HTTP_REQUEST_TIMEOUT') {
      socket.destroy();
      return;
    }
    const code: ErrorCode =
      reason === 'HPE_HEADER_OVERFLOW'
        ? requestLineTooLong(err.rawPacket, maxUrlLength)
          ? 'SY_ERR_URL_TOO_LONG'
          : 'SY_ERR_HEADERS_TOO_LARGE'
        : reason === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? 'SY_ERR_REQUEST_TIMEOUT'
          : 'SY_ERR_BAD_REQUEST';
    refuseWhenIdle(s, code, reason === 'HPE_INVALID_EOF_STATE', err.rawPacket, sink, onFinish);
  };
}

/**
 * requestLineTooLong tells whether a header overflow is a request line longer
 * than the URL limit (414, like nginx) rather than too many header bytes
 * (431): the packet that overflowed starts a request line that has not ended.
 */
function requestLineTooLong(packet: Buffer | undefined, maxUrlLength: number): boolean {
  if (packet === undefined || !/^[A-Z]{3,10} [^ ]/.test(packet.toString('latin1', 0, 16))) return false;
  const eol = packet.indexOf('\r\n');
  return eol === -1 || eol > maxUrlLength;
}

/** REQUEST_LINE reads method and target from the start of a packet (the log line's method and path, when the packet starts a request). */
const REQUEST_LINE = /^([A-Z]{3,10}) ([\x21-\x7e]{1,256})/;

/** requestLineOf returns the method and target the refused packet starts with, or "-" for each. */
function requestLineOf(packet: Buffer | undefined): { method: string; path: string } {
  const m = packet === undefined ? null : REQUEST_LINE.exec(packet.toString('latin1', 0, 268));
  if (m === null) return { method: '-', path: '-' };
  return { method: METHODS.has(m[1]!) ? m[1]! : '-', path: m[2]! };
}

/**
 * refuseWhenIdle writes the refusal once no earlier response is in progress
 * on the socket, then closes. `truncated` is a client that ended its side in
 * the middle of a request: it may still read the 400, but a request already
 * under way is a client that left (its exchange logs the 499).
 */
function refuseWhenIdle(socket: ClientSocket, code: ErrorCode, truncated: boolean, packet: Buffer | undefined, sink: RefusalSink, onFinish: FinishHook): void {
  const pending = socket._httpMessage;
  // Wait only for a response to a request that was received whole; a request
  // whose own body broke the framing is abandoned with the connection.
  if (pending && pending.req?.complete && !pending.writableFinished && !pending.destroyed) {
    let done = false;
    const next = () => {
      if (done) return;
      done = true;
      // node assigns the socket to the next pipelined response before our listener runs.
      refuseWhenIdle(socket, code, truncated, packet, sink, onFinish);
    };
    pending.once('finish', next);
    pending.once('close', next);
    return;
  }
  // Nothing to answer (a reset, or a response already under way): the request, if any, has its own line.
  if (!socket.writable || socket._httpMessage?.headersSent) {
    socket.destroy();
    return;
  }
  const status = ERRORS[code].status;
  // A request whose headers were accepted and whose body broke the framing (a bad chunk) already has an exchange: the refusal is its answer.
  const ex = pending ? exchangeOf(pending) : undefined;
  const owner = ex !== undefined && !ex.finished ? ex : undefined;
  const id = owner?.id ?? randomUUID();
  const body = errorBody(code, id);
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\nx-request-id: ${id}\r\nconnection: close\r\n\r\n${body}`,
  );
  // end() lets the client read the refusal before the close (an abrupt close
  // with unread input would reset it away); a client that never closes its
  // side must not hold the socket, though.
  socket.setTimeout(5000, () => socket.destroy());
  if (owner !== undefined) {
    if (truncated) return;
    owner.status = status;
    owner.code = code;
    owner.responded = true;
    owner.sent = Buffer.byteLength(body);
    // Finished now: the upstream attempt (if any) is cancelled, and the client's close that follows adds no second line.
    finish(owner, onFinish);
    return;
  }
  const { method, path } = requestLineOf(packet);
  sink(method, path, status, id, peerAddress(socket), code);
}
