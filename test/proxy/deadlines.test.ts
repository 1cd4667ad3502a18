/**
 * The deadline sweep behind upstream response and idle timeouts: arming,
 * moving and disarming entries of the intrusive list, expiring exactly the
 * due ones once, surviving entries that disarm or arm others while expiring,
 * and stopping its interval when nothing is armed.
 */
import { describe, expect, it } from 'vitest';
import { Deadlines, TICK_MS, type Timed } from '../../src/proxy/deadlines.js';

function entry(name: string, log: string[], onExpire?: () => void): Timed & { name: string } {
  return {
    name,
    deadline: 0,
    timedArmed: false,
    timedPrev: null,
    timedNext: null,
    expire() {
      log.push(name);
      onExpire?.();
    },
  };
}

describe('Deadlines', () => {
  it('expires only what is due, each once, and keeps the rest', () => {
    const d = new Deadlines();
    const log: string[] = [];
    const [a, b, c] = [entry('a', log), entry('b', log), entry('c', log)];
    d.arm(a, 100);
    d.arm(b, 1000);
    d.arm(c, 50);
    const t = performance.now();
    d.sweep(t + 60);
    expect(log).toEqual(['c']);
    expect([a.timedArmed, b.timedArmed, c.timedArmed]).toEqual([true, true, false]);
    d.sweep(t + 60);
    expect(log).toEqual(['c']);
    d.sweep(t + 2000);
    expect(log.sort()).toEqual(['a', 'b', 'c']);
    d.sweep(t + 5000);
    expect(log).toHaveLength(3);
  });

  it('moves a deadline when armed again (an idle timeout refreshed by a body chunk), without a second list entry', () => {
    const d = new Deadlines();
    const log: string[] = [];
    const a = entry('a', log);
    d.arm(a, 10);
    d.arm(a, 10_000);
    d.sweep(performance.now() + 100);
    expect(log).toEqual([]);
    d.disarm(a);
    d.disarm(a); // twice is harmless
    d.sweep(performance.now() + 100_000);
    expect(log).toEqual([]);
  });

  it('unlinks from the head, the middle and the tail', () => {
    const d = new Deadlines();
    const log: string[] = [];
    const es = ['a', 'b', 'c', 'd', 'e'].map((n) => entry(n, log));
    for (const e of es) d.arm(e, 10);
    d.disarm(es[4]!); // head (armed last)
    d.disarm(es[2]!); // middle
    d.disarm(es[0]!); // tail
    d.sweep(performance.now() + 100);
    expect(log.sort()).toEqual(['b', 'd']);
  });

  it('lets an expiring entry disarm itself and arm a new one (a retry) without losing the others', () => {
    const d = new Deadlines();
    const log: string[] = [];
    const retry = entry('retry', log);
    const a = entry('a', log, () => d.arm(retry, 5));
    const b = entry('b', log, () => d.disarm(b));
    d.arm(b, 1);
    d.arm(a, 1);
    const t = performance.now();
    d.sweep(t + 10);
    expect(log.sort()).toEqual(['a', 'b']);
    expect(retry.timedArmed).toBe(true);
    d.sweep(t + 1000);
    expect(log).toContain('retry');
  });

  it('runs its interval only while something is armed, and fires within one tick of the deadline', async () => {
    const d = new Deadlines();
    const log: string[] = [];
    const a = entry('a', log);
    const armedAt = performance.now();
    d.arm(a, 50);
    expect((d as unknown as { timer?: NodeJS.Timeout }).timer).toBeDefined();
    await new Promise<void>((resolve) => {
      a.expire = () => {
        log.push('a');
        resolve();
      };
    });
    const late = performance.now() - armedAt - 50;
    expect(late).toBeGreaterThanOrEqual(-1);
    expect(late).toBeLessThan(TICK_MS * 3); // one tick, with room for a busy test machine
    d.sweep();
    expect((d as unknown as { timer?: NodeJS.Timeout }).timer).toBeUndefined();
  });
});
