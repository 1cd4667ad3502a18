/**
 * The HTTP probe: GET `path` on the target and check the status. Each probe
 * owns a small undici Agent (one connection per target, never the proxy's
 * pool) so health checks neither wait behind nor disturb real traffic.
 */
import { performance } from 'node:perf_hooks';
import { Agent } from '../http/undici.js';
import { HealthCheckSchema, type HealthCheckDoc } from '../config/schema.js';
import { parseDuration } from '../config/duration.js';
import { abortReason, withDeadline } from './internal/deadline.js';
import { errorReason } from './internal/error-reason.js';
import { compileStatusList, DEFAULT_EXPECTED_STATUS } from './status-list.js';
import { systemClock, type Clock } from '../process/clock.js';
import { type ClosableProbe, type HealthCheckResult, type HealthSubject } from './types.js';

/** HttpProbeOptions are the parsed options of an HTTP probe. */
export interface HttpProbeOptions {
  /** path is requested on each target (default `/healthz`). */
  path: string;
  /** timeoutMs bounds the whole check, connect to last body byte (default 1000). */
  timeoutMs: number;
  /** headers are sent with each check, e.g. `{ host: 'api.internal' }` (a host header also sets TLS SNI). */
  headers?: Readonly<Record<string, string>>;
  /** expectedStatus lists healthy statuses (default `["200-399"]`). */
  expectedStatus?: readonly (number | string)[];
  /** maxBodyBytes is how much of a body is read before the connection is dropped (default 4096). */
  maxBodyBytes?: number;
  /** tls adds trust for a private CA (`ca` is PEM contents, not a file path) and the name to verify; verification is always on. */
  tls?: { ca?: string | Buffer; servername?: string };
  clock?: Clock;
}

/** DEFAULT_MAX_BODY_BYTES caps the body read: health bodies are tiny, and a huge one must not cost memory. */
export const DEFAULT_MAX_BODY_BYTES = 4096;

/**
 * createHttpProbe builds a probe from options. Redirects are never followed
 * (undici 7 follows none unless the redirect interceptor is composed, which
 * it is not here), so a 3xx is judged by expectedStatus like any status.
 * Call close() when the checker is discarded.
 */
export function createHttpProbe(options: HttpProbeOptions): ClosableProbe {
  const { timeoutMs } = options;
  // Normalized as a URL once (percent-encoding, dot segments, no fragment), the way undici's request(url) would on every check.
  const parsed = new URL(options.path, 'http://probe.invalid');
  const path = parsed.pathname + parsed.search;
  const clock = options.clock ?? systemClock;
  const expected = compileStatusList(options.expectedStatus ?? DEFAULT_EXPECTED_STATUS);
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const headers = { ...options.headers };
  const agent = new Agent({
    connections: 1,
    // Undici timeouts back up our own deadline, which is what produces the reason.
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connect: {
      timeout: timeoutMs,
      rejectUnauthorized: true,
      ...(options.tls?.ca === undefined ? {} : { ca: options.tls.ca }),
      ...(options.tls?.servername === undefined ? {} : { servername: options.tls.servername }),
    },
  });

  const probe = async (subject: HealthSubject, signal: AbortSignal): Promise<HealthCheckResult> => {
    const started = performance.now();
    const deadline = withDeadline(signal, timeoutMs);
    const done = (ok: boolean, reason: string, status?: number): HealthCheckResult => ({
      ok,
      reason,
      ...(status === undefined ? {} : { status }),
      durationMs: Math.round(performance.now() - started),
      at: clock.now(),
    });
    try {
      const res = await agent.request({
        origin: subject.url.origin,
        path,
        method: 'GET',
        headers,
        signal: deadline.signal,
        // A fresh connection per check: it tests connect too, and avoids
        // racing a keep-alive socket the server is closing (a false failure).
        reset: true,
      });
      // Drain (capped) so the socket is released; a body error does not change the verdict.
      await res.body.dump({ limit }).catch(() => undefined);
      const ok = expected(res.statusCode);
      return done(ok, ok ? 'ok' : `status ${res.statusCode}`, res.statusCode);
    } catch (err) {
      return done(false, deadline.signal.aborted ? abortReason(deadline.signal) : errorReason(err));
    } finally {
      deadline.dispose();
    }
  };
  return Object.assign(probe, { close: () => agent.close() });
}

/** httpProbeOptionsFromDoc converts a validated health-check doc to probe options, filling schema defaults. */
export function httpProbeOptionsFromDoc(doc: Partial<HealthCheckDoc>): HttpProbeOptions {
  const d = HealthCheckSchema.properties;
  return {
    path: doc.path ?? (d.path.default as string),
    timeoutMs: parseDuration(doc.timeout ?? (d.timeout.default as string)),
    ...(doc.headers === undefined ? {} : { headers: doc.headers }),
    ...(doc.expectedStatus === undefined ? {} : { expectedStatus: doc.expectedStatus }),
  };
}
