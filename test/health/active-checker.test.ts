/**
 * ActiveChecker with a fake probe and fake timers: thresholds, reporting,
 * scheduling (no pile-up, jitter), stop and reloads.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ActiveChecker, type ActiveCheckerOptions } from '../../src/health/active-checker.js';
import type { HealthCheckResult, HealthSubject, Probe } from '../../src/health/types.js';
import { captureLog } from '../helpers/log-capture.js';
import { recordingListener, subjectFor } from './helpers.js';

const INTERVAL = 1000;
const A = subjectFor('http://10.0.0.1:8080');
const B = subjectFor('http://10.0.0.2:8080');

/** truthProbe answers at once from `up` (default true) and records each call's time. */
function truthProbe() {
  const up = new Map<string, boolean>();
  const calls: Array<{ id: string; at: number }> = [];
  const probe: Probe = async (subject) => {
    calls.push({ id: subject.id, at: Date.now() });
    const ok = up.get(subject.id) ?? true;
    return { ok, reason: ok ? 'ok' : 'status 503', ...(ok ? { status: 200 } : { status: 503 }), durationMs: 3, at: Date.now() };
  };
  return { probe, up, calls };
}

/** manualProbe returns a promise per call that the test settles. */
function manualProbe() {
  const calls: Array<{ subject: HealthSubject; signal: AbortSignal; settle(ok: boolean): void }> = [];
  const probe: Probe = (subject, signal) =>
    new Promise<HealthCheckResult>((resolve) => {
      calls.push({ subject, signal, settle: (ok) => resolve({ ok, reason: ok ? 'ok' : 'failed', durationMs: 1, at: Date.now() }) });
    });
  return { probe, calls };
}

function makeChecker(over: Partial<ActiveCheckerOptions> & Pick<ActiveCheckerOptions, 'probe'>) {
  const listener = recordingListener();
  const { logger, lines } = captureLog('debug');
  const checker = new ActiveChecker({
    subjects: [A],
    intervalMs: INTERVAL,
    timeoutMs: 500,
    jitter: 0,
    unhealthyThreshold: 3,
    healthyThreshold: 2,
    startUnhealthy: false,
    listener,
    logger,
    random: () => 0, // first check at once, no jitter, unless a test says otherwise
    ...over,
  });
  return { checker, listener, lines };
}

