/**
 * The terminal view of the log (log.pretty, or stdout is a TTY): one line per
 * request — time, method, path, route → upstream/target, status, ms, bytes,
 * request id, and the error code and plugin when there are some — where
 * pino-pretty would print ~15 lines of fields. Every other line goes through
 * pino-pretty unchanged. It runs in the process (not a worker transport): a
 * formatter function cannot cross to a worker, and a terminal is for a human
 * watching a few requests, not for production throughput.
 */
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';

/**
 * pino-pretty (with its dependencies, ~1 MiB of heap) is required only when a
 * terminal view is built: production logs JSON and never pays for it. A
 * synchronous require keeps createLogger synchronous; the package is CommonJS.
 */
const requirePretty = (): typeof import('pino-pretty') => createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');

/** AccessFields is the part of an access-log line the terminal view prints. */
interface AccessFields {
  time?: number;
  kind?: string;
  reqId?: string;
  method?: string;
  path?: string;
  route?: string | null;
  upstream?: string;
  target?: string;
  status?: number;
  ms?: number;
  bytes?: number;
  code?: string;
  plugin?: string;
  err?: string;
  suppressed?: number;
}

const ESC = '\u001b[';
const paint = (on: boolean, code: number, s: string) => (on ? `${ESC}${code}m${s}${ESC}0m` : s);

/** statusColor: 2xx green, 3xx cyan, 4xx yellow, 5xx red (ANSI codes). */
const statusColor = (s: number) => (s >= 500 ? 31 : s >= 400 ? 33 : s >= 300 ? 36 : 32);

/** clock formats epoch ms as local HH:MM:ss.mmm (pino-pretty's SYS:HH:MM:ss.l). */
function clock(t: number | undefined): string {
  const d = t === undefined ? new Date() : new Date(t);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** accessLine renders one access-log record as a single terminal line. */
export function accessLine(a: AccessFields, color: boolean): string {
  const status = a.status ?? 0;
  const where = a.route === null || a.route === undefined ? '(unrouted)' : `${a.route} → ${a.upstream ?? '-'}${a.target !== undefined ? '/' + a.target : ''}`;
  const parts = [
    paint(color, 90, clock(a.time)),
    `${a.method ?? '-'} ${a.path ?? '-'}`,
    paint(color, 90, where),
    paint(color, statusColor(status), String(status)),
    `${a.ms ?? 0}ms`,
    ...(a.bytes !== undefined ? [`${a.bytes}B`] : []),
    paint(color, 90, `id=${a.reqId ?? '-'}`),
  ];
  if (a.code !== undefined) parts.push(paint(color, statusColor(status), a.code));
  if (a.plugin !== undefined) parts.push(`plugin=${a.plugin}`);
  if (a.err !== undefined) parts.push(paint(color, 31, `err="${a.err}"`));
  return parts.join(' ') + '\n';
}

/** prettyStream returns the destination that renders pino's JSON lines for a terminal into `out`. */
export function prettyStream(out: NodeJS.WritableStream, color: boolean): Writable {
  const other = requirePretty().prettyFactory({ colorize: color, translateTime: 'SYS:HH:MM:ss.l' });
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      let text = '';
      for (const line of chunk.toString().split('\n')) {
        if (line === '') continue;
        let rec: AccessFields;
        try {
          rec = JSON.parse(line) as AccessFields;
        } catch {
          text += line + '\n';
          continue;
        }
        // Access lines of requests (a reqId); the access logger's own notices (suppressed lines) read better as pino-pretty prints them.
        text += rec.kind === 'access' && rec.reqId !== undefined ? accessLine(rec, color) : other(rec);
      }
      out.write(text);
      cb();
    },
  });
}
