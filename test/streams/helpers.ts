/**
 * Helpers of the stream tests: a gateway with stream listeners on ephemeral
 * loopback ports, raw TCP clients, and running the machine's redis-cli.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { startGateway, type TestGateway } from '../../src/testing/index.js';

const run = promisify(execFile);

/** StreamGateway is a test gateway and the ports of its stream listeners. */
export interface StreamGateway extends TestGateway {
  /** streamPort is the bound port of a stream listener. */
  streamPort(name: string): number;
}

/**
 * startStreamGateway starts a gateway whose `streams` listeners all bind
 * 127.0.0.1 on ephemeral ports; `streams` gives each listener's other settings.
 */
export async function startStreamGateway(streams: Record<string, Record<string, unknown>>, routeFiles: Record<string, object | string>, opts: { logger?: Logger; gateway?: Record<string, unknown> } = {}): Promise<StreamGateway> {
  const withPorts = Object.fromEntries(Object.entries(streams).map(([name, s]) => [name, { listen: { host: '127.0.0.1', port: 0 }, ...s }]));
  const gw = await startGateway({ gateway: { ...opts.gateway, streams: withPorts }, routeFiles, ...(opts.logger ? { logger: opts.logger } : {}) });
  return Object.assign(gw, { streamPort: (name: string) => gw.gateway.streamPorts()[name] ?? 0 });
}

/** redisCli runs redis-cli against host:port and returns its stdout. */
export async function redisCli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 20_000 });
  return stdout;
}

/** servedBy asks a Redis server through `port` which port it listens on (INFO server's tcp_port). */
export async function servedBy(port: number): Promise<number> {
  const info = await redisCli(port, 'INFO', 'server');
  const m = /tcp_port:(\d+)/.exec(info);
  if (!m) throw new Error(`no tcp_port in INFO: ${info.slice(0, 200)}`);
  return Number(m[1]);
}

/** openSocket connects to 127.0.0.1:port (allowHalfOpen) and resolves once connected. */
export async function openSocket(port: number): Promise<Socket> {
  const s = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  await once(s, 'connect');
  return s;
}

/** readAll collects a socket's bytes until it ends or closes. */
export function readAll(s: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve) => {
    s.once('end', () => resolve(Buffer.concat(chunks)));
    s.once('close', () => resolve(Buffer.concat(chunks)));
  });
}

/** redisInfoOverSocket sends INFO server on a held socket and resolves with the server's tcp_port. */
export async function redisPortOverSocket(s: Socket): Promise<number> {
  let text = '';
  const got = new Promise<number>((resolve) => {
    const onData = (c: Buffer) => {
      text += c.toString();
      const m = /tcp_port:(\d+)/.exec(text);
      if (m && text.endsWith('\r\n')) {
        s.off('data', onData);
        resolve(Number(m[1]));
      }
    };
    s.on('data', onData);
  });
  s.write('INFO server\r\n');
  return got;
}
