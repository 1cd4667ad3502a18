/**
 * The refresh loop of the providers that ask (Eureka, DNS): ask, then wait
 * for the delay the answer chose, then ask again. The next refresh is
 * scheduled when this one ENDS, so a slow source is never asked twice at
 * once; stop() clears the timer and aborts the refresh in flight, so nothing
 * of a stopped provider runs or holds a socket afterwards.
 */

/** Refresh asks the source once and resolves with the delay before the next ask (ms); it must honour `signal`. */
export type Refresh = (signal: AbortSignal) => Promise<number>;

/** MAX_TIMER_MS is the largest delay setTimeout honours (longer ones fire at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Poller runs one provider's refresh loop. */
export class Poller {
  private timer: NodeJS.Timeout | undefined;
  private controller: AbortController | undefined;
  private running = false;

  constructor(
    private readonly refresh: Refresh,
    /** onCrash handles a refresh that threw instead of resolving (a bug): the loop goes on after `retryMs`. */
    private readonly onCrash: (err: unknown) => void,
    private readonly retryMs: number,
  ) {}

  /** start asks at once, then keeps asking; idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    void this.run();
  }

  /** stop clears the timer and aborts the refresh in flight; idempotent. */
  stop(): void {
    this.running = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.controller?.abort(new Error('discovery stopped'));
    this.controller = undefined;
  }

  /** inFlight tells whether a refresh is running now (tests wait for quiet). */
  get inFlight(): boolean {
    return this.controller !== undefined;
  }

  private async run(): Promise<void> {
    this.timer = undefined;
    const controller = new AbortController();
    this.controller = controller;
    let delay: number;
    try {
      delay = await this.refresh(controller.signal);
    } catch (err) {
      if (controller.signal.aborted) return;
      this.onCrash(err);
      delay = this.retryMs;
    }
    // A refresh that was stopped (or replaced by a stop and a start) must not schedule anything.
    if (this.controller !== controller || !this.running) return;
    this.controller = undefined;
    this.timer = setTimeout(() => void this.run(), Math.min(Math.max(delay, 1), MAX_TIMER_MS));
    // Discovery never keeps the process alive on its own: the listeners do.
    this.timer.unref();
  }
}
