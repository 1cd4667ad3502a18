/**
 * Helpers of the ops tests: a loopback OTLP/HTTP "collector" that records
 * what the gateway exports, a reader of one Prometheus sample, and a logger
 * that keeps the access log as parsed lines.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AnyValue {
  stringValue?: string;
  intValue?: number | string;
  boolValue?: boolean;
}
export interface KeyValue {
  key: string;
  value: AnyValue;
}
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  flags: number;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: KeyValue[];
  status?: { code?: number; message?: string };
}
export interface Export {
  path: string;
  headers: http.IncomingHttpHeaders;
  resource: Record<string, string>;
  scope: { name: string; version: string };
  spans: OtlpSpan[];
}

/** Collector is a loopback OTLP/HTTP receiver that records every export. */
export interface Collector {
  url: string;
  exports: Export[];
  spans(): OtlpSpan[];
  /** answer sets the status and body of the next answers. */
  answer(status: number, body?: string): void;
  close(): Promise<void>;
}

export async function startCollector(): Promise<Collector> {
  const exports: Export[] = [];
  let status = 200;
  let answerBody = '{}';
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const doc = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: Array<{ resource: { attributes: KeyValue[] }; scopeSpans: Array<{ scope: { name: string; version: string }; spans: OtlpSpan[] }> }>;
      };
      const rs = doc.resourceSpans[0]!;
      exports.push({
        path: req.url!,
        headers: req.headers,
        resource: Object.fromEntries(rs.resource.attributes.map((a) => [a.key, a.value.stringValue!])),
        scope: rs.scopeSpans[0]!.scope,
        spans: rs.scopeSpans.flatMap((s) => s.spans),
      });
      res.writeHead(status, { 'content-type': 'application/json' }).end(answerBody);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    exports,
    spans: () => exports.flatMap((e) => e.spans),
    answer: (s, b = '{}') => {
      status = s;
      answerBody = b;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** attrs flattens a span's attributes to key → value. */
export function attrs(span: OtlpSpan): Record<string, string | number | boolean> {
  return Object.fromEntries(span.attributes.map((a) => [a.key, a.value.stringValue ?? (a.value.intValue !== undefined ? Number(a.value.intValue) : a.value.boolValue!)]));
}

/** metric reads one sample of the exposition text (labels in any order). */
export function metric(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([^{ ]+)(?:\{(.*)\})? (.+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

