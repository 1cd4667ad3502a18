/**
 * Joining a client connection to its upstream connection. Each direction is
 * a Relay (relay.ts): reads land in a buffer the direction reuses and are
 * written on at once; reading stops while a write has not reached the kernel
 * whole, so a slow reader on either end never makes the gateway hold more
 * than one buffer per direction. The client socket, accepted by net.Server
 * (which cannot take `onread`), is adopted (relay.ts: given the relay's buffer
 * in place, or its handle moved into a socket made with `onread`); when that
 * is not possible its direction falls back to stream.pipe(), which pauses the
 * same way. Each direction ends on its own (allowHalfOpen: a client's FIN
 * reaches the upstream, whose answer still comes back). A reset on either side
 * tears down both; so do the idle timeout and cut().
 */
import type { Socket } from 'node:net';
import type { IdleSweep } from './idle-sweep.js';
import { adopt, ADOPTION, Relay, type Adoption } from './relay.js';

/** SpliceEnd says how a stream ended: both sides closed cleanly, one reset, it sat idle, or the gateway cut it. */
export type SpliceEnd = 'closed' | 'client-reset' | 'upstream-reset' | 'idle-timeout' | 'drained' | 'shutdown' | 'refused';

/** Splice is a running stream between two sockets. */
export interface Splice {
  /** done resolves once both sockets have closed, with how it ended and the bytes each way. */
  readonly done: Promise<{ end: SpliceEnd; bytesIn: number; bytesOut: number }>;
  /** cut ends the stream now (drain timeout or shutdown). */
  cut(reason: 'drained' | 'shutdown'): void;
  /** adopted tells whether the client's direction reads into a reused buffer (else it is piped). */
  readonly adopted: boolean;
  /** adoption is how it was adopted (undefined: piped). */
  readonly adoption: Adoption | undefined;
}

/** SpliceOptions are splice's optional parts. */
export interface SpliceOptions {
  /** guardFirst judges the client's first chunk before it is sent on: false cuts the stream (`refused`). */
  readonly guardFirst?: ((chunk: Buffer) => boolean) | undefined;
  /** sweep counts the idle timeout (one timer per listener); without it the client socket's own setTimeout does. */
  readonly sweep?: IdleSweep | undefined;
  /** how picks the adoption (tests run both; the default is what this Node supports). */
  readonly how?: Adoption | undefined;
}

/**
 * splice joins `accepted` (a paused server socket) ⇄ `upstream` (paused,
 * reading into `upstreamRelay`). Both must have been created with
 * allowHalfOpen. `first` holds client bytes already read (a ClientHello) and is
 * written to the upstream before anything else. `idleTimeoutMs` (0 = none)
 * counts inactivity on the client socket, which reads one direction and writes the other.
 */
export function splice(accepted: Socket, upstream: Socket, upstreamRelay: Relay, first: Buffer | undefined, idleTimeoutMs: number, options: SpliceOptions = {}): Splice {
  const { guardFirst, sweep, how = ADOPTION } = options;
  const clientRelay = new Relay();
  const adopted = adopt(accepted, clientRelay, how);
  const client = adopted?.socket ?? accepted;
  let end: SpliceEnd | undefined;
  const finish = (why: SpliceEnd) => {
    end ??= why;
    client.destroy();
    upstream.destroy();
  };
  client.on('error', () => finish('client-reset'));
  upstream.on('error', () => finish('upstream-reset'));
  let unwatch: (() => void) | undefined;
  if (idleTimeoutMs > 0 && sweep !== undefined) unwatch = sweep.watch(client, idleTimeoutMs, () => finish('idle-timeout'));
  else if (idleTimeoutMs > 0) {
    client.setTimeout(idleTimeoutMs);
    client.on('timeout', () => finish('idle-timeout'));
  }
  if (first !== undefined && first.length > 0) upstream.write(first);
  // The upstream may speak first (MySQL, SMTP): its direction runs at once.
  upstreamRelay.start(upstream, client);
  let guard = guardFirst;
  const leftover = adopted?.leftover;
  if (leftover !== undefined && leftover.length > 0) {
    if (guard !== undefined && !guard(leftover)) finish('refused');
    else upstream.write(leftover);
    guard = undefined;
  }
  if (end !== undefined) {
    // refused on the leftover: nothing more is read
  } else if (adopted !== undefined) clientRelay.start(client, upstream, guard, () => finish('refused'));
  else if (guard === undefined) {
    client.pipe(upstream);
    client.resume();
  } else {
    // The client's direction waits for the guard's verdict on its first chunk.
    const onEnd = () => upstream.end();
    client.once('end', onEnd);
    client.once('data', (chunk: Buffer) => {
      client.pause();
      client.off('end', onEnd);
      if (!guard(chunk)) return finish('refused');
      upstream.write(chunk);
      client.pipe(upstream);
    });
    client.resume(); // accepted paused (pauseOnConnect): a 'data' listener alone does not start the flow
  }
  // One promise for both closes (not one per socket and a Promise.all): this runs once per connection.
  let open = 2;
  let settle: (r: { end: SpliceEnd; bytesIn: number; bytesOut: number }) => void = () => {};
  const done = new Promise<{ end: SpliceEnd; bytesIn: number; bytesOut: number }>((resolve) => (settle = resolve));
  const closedOne = () => {
    if (--open === 0) settle({ end: end ?? 'closed', bytesIn: client.bytesRead, bytesOut: client.bytesWritten });
  };
  // A side that closes with its other direction still open was aborted, not half-closed: tear down the other.
  const onClientClose = () => {
    unwatch?.(); // as socket.setTimeout's timer ends with its socket
    if (!upstream.writableFinished && !upstream.destroyed && !client.readableEnded) finish('client-reset');
    closedOne();
  };
  const onUpstreamClose = () => {
    if (!client.writableFinished && !client.destroyed && !upstream.readableEnded) finish('upstream-reset');
    closedOne();
  };
  if (client.closed) onClientClose();
  else client.once('close', onClientClose);
  if (upstream.closed) onUpstreamClose();
  else upstream.once('close', onUpstreamClose);
  return { done, cut: (reason) => finish(reason), adopted: adopted !== undefined, adoption: adopted?.how };
}
