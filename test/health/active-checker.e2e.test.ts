/**
 * End to end: a real HTTP server whose /healthz flips 200 → 503 → 200, an
 * ActiveChecker with the real HTTP probe on a 50ms interval, transitions
 * awaited with a deadline poll.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ActiveChecker } from '../../src/health/active-checker.js';
import { createHttpProbe } from '../../src/health/http-probe.js';
import { startUpstream, waitFor } from '../../src/testing/index.js';
import { captureLog } from '../helpers/log-capture.js';
import { recordingListener, subjectFor, type TestServer } from './helpers.js';

let server: TestServer;
let status = 200;
let checks = 0;
beforeAll(async () => {
  server = await startUpstream(
    'flipping',
    (req, res) => {
      if (req.url !== '/healthz') {
        res.statusCode = 404;
        res.end();
        return;
      }
      checks++;
      res.statusCode = status;
      res.end();
    },
    { stream: true },
  );
});
afterAll(() => server.close());

it('takes a target out when /healthz turns 503 and brings it back when it recovers', async () => {
  const subject = subjectFor(server.url);
  const probe = createHttpProbe({ path: '/healthz', timeoutMs: 500 });
  const listener = recordingListener();
  const { logger, lines } = captureLog('debug');
  const checker = new ActiveChecker({
    subjects: [subject],
    probe,
    intervalMs: 50,
    timeoutMs: 500,
    jitter: 0.1,
    unhealthyThreshold: 2,
    healthyThreshold: 2,
    startUnhealthy: false,
    listener,
    logger,
  });
  try {
    checker.start();
    await waitFor(() => checks >= 2, { message: 'two healthy checks', interval: 5 });
    expect(checker.state(subject.id)?.healthy).toBe(true);
    expect(listener.events).toEqual([]);

    status = 503;
    await waitFor(() => listener.events.length === 1, { message: 'the unhealthy transition', interval: 5 });
    expect(listener.events[0]).toMatchObject({ kind: 'active', healthy: false, detail: { reason: 'status 503', status: 503, consecutiveFailures: 2 } });
    expect(checker.state(subject.id)?.healthy).toBe(false);

    status = 200;
    await waitFor(() => listener.events.length === 2, { message: 'the healthy transition', interval: 5 });
    expect(listener.events[1]).toMatchObject({ kind: 'active', healthy: true, detail: { reason: 'ok', status: 200, consecutiveSuccesses: 2 } });

    expect(lines.filter((l) => l.msg === 'health check: target unhealthy')).toHaveLength(1);
    expect(lines.filter((l) => l.msg === 'health check: target healthy')).toHaveLength(1);
  } finally {
    checker.stop();
    await probe.close();
  }
});
