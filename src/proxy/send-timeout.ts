/**
 * The send timeout (`limits.sendTimeout`, nginx's `send_timeout`): how long
 * the gateway waits for a client to take more of a response once its socket
 * buffer is full. Back-pressure pauses the upstream read while the client is
 * not reading, so a client that stops reading would otherwise hold its
 * connection and an upstream connection for ever (undici's idle timeout does
 * not run while the read is paused). Past the timeout the client connection
 * is cut, which releases the upstream one.
 *
 * Nothing is spent on responses that never stall: the timer is created at
 * the first stall and re-armed at later ones.
 */
import type { Exchange } from './exchange.js';

/** SEND_TIMEOUT is the logged cause of a connection cut by the send timeout. */
const SEND_TIMEOUT = 'send timeout: the client stopped reading';

/**
 * clientSendTimer is the send timer of an exchange's client connection (a
 * response or a spliced WebSocket): past the timeout it records the cause,
 * tells `hooks`, and destroys `conn`.
 */
export function clientSendTimer(ex: Exchange, hooks: { onSendTimeout?(ex: Exchange): void }, conn: { destroy(): void }): SendTimer {
  return new SendTimer(ex.route.sendTimeoutMs, () => {
    ex.error ??= new Error(SEND_TIMEOUT);
    hooks.onSendTimeout?.(ex);
    conn.destroy();
  });
}

/** SendTimer watches one response's stalls. */
export class SendTimer {
  private timer: NodeJS.Timeout | undefined = undefined;
  private waiting = false;

  constructor(
    private readonly ms: number,
    private readonly onTimeout: () => void,
  ) {}

  /** stalled is called when a write to the client returned false; drained() when its 'drain' came. */
  stalled(): void {
    if (this.ms <= 0) return;
    this.waiting = true;
    if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        if (this.waiting) this.onTimeout();
      }, this.ms);
      this.timer.unref();
    } else this.timer.refresh();
  }

  /** drained ends the current stall. */
  drained(): void {
    this.waiting = false;
  }

  /** stop forgets the timer (the response is done or abandoned). */
  stop(): void {
    this.waiting = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * stopWhenFlushed keeps watching a response that was ended while stalled
   * until its last bytes are taken ('finish') or it is gone ('close'):
   * after end(), a stream emits no 'drain'.
   */
  stopWhenFlushed(out: NodeJS.EventEmitter): void {
    if (!this.waiting) return this.stop();
    const stop = () => this.stop();
    out.once('finish', stop);
    out.once('close', stop);
  }
}
