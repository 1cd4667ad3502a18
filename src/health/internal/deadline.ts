/**
 * Deadlines for probes: one AbortSignal that fires when the caller aborts or
 * when the probe's own timeout passes, whichever comes first. Not exported
 * from the health barrel.
 */

/**
 * ProbeTimeoutError is the abort reason of a probe that ran out of time
 * (matched with instanceof; its name is the DOM's TimeoutError, which is
 * what an aborted fetch or socket reports it as).
 */
export class ProbeTimeoutError extends Error {
  override readonly name = 'TimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`timeout after ${timeoutMs}ms`);
  }
}

/** Deadline is a linked signal plus dispose(), which must be called when the probe ends. */
export interface Deadline {
  readonly signal: AbortSignal;
  dispose(): void;
}

/**
 * withDeadline links `parent` and a `timeoutMs` timer into one signal. It is
 * hand-rolled rather than AbortSignal.any so that the listener on a
 * long-lived parent is removed as soon as the probe ends.
 */
export function withDeadline(parent: AbortSignal, timeoutMs: number): Deadline {
  const ctl = new AbortController();
  const onParentAbort = (): void => ctl.abort(parent.reason);
  const timer = setTimeout(() => ctl.abort(new ProbeTimeoutError(timeoutMs)), timeoutMs);
  timer.unref();
  if (parent.aborted) ctl.abort(parent.reason);
  else parent.addEventListener('abort', onParentAbort, { once: true });
  return {
    signal: ctl.signal,
    dispose() {
      clearTimeout(timer);
      parent.removeEventListener('abort', onParentAbort);
    },
  };
}

/** abortReason names why `signal` aborted: `timeout after Nms` for deadlines, else `aborted`. */
export function abortReason(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  return r instanceof ProbeTimeoutError ? r.message : 'aborted';
}
