/**
 * Accepting a listener's connections without net.Server's per-connection
 * options object. net.Server builds each accepted socket as
 * `new Socket({ handle, allowHalfOpen, pauseOnCreate, readable, writable, … })`,
 * and on Node 20 a Socket built from a plain options object leaves ~0.5–0.8 KB
 * that young-generation collections cannot free (its constructor spreads the
 * options and adds properties to the copy); built from a frozen object it
 * leaves nothing (bench/README.md, journal "Issue 18 (2026-12-07)";
 * test/streams/young-garbage.test.ts). Under steady connection churn that
 * share alone kept filling the old generation. So a listening server's
 * handle gets its own `onconnection`: the same socket as net's (the server's
 * allowHalfOpen, pauseOnConnect, noDelay and highWaterMark), built from a
 * frozen options object, counted on the server and announced with
 * 'connection' (and on net's diagnostics channel) as net does. An accept
 * error and a connection over the server's maxConnections stay with net's
 * function (it emits 'error' or 'drop'); a server with TCP keep-alive on, or
 * whose internals do not look as expected, keeps net's accept.
 */
import { channel } from 'node:diagnostics_channel';
import { Socket, type Server } from 'node:net';

/** net publishes each accepted socket here (APM tools subscribe); so does this accept. */
const serverSocketChannel = channel('net.server.socket');

/** What this file needs of net's server internals: the listening handle, the connection count and the socket settings. */
interface ServerInternals {
  allowHalfOpen?: boolean;
  pauseOnConnect?: boolean;
  noDelay?: boolean;
  _handle?: { onconnection?: unknown } | null;
  _connections?: unknown;
  maxConnections?: number;
  keepAlive?: boolean;
  highWaterMark?: number;
}

type OnConnection = (this: unknown, err: number, clientHandle: unknown) => void;

/**
 * acceptFrozen takes over accepting on a listening server (call it once
 * 'listening' was emitted). Returns false, changing nothing, when the server
 * does not have the internals it relies on.
 */
export function acceptFrozen(server: Server): boolean {
  const internals = server as unknown as ServerInternals;
  const handle = internals._handle;
  const netOnConnection = handle?.onconnection;
  // A server with TCP keep-alive on is left to net (its accept sets it per socket through internals).
  if (handle === null || handle === undefined || typeof netOnConnection !== 'function' || typeof internals._connections !== 'number' || internals.keepAlive === true) return false;
  const hwm = internals.highWaterMark;
  const fallback = netOnConnection as OnConnection;
  handle.onconnection = function onconnection(this: unknown, err: number, clientHandle: unknown): void {
    // Errors and a connection over the server's cap are net's business (it emits 'error' or 'drop'), as is the cap's check.
    const cap = internals.maxConnections ?? 0;
    if (err || clientHandle === undefined || (cap > 0 && (internals._connections as number) >= cap)) {
      fallback.call(this, err, clientHandle);
      return;
    }
    const frozen = Object.freeze({ handle: clientHandle, allowHalfOpen: internals.allowHalfOpen, pauseOnCreate: internals.pauseOnConnect, readable: true, writable: true, readableHighWaterMark: hwm, writableHighWaterMark: hwm });
    const socket = new Socket(frozen as ConstructorParameters<typeof Socket>[0]);
    if (internals.noDelay === true) socket.setNoDelay(true);
    // As net's own: the server counts the socket (close() waits for it; the socket's destroy counts it off through _server).
    (internals as { _connections: number })._connections++;
    const owned = socket as unknown as { server: Server; _server: Server };
    owned.server = server;
    owned._server = server;
    server.emit('connection', socket);
    if (serverSocketChannel.hasSubscribers) serverSocketChannel.publish({ socket });
  };
  return true;
}
