/**
 * Joining a client connection to its upstream connection: bytes flow both ways
 * through stream.pipe(), which pauses the reading side while the writing side's
 * buffer is full, so a slow reader on either end never makes the gateway buffer
 * more than a socket's high-water mark. Each direction ends on its own
 * (allowHalfOpen: a client's FIN reaches the upstream, whose answer still comes
 * back). A reset on either side tears down both; so do the idle timeout and cut().
 */
import type { Socket } from 'node:net';

/** SpliceEnd says how a stream ended: both sides closed cleanly, one reset, it sat idle, or the gateway cut it. */
export type SpliceEnd = 'closed' | 'client-reset' | 'upstream-reset' | 'idle-timeout' | 'drained' | 'shutdown' | 'refused';

/** Splice is a running stream between two sockets. */
export interface Splice {
  /** done resolves once both sockets have closed, with how it ended and the bytes each way. */
  readonly done: Promise<{ end: SpliceEnd; bytesIn: number; bytesOut: number }>;
  /** cut ends the stream now (drain timeout or shutdown). */
  cut(reason: 'drained' | 'shutdown'): void;
}

/**
 * splice pipes `client` ⇄ `upstream`. Both must have been created with
 * allowHalfOpen. `first` holds client bytes already read (a ClientHello) and is
 * written to the upstream before the pipe takes over. `idleTimeoutMs` (0 = none)
 * counts inactivity on the client socket, which reads one direction and writes the other.
 * `guardFirst` (optional) judges the client's first chunk before it is sent
 * on: false cuts the stream (`refused`).
 */
export function splice(client: Socket, upstream: Socket, first: Buffer | undefined, idleTimeoutMs: number, guardFirst?: (chunk: Buffer) => boolean): Splice {
  let end: SpliceEnd | undefined;
  const finish = (why: SpliceEnd) => {
    end ??= why;
    client.destroy();
    upstream.destroy();
  };
  client.on('error', () => finish('client-reset'));
  upstream.on('error', () => finish('upstream-reset'));
  if (idleTimeoutMs > 0) {
    client.setTimeout(idleTimeoutMs);
    client.on('timeout', () => finish('idle-timeout'));
  }
  if (first !== undefined && first.length > 0) upstream.write(first);
  upstream.pipe(client);
  if (guardFirst === undefined) client.pipe(upstream);
  else {
    // The upstream may speak first (MySQL, SMTP): its direction runs at once; the client's waits for the guard's verdict on its first chunk.
    const onEnd = () => upstream.end();
    client.once('end', onEnd);
    client.once('data', (chunk: Buffer) => {
      client.pause();
      client.off('end', onEnd);
      if (!guardFirst(chunk)) return finish('refused');
      upstream.write(chunk);
      client.pipe(upstream);
    });
    client.resume(); // accepted paused (pauseOnConnect): a 'data' listener alone does not start the flow
  }
  const closed = (s: Socket) => new Promise<void>((resolve) => (s.closed ? resolve() : s.once('close', () => resolve())));
  // A side that closes with its other direction still open was aborted, not half-closed: tear down the other.
  client.once('close', () => {
    if (!upstream.writableFinished && !upstream.destroyed && !client.readableEnded) finish('client-reset');
  });
  upstream.once('close', () => {
    if (!client.writableFinished && !client.destroyed && !upstream.readableEnded) finish('upstream-reset');
  });
  const done = Promise.all([closed(client), closed(upstream)]).then(() => ({
    end: end ?? 'closed',
    bytesIn: client.bytesRead,
    bytesOut: client.bytesWritten,
  }));
  return { done, cut: (reason) => finish(reason) };
}