const tick = (ms = INTERVAL) => vi.advanceTimersByTimeAsync(ms);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ActiveChecker thresholds', () => {
  it.each([
    { unhealthyThreshold: 1, healthyThreshold: 1 },
    { unhealthyThreshold: 3, healthyThreshold: 2 },
    { unhealthyThreshold: 2, healthyThreshold: 5 },
  ])('leaves after exactly $unhealthyThreshold failures and comes back after exactly $healthyThreshold successes', async ({ unhealthyThreshold, healthyThreshold }) => {
    const { probe, up } = truthProbe();
    const { checker, listener } = makeChecker({ probe, unhealthyThreshold, healthyThreshold });
    checker.start();
    await tick(0); // first check: healthy
    expect(checker.state(A.id)).toMatchObject({ healthy: true, consecutiveSuccesses: 1 });

    up.set(A.id, false);
    for (let i = 1; i < unhealthyThreshold; i++) {
      await tick();
      expect(checker.state(A.id)).toMatchObject({ healthy: true, consecutiveFailures: i });
    }
    await tick();
    expect(checker.state(A.id)).toMatchObject({ healthy: false, consecutiveFailures: unhealthyThreshold });

    up.set(A.id, true);
    for (let i = 1; i < healthyThreshold; i++) {
      await tick();
      expect(checker.state(A.id)).toMatchObject({ healthy: false, consecutiveSuccesses: i });
    }
    await tick();
    expect(checker.state(A.id)).toMatchObject({ healthy: true, consecutiveSuccesses: healthyThreshold, consecutiveFailures: 0 });

    expect(listener.events).toEqual([
      { kind: 'active', id: A.id, healthy: false, detail: { reason: 'status 503', status: 503, durationMs: 3, consecutiveFailures: unhealthyThreshold, consecutiveSuccesses: 0 } },
      { kind: 'active', id: A.id, healthy: true, detail: { reason: 'ok', status: 200, durationMs: 3, consecutiveFailures: 0, consecutiveSuccesses: healthyThreshold } },
    ]);
    checker.stop();
  });

  it('a success in the middle of a failure streak resets it', async () => {
    const { probe, up } = truthProbe();
    const { checker, listener } = makeChecker({ probe, unhealthyThreshold: 3 });
    checker.start();
    await tick(0);
    for (const ok of [false, false, true, false, false]) {
      up.set(A.id, ok);
      await tick();
    }
    expect(checker.state(A.id)).toMatchObject({ healthy: true, consecutiveFailures: 2 });
    expect(listener.events).toEqual([]);
    checker.stop();
  });

  it('reports and logs each transition once, however long the state lasts', async () => {
    const { probe, up } = truthProbe();
    const { checker, listener, lines } = makeChecker({ probe, unhealthyThreshold: 2, healthyThreshold: 2 });
    checker.start();
    await tick(0);
    up.set(A.id, false);
    await tick(10 * INTERVAL);
    up.set(A.id, true);
    await tick(10 * INTERVAL);
    expect(listener.events.map((e) => e.kind === 'active' && e.healthy)).toEqual([false, true]);
    const transitions = lines.filter((l) => l.msg.startsWith('health check: target'));
    expect(transitions).toHaveLength(2);
    expect(transitions[0]).toMatchObject({ level: 40, target: A.id, reason: 'status 503', consecutiveFailures: 2, consecutiveSuccesses: 0 });
    expect(transitions[1]).toMatchObject({ level: 30, target: A.id, reason: 'ok', consecutiveFailures: 0, consecutiveSuccesses: 2 });
    checker.stop();
  });

  it('a probe that rejects counts as a failure with a short reason', async () => {
    const probe: Probe = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:8080'), { code: 'ECONNREFUSED', syscall: 'connect' }));
    const { checker } = makeChecker({ probe, unhealthyThreshold: 1 });
    checker.start();
    await tick(0);
    expect(checker.state(A.id)).toMatchObject({ healthy: false, lastResult: { ok: false, reason: 'connect ECONNREFUSED' } });
    checker.stop();
  });

  it('a listener that throws is logged and the loop goes on', async () => {
    const { probe, up, calls } = truthProbe();
    const { checker, lines } = makeChecker({
      probe,
      unhealthyThreshold: 1,
      listener: { onActiveHealth: () => { throw new Error('boom'); }, onEjected: () => undefined, onReadmitted: () => undefined },
    });
    up.set(A.id, false);
    checker.start();
    await tick(0);
    await tick();
    expect(lines.some((l) => l.msg === 'health listener failed')).toBe(true);
    expect(calls).toHaveLength(2);
    checker.stop();
  });
});

describe('ActiveChecker startUnhealthy', () => {
  it.each([
    { startUnhealthy: false, healthyBeforeAnyCheck: true },
    { startUnhealthy: true, healthyBeforeAnyCheck: false },
  ])('startUnhealthy=$startUnhealthy: a never-checked target is healthy=$healthyBeforeAnyCheck', ({ startUnhealthy, healthyBeforeAnyCheck }) => {
    const { checker } = makeChecker({ probe: truthProbe().probe, startUnhealthy });
    expect(checker.state(A.id)).toEqual({ healthy: healthyBeforeAnyCheck, consecutiveFailures: 0, consecutiveSuccesses: 0 });
  });

  it('a startUnhealthy target is admitted by its first success (as in Envoy), reported once', async () => {
    const { probe } = truthProbe();
    const { checker, listener } = makeChecker({ probe, startUnhealthy: true, healthyThreshold: 3 });
    checker.start();
    await tick(0);
    expect(checker.state(A.id)?.healthy).toBe(true);
    expect(listener.events).toEqual([{ kind: 'active', id: A.id, healthy: true, detail: expect.objectContaining({ consecutiveSuccesses: 1 }) }]);
    checker.stop();
  });

  it('a startUnhealthy target whose first check failed needs healthyThreshold successes', async () => {
    const { probe, up } = truthProbe();
    const { checker, listener } = makeChecker({ probe, startUnhealthy: true, healthyThreshold: 3 });
    up.set(A.id, false);
    checker.start();
    await tick(0);
    expect(listener.events).toEqual([]); // already unhealthy: no transition
    up.set(A.id, true);
    await tick();
    await tick();
    expect(checker.state(A.id)?.healthy).toBe(false);
    await tick();
    expect(checker.state(A.id)?.healthy).toBe(true);
    expect(listener.events).toHaveLength(1);
    checker.stop();
  });
});

