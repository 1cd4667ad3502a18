/**
 * OutlierDetector with fake timers (which also drive Date.now, the default
 * clock): ejection, backoff, the cap, decay, maxEjectionPercent and readmission.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OutlierDetector, type OutlierDetectorOptions } from '../../src/health/outlier-detector.js';
import type { HealthSubject } from '../../src/health/types.js';
import { captureLog } from '../helpers/log-capture.js';
import { recordingListener, subjectFor } from './helpers.js';

const BASE = 10_000;
const pool = (n: number): HealthSubject[] => Array.from({ length: n }, (_, i) => subjectFor(`http://10.0.0.${i + 1}:8080`));
const [A, B] = pool(2) as [HealthSubject, HealthSubject];

function makeDetector(over: Partial<OutlierDetectorOptions> = {}, subjects: HealthSubject[] = [A, B]) {
  const listener = recordingListener();
  const { logger, lines } = captureLog('debug');
  const detector = new OutlierDetector({
    consecutiveFailures: 3,
    baseEjectionMs: BASE,
    maxEjectionMs: 35_000,
    maxEjectionPercent: 100,
    listener,
    logger,
    ...over,
  });
  detector.setSubjects(subjects);
  return { detector, listener, lines };
}

function fail(detector: OutlierDetector, s: HealthSubject, times: number): boolean {
  let ejected = false;
  for (let i = 0; i < times; i++) ejected = detector.failure(s, 'status 502');
  return ejected;
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(1_000_000);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('OutlierDetector ejection', () => {
  it.each([1, 3, 5])('ejects on exactly the %ith consecutive failure', (n) => {
    const { detector, listener } = makeDetector({ consecutiveFailures: n });
    expect(fail(detector, A, n - 1)).toBe(false);
    expect(detector.isEjected(A, Date.now())).toBe(false);
    expect(detector.failure(A, 'connect ECONNREFUSED')).toBe(true);
    expect(detector.isEjected(A, Date.now())).toBe(true);
    expect(detector.isEjected(B, Date.now())).toBe(false);
    expect(listener.events).toEqual([
      { kind: 'ejected', id: A.id, untilMs: Date.now() + BASE, detail: { reason: 'connect ECONNREFUSED', ejections: 1, consecutiveFailures: n } },
    ]);
  });

  it('a success resets the failure count', () => {
    const { detector } = makeDetector();
    fail(detector, A, 2);
    detector.success(A);
    expect(fail(detector, A, 2)).toBe(false);
    expect(detector.state(A.id)).toMatchObject({ ejected: false, consecutiveFailures: 2 });
  });

  it('isEjected holds until untilMs and not at it', () => {
    const { detector, listener } = makeDetector();
    fail(detector, A, 3);
    const until = (listener.events[0] as { untilMs: number }).untilMs;
    expect(detector.isEjected(A, until - 1)).toBe(true);
    expect(detector.isEjected(A, until)).toBe(false);
  });

  it('logs one warn line per ejection with target, reason and counts', () => {
    const { detector, lines } = makeDetector();
    fail(detector, A, 3);
    expect(lines.filter((l) => l.msg === 'outlier: target ejected')).toEqual([
      expect.objectContaining({ level: 40, target: A.id, reason: 'status 502', consecutiveFailures: 3, ejections: 1, durationMs: BASE }),
    ]);
  });

  it('failures of an ejected target (requests still in flight) are ignored', () => {
    const { detector, listener } = makeDetector();
    fail(detector, A, 3);
    expect(fail(detector, A, 10)).toBe(false);
    expect(listener.events).toHaveLength(1);
    expect(detector.state(A.id)?.consecutiveFailures).toBe(0);
  });

  it('unknown subjects are ignored', () => {
    const { detector } = makeDetector();
    const stranger = subjectFor('http://10.9.9.9:1');
    detector.success(stranger);
    expect(fail(detector, stranger, 10)).toBe(false);
    expect(detector.isEjected(stranger, Date.now())).toBe(false);
  });
});

describe('OutlierDetector readmission', () => {
  it('readmits when the time passes, reports it once and resets the failure count', async () => {
    const { detector, listener, lines } = makeDetector();
    fail(detector, A, 3);
    await vi.advanceTimersByTimeAsync(BASE - 1);
    expect(listener.events.map((e) => e.kind)).toEqual(['ejected']);
    await vi.advanceTimersByTimeAsync(1);
    expect(listener.events.map((e) => e.kind)).toEqual(['ejected', 'readmitted']);
    expect(listener.events[1]).toEqual({ kind: 'readmitted', id: A.id });
    expect(detector.isEjected(A, Date.now())).toBe(false);
    expect(lines.filter((l) => l.msg === 'outlier: target readmitted')).toHaveLength(1);
    expect(fail(detector, A, 2)).toBe(false); // a fresh streak is needed
    expect(detector.failure(A, 'status 502')).toBe(true);
  });

  it('the readmission timer is unref()ed', () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const { detector } = makeDetector();
    fail(detector, A, 3);
    expect((spy.mock.results.at(-1)!.value as NodeJS.Timeout).hasRef()).toBe(false);
    spy.mockRestore();
  });

  it('stop() clears readmission timers', async () => {
    const { detector, listener } = makeDetector();
    fail(detector, A, 3);
    detector.stop();
    await vi.advanceTimersByTimeAsync(10 * BASE);
    expect(listener.events.map((e) => e.kind)).toEqual(['ejected']);
  });
});

describe('OutlierDetector backoff', () => {
  it('ejection time grows with repeats (base × n) and is capped at max', async () => {
    const { detector, listener } = makeDetector({ baseEjectionMs: BASE, maxEjectionMs: 35_000 });
    const durations: number[] = [];
    for (let i = 0; i < 6; i++) {
      const now = Date.now();
      fail(detector, A, 3);
      const e = listener.events.at(-1) as { kind: string; untilMs: number };
      expect(e.kind).toBe('ejected');
      durations.push(e.untilMs - now);
      await vi.advanceTimersByTimeAsync(e.untilMs - now); // readmitted; fails again at once
    }
    expect(durations).toEqual([10_000, 20_000, 30_000, 35_000, 35_000, 35_000]);
  });

  // Decay: the multiplier drops by one per full base period spent admitted since the last readmission.
  it.each([
    { ejectionsBefore: 1, healthyFor: 0, nextDuration: 20_000 },
    { ejectionsBefore: 1, healthyFor: BASE - 1, nextDuration: 20_000 },
    { ejectionsBefore: 1, healthyFor: BASE, nextDuration: 10_000 },
    { ejectionsBefore: 3, healthyFor: BASE, nextDuration: 30_000 },
    { ejectionsBefore: 3, healthyFor: 2 * BASE, nextDuration: 20_000 },
    { ejectionsBefore: 3, healthyFor: 100 * BASE, nextDuration: 10_000 },
  ])('after $ejectionsBefore ejections and $healthyFor ms admitted, the next ejection lasts $nextDuration ms', async ({ ejectionsBefore, healthyFor, nextDuration }) => {
    const { detector, listener } = makeDetector({ maxEjectionMs: 1_000_000 });
    for (let i = 0; i < ejectionsBefore; i++) {
      fail(detector, A, 3);
      await vi.advanceTimersByTimeAsync((listener.events.at(-1) as { untilMs: number }).untilMs - Date.now());
    }
    await vi.advanceTimersByTimeAsync(healthyFor);
    const now = Date.now();
    fail(detector, A, 3);
    expect((listener.events.at(-1) as { untilMs: number }).untilMs - now).toBe(nextDuration);
  });
});

describe('OutlierDetector maxEjectionPercent', () => {
  // Envoy's rule: eject only if (ejected + 1) / pool ≤ maxEjectionPercent.
  it.each([
    { size: 1, percent: 10, maxEjected: 0 },
    { size: 1, percent: 50, maxEjected: 0 },
    { size: 1, percent: 100, maxEjected: 1 },
    { size: 2, percent: 10, maxEjected: 0 },
    { size: 2, percent: 50, maxEjected: 1 },
    { size: 2, percent: 100, maxEjected: 2 },
    { size: 3, percent: 10, maxEjected: 0 },
    { size: 3, percent: 50, maxEjected: 1 },
    { size: 3, percent: 100, maxEjected: 3 },
    { size: 10, percent: 10, maxEjected: 1 },
    { size: 10, percent: 50, maxEjected: 5 },
    { size: 10, percent: 100, maxEjected: 10 },
  ])('pool of $size at $percent% ejects at most $maxEjected', ({ size, percent, maxEjected }) => {
    const subjects = pool(size);
    const { detector, lines } = makeDetector({ maxEjectionPercent: percent }, subjects);
    for (const s of subjects) fail(detector, s, 3);
    expect(subjects.filter((s) => detector.isEjected(s, Date.now()))).toHaveLength(maxEjected);
    expect(lines.filter((l) => l.msg.startsWith('outlier: not ejected'))).toHaveLength(size - maxEjected);
  });

  it('a readmission frees a slot for another target', async () => {
    const { detector } = makeDetector({ maxEjectionPercent: 50 });
    fail(detector, A, 3);
    expect(fail(detector, B, 3)).toBe(false);
    await vi.advanceTimersByTimeAsync(BASE);
    expect(fail(detector, B, 3)).toBe(true);
  });

  it('removing an ejected target from the pool frees its slot', () => {
    const [x, y, z] = pool(3) as [HealthSubject, HealthSubject, HealthSubject];
    const { detector } = makeDetector({ maxEjectionPercent: 50 }, [x, y, z]);
    fail(detector, x, 3);
    expect(fail(detector, y, 3)).toBe(false);
    detector.setSubjects([y, z]);
    expect(detector.state(x.id)).toBeUndefined();
    expect(fail(detector, y, 3)).toBe(true);
  });
});

describe('OutlierDetector options', () => {
  it.each([
    { over: { consecutiveFailures: 0 }, message: /consecutiveFailures/ },
    { over: { baseEjectionMs: 0 }, message: /baseEjectionMs/ },
    { over: { baseEjectionMs: 10, maxEjectionMs: 5 }, message: /maxEjectionMs/ },
  ])('rejects $over', ({ over, message }) => {
    expect(() => makeDetector(over)).toThrow(message);
  });
});
