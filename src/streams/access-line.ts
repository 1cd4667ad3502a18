/**
 * The access-log line of one stream connection (or udp session), written by
 * the precompiled serializer of the HTTP access log (src/telemetry/
 * access-log.ts) instead of pino's generic object path: under short
 * connections pino's path was the costliest thing the gateway itself did per
 * connection (its `asJson`, ~2 % of the CPU in a profile where the whole
 * stream code was ~6 %). The line is byte for byte pino's (checked at start
 * on STREAM_SAMPLE; a mismatch falls back to pino).
 */
import type { LineFormat } from '../telemetry/access-log.js';
import { compileFields } from '../telemetry/line-compiler.js';

/** StreamLine is one line's fields, in the line's order (undefined ones are left out, as pino does). */
export interface StreamLine {
  listener: string;
  route: string | undefined;
  upstream: string | undefined;
  target: string | undefined;
  client: string;
  clientPort: number;
  peer: string | undefined;
  sni: string | undefined;
  durationMs: number;
  bytesIn: number;
  bytesOut: number;
  /** end is how the stream ended (`refused` when it never reached a target). */
  end: string;
  code: string | undefined;
  reason: string | undefined;
  msg: 'stream closed' | 'stream refused';
}

/** STREAM_SAMPLE is the start-up check's record: hostile strings where a client controls them (SNI) and elsewhere. */
const STREAM_SAMPLE: StreamLine = {
  listener: 'l"\\',
  route: 'r\u2028',
  upstream: undefined,
  target: 'é漢字🙂',
  client: '::ffff:127.0.0.1',
  clientPort: 65535,
  peer: '10.0.0.1',
  sni: 'a\u0000"b\\' + 'x'.repeat(101),
  durationMs: 12,
  bytesIn: 2 ** 53,
  bytesOut: Number.NaN,
  end: 'closed',
  code: '\ud800',
  reason: 'why "not"\n',
  msg: 'stream closed',
};

/** STREAM_LINE renders a StreamLine's fields (compiled once: line-compiler.ts). */
export const STREAM_LINE: LineFormat<StreamLine> = {
  fields: compileFields<StreamLine>([
    ['listener', 'string'],
    ['route', 'string'],
    ['upstream', 'string'],
    ['target', 'string'],
    ['client', 'string'],
    ['clientPort', 'number'],
    ['peer', 'string'],
    ['sni', 'string'],
    ['durationMs', 'number'],
    ['bytesIn', 'number'],
    ['bytesOut', 'number'],
    ['end', 'string'],
    ['code', 'string'],
    ['reason', 'string'],
    ['msg', 'string'],
  ]),
  sample: STREAM_SAMPLE,
};