describe('ActiveChecker scheduling', () => {
  it('never piles up: a pending probe is not restarted, and the next is scheduled one interval after it ends', async () => {
    const { probe, calls } = manualProbe();
    const { checker } = makeChecker({ probe, timeoutMs: 500 });
    checker.start();
    await tick(0);
    expect(calls).toHaveLength(1);
    await tick(10 * INTERVAL);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.signal.aborted).toBe(true); // the deadline aborted it; the probe ignored that
    calls[0]!.settle(false);
    await tick(INTERVAL - 1);
    expect(calls).toHaveLength(1);
    await tick(1);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.signal.aborted).toBe(false);
    checker.stop();
  });

  it.each([
    { random: 0, firstAt: 0 },
    { random: 0.25, firstAt: 250 },
    { random: 0.9, firstAt: 900 },
  ])('the first check comes after random × interval (random=$random → $firstAt ms)', async ({ random, firstAt }) => {
    const { probe, calls } = truthProbe();
    const { checker } = makeChecker({ probe, random: () => random });
    const t0 = Date.now();
    checker.start();
    await tick(INTERVAL - 1);
    expect(calls[0]!.at - t0).toBe(firstAt);
    checker.stop();
  });

  it.each([
    { jitter: 0, random: 0.7, gap: 1000 },
    { jitter: 0.1, random: 0, gap: 1000 },
    { jitter: 0.1, random: 0.5, gap: 1050 },
    { jitter: 0.5, random: 0.5, gap: 1250 },
    { jitter: 1, random: 0.99, gap: 1990 },
  ])('the pause after a check is interval × (1 + random × jitter) (jitter=$jitter, random=$random → $gap ms)', async ({ jitter, random, gap }) => {
    const { probe, calls } = truthProbe();
    const { checker } = makeChecker({ probe, jitter, random: () => random });
    checker.start();
    await tick(Math.ceil(random * INTERVAL)); // the first check (see the test above)
    expect(calls).toHaveLength(1);
    const firstAt = calls[0]!.at;
    await vi.advanceTimersByTimeAsync(firstAt + gap - 1 - Date.now());
    expect(calls).toHaveLength(1);
    await tick(2);
    expect(calls).toHaveLength(2);
    checker.stop();
  });

  it('with Math.random, every pause stays within [interval, interval × (1 + jitter)]', async () => {
    const { probe, calls } = truthProbe();
    const jitter = 0.2;
    const { checker } = makeChecker({ probe, jitter, random: Math.random });
    checker.start();
    await tick(100 * INTERVAL);
    expect(calls.length).toBeGreaterThan(50);
    for (let i = 1; i < calls.length; i++) {
      const gap = calls[i]!.at - calls[i - 1]!.at;
      expect(gap).toBeGreaterThanOrEqual(INTERVAL);
      expect(gap).toBeLessThanOrEqual(INTERVAL * (1 + jitter) + 1);
    }
    checker.stop();
  });

  it('each target has its own loop', async () => {
    const { probe, calls } = truthProbe();
    const { checker } = makeChecker({ probe, subjects: [A, B] });
    checker.start();
    await tick(0);
    await tick(3 * INTERVAL);
    expect(calls.filter((c) => c.id === A.id)).toHaveLength(4);
    expect(calls.filter((c) => c.id === B.id)).toHaveLength(4);
    checker.stop();
  });

  it('timers are unref()ed so a checker never keeps the process alive', () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const { checker } = makeChecker({ probe: truthProbe().probe });
    checker.start();
    const timer = spy.mock.results.at(-1)!.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    checker.stop();
    spy.mockRestore();
  });
});

