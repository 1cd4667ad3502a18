/**
 * The gateway's logger: pino JSON lines, pretty in a terminal, with secrets
 * redacted. Logging is asynchronous (a buffered destination) so the request
 * path never waits on a write.
 */
import { pino, type Logger } from 'pino';
import type { GatewayDoc } from '../config/schema.js';
import { prettyStream } from './pretty.js';

/** createLogger builds the root logger from gateway.yaml's `log` block. */
export function createLogger(g: GatewayDoc): Logger {
  const pretty = g.log.pretty ?? (process.stdout.isTTY === true && process.env.NODE_ENV !== 'production');
  const redact = g.log.redact.flatMap((h) => [`req.headers.${h}`, `res.headers.${h}`, `headers.${h}`, `headers["${h}"]`]);
  const options = { level: g.log.level, base: { service: 'switchyard' }, redact: { paths: redact, censor: '[redacted]' } };
  // In a terminal, one line per request (pretty.ts); the other lines as pino-pretty prints them.
  if (pretty) return pino(options, prettyStream(process.stdout, process.stdout.isTTY === true));
  // Buffered so busy access logging costs few writes, but flushed every 200ms
  // so a quiet gateway's lines (startup, transitions) still show up at once.
  const dest = pino.destination({ sync: false, minLength: 4096 });
  setInterval(() => {
    try {
      dest.flush();
    } catch {
      /* not ready yet or already closed: the next tick tries again */
    }
  }, 200).unref();
  return pino(options, dest);
}
