/**
 * The fromDoc helpers: schema defaults fill what a doc leaves out, durations
 * are parsed, and probeFromDoc picks the probe by type.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeCheckConfigFromDoc } from '../../src/health/active-checker.js';
import { httpProbeOptionsFromDoc } from '../../src/health/http-probe.js';
import { outlierConfigFromDoc } from '../../src/health/outlier-detector.js';
import { probeFromDoc } from '../../src/health/probes.js';
import { retryBudgetOptionsFromDoc } from '../../src/health/retry-budget.js';
import { tcpProbeOptionsFromDoc } from '../../src/health/tcp-probe.js';
import { startTcpServer, subjectFor, type TestServer } from './helpers.js';

describe('fromDoc helpers', () => {
  it.each([
    {
      name: 'activeCheckConfigFromDoc, empty doc',
      got: () => activeCheckConfigFromDoc({}),
      want: { intervalMs: 5000, timeoutMs: 1000, jitter: 0.1, unhealthyThreshold: 3, healthyThreshold: 2, startUnhealthy: false },
    },
    {
      name: 'activeCheckConfigFromDoc, overrides',
      got: () => activeCheckConfigFromDoc({ interval: '250ms', timeout: 100, jitter: 0, unhealthyThreshold: 1, healthyThreshold: 4, startUnhealthy: true }),
      want: { intervalMs: 250, timeoutMs: 100, jitter: 0, unhealthyThreshold: 1, healthyThreshold: 4, startUnhealthy: true },
    },
    { name: 'httpProbeOptionsFromDoc, empty doc', got: () => httpProbeOptionsFromDoc({}), want: { path: '/healthz', timeoutMs: 1000 } },
    {
      name: 'httpProbeOptionsFromDoc, overrides',
      got: () => httpProbeOptionsFromDoc({ path: '/ready', timeout: '2s', headers: { host: 'a.example' }, expectedStatus: [204] }),
      want: { path: '/ready', timeoutMs: 2000, headers: { host: 'a.example' }, expectedStatus: [204] },
    },
    { name: 'tcpProbeOptionsFromDoc, empty doc', got: () => tcpProbeOptionsFromDoc({}), want: { timeoutMs: 1000 } },
    {
      name: 'outlierConfigFromDoc, empty doc',
      got: () => outlierConfigFromDoc({}),
      want: { consecutiveFailures: 5, baseEjectionMs: 30_000, maxEjectionMs: 300_000, maxEjectionPercent: 50 },
    },
    {
      name: 'outlierConfigFromDoc, overrides',
      got: () => outlierConfigFromDoc({ consecutiveFailures: 2, baseEjectionTime: '1s', maxEjectionTime: '1m', maxEjectionPercent: 10 }),
      want: { consecutiveFailures: 2, baseEjectionMs: 1000, maxEjectionMs: 60_000, maxEjectionPercent: 10 },
    },
    { name: 'retryBudgetOptionsFromDoc, no doc', got: () => retryBudgetOptionsFromDoc(), want: { percent: 20, minPerSecond: 3 } },
    { name: 'retryBudgetOptionsFromDoc, overrides', got: () => retryBudgetOptionsFromDoc({ percent: 5, minPerSecond: 0 }), want: { percent: 5, minPerSecond: 0 } },
  ])('$name', ({ got, want }) => {
    expect(got()).toEqual(want);
  });
});

describe('probeFromDoc', () => {
  let tcp: TestServer;
  beforeAll(async () => {
    tcp = await startTcpServer(); // accepts, then closes without speaking HTTP
  });
  afterAll(() => tcp.close());

  it.each([
    { type: 'tcp' as const, ok: true },
    { type: 'http' as const, ok: false },
  ])('type $type against a bare TCP server → ok=$ok', async ({ type, ok }) => {
    const probe = probeFromDoc({ type, timeout: '1s' });
    try {
      expect((await probe(subjectFor(tcp.url), new AbortController().signal)).ok).toBe(ok);
    } finally {
      await probe.close();
    }
  });
});
