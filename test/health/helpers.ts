/**
 * Shared test helpers for the health tests: TCP servers on ephemeral
 * loopback ports and a recording listener. HTTP servers, the deadline poll
 * and the log capture are the ones every test uses (startUpstream and
 * waitFor in src/testing, captureLog in test/helpers/log-capture.ts).
 */
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import type { ActiveHealthDetail, EjectionDetail, HealthListener, HealthSubject } from '../../src/health/types.js';

/** subjectFor makes a HealthSubject for a base URL. */
export function subjectFor(url: string): HealthSubject {
  return { id: url, url: new URL(url) };
}

/** HealthEvent is one listener call, in order. */
export type HealthEvent =
  | { kind: 'active'; id: string; healthy: boolean; detail: ActiveHealthDetail }
  | { kind: 'ejected'; id: string; untilMs: number; detail: EjectionDetail }
  | { kind: 'readmitted'; id: string };

/** recordingListener records every listener call in `events`. */
export function recordingListener(): HealthListener & { events: HealthEvent[] } {
  const events: HealthEvent[] = [];
  return {
    events,
    onActiveHealth: (s, healthy, detail) => events.push({ kind: 'active', id: s.id, healthy, detail }),
    onEjected: (s, untilMs, detail) => events.push({ kind: 'ejected', id: s.id, untilMs, detail }),
    onReadmitted: (s) => events.push({ kind: 'readmitted', id: s.id }),
  };
}

/** TestServer is a running loopback server (a TestUpstream from src/testing is one too). */
export interface TestServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** startTcpServer accepts connections on 127.0.0.1 and closes them at once. */
export async function startTcpServer(): Promise<TestServer> {
  const server: NetServer = createNetServer((socket) => socket.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** closedPort returns a loopback port that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}