describe('ActiveChecker stop', () => {
  it('stops every loop and aborts in-flight probes; their results are dropped; idempotent', async () => {
    const { probe, calls } = manualProbe();
    const { checker, listener } = makeChecker({ probe, subjects: [A, B], unhealthyThreshold: 1 });
    checker.start();
    await tick(0);
    expect(calls).toHaveLength(2);
    checker.stop();
    checker.stop();
    expect(calls.every((c) => c.signal.aborted)).toBe(true);
    for (const c of calls) c.settle(false);
    await tick(100 * INTERVAL);
    expect(calls).toHaveLength(2);
    expect(listener.events).toEqual([]);
    expect(checker.state(A.id)?.healthy).toBe(true);
  });

  it('stop before the first check means no probe at all; start again resumes', async () => {
    const { probe, calls } = truthProbe();
    const { checker } = makeChecker({ probe, random: () => 0.5 });
    checker.start();
    checker.stop();
    await tick(10 * INTERVAL);
    expect(calls).toHaveLength(0);
    checker.start();
    await tick(INTERVAL);
    expect(calls).toHaveLength(1);
    checker.stop();
  });
});

describe('ActiveChecker setSubjects', () => {
  it('adds and removes targets; kept targets keep their state', async () => {
    const { probe, up, calls } = truthProbe();
    const { checker } = makeChecker({ probe, subjects: [A], unhealthyThreshold: 1 });
    checker.start();
    up.set(A.id, false);
    await tick(0);
    expect(checker.state(A.id)?.healthy).toBe(false);

    checker.setSubjects([A, B]);
    await tick(0);
    expect(calls.filter((c) => c.id === B.id)).toHaveLength(1);
    expect(checker.state(A.id)?.healthy).toBe(false);

    checker.setSubjects([B]);
    expect(checker.state(A.id)).toBeUndefined();
    const aCalls = calls.filter((c) => c.id === A.id).length;
    await tick(10 * INTERVAL);
    expect(calls.filter((c) => c.id === A.id)).toHaveLength(aCalls);
    expect(calls.filter((c) => c.id === B.id).length).toBeGreaterThan(5);
    checker.stop();
  });

  it('a removed target with a probe in flight is dropped when it resolves', async () => {
    const { probe, calls } = manualProbe();
    const { checker, listener } = makeChecker({ probe, unhealthyThreshold: 1 });
    checker.start();
    await tick(0);
    checker.setSubjects([]);
    expect(calls[0]!.signal.aborted).toBe(true);
    calls[0]!.settle(false);
    await tick(10 * INTERVAL);
    expect(calls).toHaveLength(1);
    expect(listener.events).toEqual([]);
  });

  it('new targets start per startUnhealthy', () => {
    const { checker } = makeChecker({ probe: truthProbe().probe, startUnhealthy: true });
    checker.setSubjects([A, B]);
    expect(checker.state(B.id)?.healthy).toBe(false);
  });

  it('targets added before start() wait for start()', async () => {
    const { probe, calls } = truthProbe();
    const { checker } = makeChecker({ probe });
    checker.setSubjects([A, B]);
    await tick(10 * INTERVAL);
    expect(calls).toHaveLength(0);
    checker.start();
    await tick(0);
    expect(calls).toHaveLength(2);
    checker.stop();
  });
});

describe('ActiveChecker options', () => {
  it.each([
    { over: { intervalMs: 0 }, message: /intervalMs/ },
    { over: { timeoutMs: 0 }, message: /timeoutMs/ },
    { over: { jitter: -1 }, message: /jitter/ },
    { over: { unhealthyThreshold: 0 }, message: /thresholds/ },
    { over: { healthyThreshold: 0 }, message: /thresholds/ },
  ])('rejects $over', ({ over, message }) => {
    expect(() => makeChecker({ probe: truthProbe().probe, ...over })).toThrow(message);
  });
});
