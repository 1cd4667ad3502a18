/**
 * captureLog is a pino logger whose JSON lines land, parsed, in an array:
 * tests assert on what the gateway logged without a terminal or a file.
 * JSON.parse keeps the last of two equal keys silently, so each raw line is
 * also checked for duplicate keys (`duplicates`): log processors disagree on
 * which copy wins.
 */
import { Writable } from 'node:stream';
import { pino, type Level, type Logger } from 'pino';

/** LogLine is one parsed pino line. */
export type LogLine = { level: number; msg: string; [key: string]: unknown };

/** CapturedLog is a logger and what it wrote. */
export interface CapturedLog {
  logger: Logger;
  lines: LogLine[];
  /** duplicates lists `key in <raw line>` for every object key a line repeats (none expected). */
  duplicates: string[];
}

/** captureLog returns a logger at `level` (default info) and the lines it wrote. */
export function captureLog(level: Level = 'info'): CapturedLog {
  const lines: LogLine[] = [];
  const duplicates: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        lines.push(JSON.parse(line) as LogLine);
        for (const key of duplicateKeys(line)) duplicates.push(`${key} in ${line}`);
      }
      cb();
    },
  });
  return { logger: pino({ level }, stream), lines, duplicates };
}

/** duplicateKeys returns the keys that appear twice in one object of a JSON text (at any depth). */
export function duplicateKeys(json: string): string[] {
  const found: string[] = [];
  const stack: Array<Set<string> | null> = []; // a Set per open object, null per open array
  let i = 0;
  let expectKey = false;
  while (i < json.length) {
    const c = json[i]!;
    if (c === '"') {
      let j = i + 1;
      while (json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      const keys = stack[stack.length - 1];
      if (expectKey && keys) {
        const key = JSON.parse(json.slice(i, j + 1)) as string;
        if (keys.has(key)) found.push(key);
        keys.add(key);
      }
      expectKey = false;
      i = j + 1;
      continue;
    }
    if (c === '{') {
      stack.push(new Set());
      expectKey = true;
    } else if (c === '[') stack.push(null);
    else if (c === '}' || c === ']') stack.pop();
    else if (c === ',') expectKey = stack[stack.length - 1] != null;
    i++;
  }
  return found;
}
