/**
 * The one clock of the gateway: health checkers, outlier detection, retry
 * budgets and plugins all tell the time through this interface, so a test
 * controls time in every part at once by passing its own Clock.
 */

/** Clock tells the time in epoch milliseconds; injected so tests can control it. */
export interface Clock {
  now(): number;
}

/** systemClock is the default Clock (Date.now, read at call time so fake timers apply). */
export const systemClock: Clock = { now: () => Date.now() };
