/**
 * Shared test helpers for the health tests: real servers on ephemeral
 * loopback ports, a deadline poll (never a fixed sleep), a recording
 * listener and a pino logger whose lines the test can read.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { pino, type Logger } from 'pino';
import type { ActiveHealthDetail, EjectionDetail, HealthListener, HealthSubject } from '../../src/health/types.js';

/** subjectFor makes a HealthSubject for a base URL. */
export function subjectFor(url: string): HealthSubject {
  return { id: url, url: new URL(url) };
}

/** until polls `cond` every few ms and throws if it is still false after `timeoutMs`. */
export async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
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

/** captureLogger returns a debug-level pino logger and the parsed lines it wrote. */
export function captureLogger(): { logger: Logger; lines: Array<Record<string, unknown> & { msg: string; level: number }> } {
  const lines: Array<Record<string, unknown> & { msg: string; level: number }> = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
  return { logger, lines };
}

/** TestServer is a running loopback server. */
export interface TestServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** startHttpServer serves `handler` on 127.0.0.1 at an ephemeral port. */
export async function startHttpServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<TestServer> {
  const server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
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
