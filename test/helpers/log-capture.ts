/**
 * captureLog is a pino logger whose JSON lines land, parsed, in an array:
 * tests assert on what the gateway logged without a terminal or a file.
 */
import { Writable } from 'node:stream';
import { pino, type Level, type Logger } from 'pino';

/** LogLine is one parsed pino line. */
export type LogLine = { level: number; msg: string; [key: string]: unknown };

/** captureLog returns a logger at `level` (default info) and the lines it wrote. */
export function captureLog(level: Level = 'info'): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as LogLine);
      cb();
    },
  });
  return { logger: pino({ level }, stream), lines };
}
