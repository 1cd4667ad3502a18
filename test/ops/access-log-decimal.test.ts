/**
 * decimal (src/telemetry/line-writer.ts: the rule LineWriter.number writes
 * the access line's numbers by) writes whole hundredths without V8's
 * shortest-round-trip conversion and integers digit by digit; it must give
 * exactly String(v) for every number: the hundredths the observer produces,
 * the integers (counts, epoch milliseconds) and everything else.
 */
import { describe, expect, it } from 'vitest';
import { decimal } from '../../src/telemetry/line-writer.js';

describe('access log: decimal', () => {
  it('is String(v) for every hundredth from 0 to 10,000 ms', () => {
    const bad: number[] = [];
    for (let h = 0; h <= 1_000_000; h++) {
      const v = h / 100;
      if (decimal(v) !== String(v)) bad.push(v);
    }
    expect(bad).toEqual([]);
  }, 60_000);

  it('is String(v) for rounded durations up to 1e9 ms and beyond (seeded)', () => {
    let seed = 17;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const bad: number[] = [];
    for (let i = 0; i < 100_000; i++) {
      const v = Math.round(next() * 10 ** (1 + Math.floor(next() * 13))) / 100;
      if (decimal(v) !== String(v)) bad.push(v);
    }
    expect(bad).toEqual([]);
  }, 60_000);

  it('is String(v) for numbers that are not whole hundredths', () => {
    for (const v of [0, -0, -1.5, 1, 200, 1 / 3, 0.001, 0.125, 123.456, 1e-7, 5e-324, 999_999_999.99, 1e9 + 0.5, 1e21, 2 ** 53, Number.MAX_VALUE]) {
      expect(decimal(v)).toBe(String(v));
    }
  });

  it('is String(v) for integers: every digit count, the split at 1e9 and its zero padding, epoch milliseconds', () => {
    const edges = [1, 9, 10, 99, 100, 65535, 999_999_999, 1e9, 1e9 + 1, 1e9 + 1e8, 1_000_000_000_005, 1_733_559_123_456, 10 ** 15, 2 ** 53 - 1];
    for (const v of edges) expect(decimal(v)).toBe(String(v));
    let seed = 18;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const bad: number[] = [];
    for (let i = 0; i < 100_000; i++) {
      const v = Math.floor(next() * 10 ** Math.floor(next() * 16));
      if (decimal(v) !== String(v)) bad.push(v);
    }
    expect(bad).toEqual([]);
  });
});
