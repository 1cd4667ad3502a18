/**
 * The TCP probe: a plain connect to the target's host and port, closed at
 * once. It proves the port accepts connections, nothing more (no TLS).
 */
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { HealthCheckSchema, type HealthCheckDoc } from '../config/schema.js';
import { parseDuration } from '../config/duration.js';
import { socketHost } from '../http/host.js';
import { abortReason, withDeadline } from './internal/deadline.js';
import { errorReason } from './internal/error-reason.js';
import { systemClock, type Clock } from '../process/clock.js';
import { type ClosableProbe, type HealthCheckResult, type HealthSubject } from './types.js';

/** TcpProbeOptions are the parsed options of a TCP probe. */
export interface TcpProbeOptions {
  /** timeoutMs bounds the connect (default 1000). */
  timeoutMs: number;
  clock?: Clock;
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443 };

/** createTcpProbe builds a probe that connects to the target URL's host:port; close() is a no-op. */
export function createTcpProbe(options: TcpProbeOptions): ClosableProbe {
  const { timeoutMs } = options;
  const clock = options.clock ?? systemClock;
  const probe = (subject: HealthSubject, signal: AbortSignal): Promise<HealthCheckResult> =>
    new Promise((resolve) => {
      const started = performance.now();
      const deadline = withDeadline(signal, timeoutMs);
      const url = subject.url;
      const host = socketHost(url);
      const port = url.port === '' ? (DEFAULT_PORTS[url.protocol] ?? 80) : Number(url.port);
      let settled = false;
      const socket = connect({ host, port });
      const finish = (ok: boolean, reason: string): void => {
        if (settled) return;
        settled = true;
        deadline.dispose();
        deadline.signal.removeEventListener('abort', onAbort);
        socket.destroy();
        resolve({ ok, reason, durationMs: Math.round(performance.now() - started), at: clock.now() });
      };
      const onAbort = (): void => finish(false, abortReason(deadline.signal));
      socket.once('connect', () => finish(true, 'ok'));
      socket.once('error', (err) => finish(false, errorReason(err)));
      if (deadline.signal.aborted) onAbort();
      else deadline.signal.addEventListener('abort', onAbort, { once: true });
    });
  return Object.assign(probe, { close: async () => undefined });
}

/** tcpProbeOptionsFromDoc converts a validated health-check doc to probe options, filling schema defaults. */
export function tcpProbeOptionsFromDoc(doc: Partial<HealthCheckDoc>): TcpProbeOptions {
  return { timeoutMs: parseDuration(doc.timeout ?? (HealthCheckSchema.properties.timeout.default as string)) };
}
