/**
 * Helpers for the built-in plugin tests: plain requests with parsed
 * answers, raw requests over a socket (for header spellings and duplicates
 * that HTTP clients normalise away) and a metrics sink that records counts.
 */
import { mkdtempSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { NO_METRICS, type MetricsSink } from '../../src/telemetry/observer.js';
import type { TestUpstream } from '../../src/testing/index.js';

/** Reply is a response, read. */
export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json(): any;
}

/** send makes one request and reads the whole response. */
export async function send(url: string, opts: { method?: string; headers?: Record<string, string> | string[]; body?: string | Buffer } = {}): Promise<Reply> {
  const res = await request(url, { method: (opts.method ?? 'GET') as 'GET', headers: opts.headers, body: opts.body });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) };
}

/** RawReply is a response read off a socket: status, header lines as sent, body. */
export interface RawReply {
  status: number;
  /** headers maps lower-case names to their values (repeated names keep every value). */
  headers: Map<string, string[]>;
  body: string;
}

/** rawRequest writes a request exactly as given (`head` lines without the final blank line) and reads one response (Connection: close). */
export async function rawRequest(port: number, head: string[], body = ''): Promise<RawReply> {
  const socket = net.connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    socket.on('connect', () => socket.write([...head, 'Connection: close', '', ''].join('\r\n') + body));
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', resolve);
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
  const text = Buffer.concat(chunks).toString('latin1');
  const split = text.indexOf('\r\n\r\n');
  const lines = text.slice(0, split).split('\r\n');
  const status = Number(lines[0]!.split(' ')[1]);
  const headers = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    headers.set(name, [...(headers.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return { status, headers, body: text.slice(split + 4) };
}

/** recordingMetrics is a metrics sink that keeps every count. */
export function recordingMetrics(): MetricsSink & { counts: { name: string; labels: Record<string, string> }[] } {
  const counts: { name: string; labels: Record<string, string> }[] = [];
  return { ...NO_METRICS, counts, count: (name, labels) => counts.push({ name, labels: labels ?? {} }) };
}

/** lastRequest is what the upstream received last (fails the test when it received nothing). */
export function lastRequest(u: TestUpstream) {
  const r = u.requests.at(-1);
  if (!r) throw new Error(`upstream ${u.name} received no request`);
  return r;
}

/** rawHeaderValues lists every value the upstream received for a header name, whatever its spelling. */
export function rawHeaderValues(raw: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) out.push(raw[i + 1]!);
  return out;
}

/**
 * isolatedDir makes an empty directory to use as a test gateway's baseDir,
 * so the gateway does not load whatever custom plugins the working
 * directory's ./plugins folder holds.
 */
export function isolatedDir(): string {
  return mkdtempSync(join(tmpdir(), 'sy-plugin-test-'));
}
