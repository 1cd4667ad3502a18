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
import { Field, Num } from '../telemetry/line-writer.js';

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

const LISTENER = new Field('listener');
const ROUTE = new Field('route');
const UPSTREAM = new Field('upstream');
const TARGET = new Field('target');
const CLIENT = new Field('client');
const CLIENT_PORT = new Num('clientPort');
const PEER = new Field('peer');
const SNI = new Field('sni');
const DURATION_MS = new Num('durationMs');
const BYTES_IN = new Num('bytesIn');
const BYTES_OUT = new Num('bytesOut');
const END = new Field('end');
const CODE = new Field('code');
const REASON = new Field('reason');
const MSG = new Field('msg');

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

/** STREAM_LINE renders a StreamLine's fields. */
export const STREAM_LINE: LineFormat<StreamLine> = {
  fields: (w, r) => {
    LISTENER.write(w, r.listener);
    ROUTE.write(w, r.route);
    UPSTREAM.write(w, r.upstream);
    TARGET.write(w, r.target);
    CLIENT.write(w, r.client);
    CLIENT_PORT.write(w, r.clientPort);
    PEER.write(w, r.peer);
    SNI.write(w, r.sni);
    DURATION_MS.write(w, r.durationMs);
    BYTES_IN.write(w, r.bytesIn);
    BYTES_OUT.write(w, r.bytesOut);
    END.write(w, r.end);
    CODE.write(w, r.code);
    REASON.write(w, r.reason);
    MSG.write(w, r.msg);
  },
  sample: STREAM_SAMPLE,
};
