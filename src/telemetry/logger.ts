/**
 * The gateway's logger: pino JSON lines, pretty in a terminal, with secrets
 * redacted. JSON lines go to stdout in batches (log-destination.ts: one write
 * per 64 KiB or 200 ms, the rest flushed on exit), so the request path never
 * waits on a write per line. The access log writes to the same destination
 * (access-log.ts), so its lines and the others keep their order.
 */
import cluster from 'node:cluster';
import { pino, type Logger } from 'pino';
import type { GatewayDoc } from '../config/schema.js';
import { BatchDestination } from './log-destination.js';
import { prettyStream } from './pretty.js';

/** stdout is the one batched destination on fd 1, shared by every logger of the process (keeps their lines in order, one buffer). */
let stdout: BatchDestination | undefined;

/** createLogger builds the root logger from gateway.yaml's `log` block. */
export function createLogger(g: GatewayDoc): Logger {
  const pretty = g.log.pretty ?? (process.stdout.isTTY === true && process.env.NODE_ENV !== 'production');
  const redact = g.log.redact.flatMap((h) => [`req.headers.${h}`, `res.headers.${h}`, `headers.${h}`, `headers["${h}"]`]);
  const options = { level: g.log.level, base: { service: 'switchyard' }, redact: { paths: redact, censor: '[redacted]' } };
  // In a terminal, one line per request (pretty.ts); the other lines as pino-pretty prints them.
  if (pretty) return pino(options, prettyStream(process.stdout, process.stdout.isTTY === true));
  // Cluster workers share one stdout pipe: keep each write within PIPE_BUF so lines never interleave.
  stdout ??= new BatchDestination(1, { lineAtomic: cluster.isWorker });
  return pino(options, stdout);
}
