/**
 * A cluster worker: one full gateway sharing the public port with its
 * siblings (node:cluster hands out connections), without an admin listener —
 * the primary serves the admin API and asks the workers over IPC. A worker
 * watches the config files itself, shuts down gracefully when the primary
 * says so (or disappears), and exits 0 when done.
 */
import { gatewayBackend } from '../gateway/admin-backend.js';
import { ConfigInvalid } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import type { Gateway } from '../gateway/gateway.js';
import { ListenFailed } from '../front-door/listen-error.js';
import { createLogger } from '../telemetry/logger.js';
import { PromMetrics } from '../telemetry/metrics.js';
import { serveUntilStopped } from '../gateway/serve-until-stopped.js';
import { report, serve } from './ipc.js';

/** WORKER_ENV carries a worker's slot number (1..N, kept across restarts) from the primary. */
export const WORKER_ENV = 'SWITCHYARD_WORKER';

/** runWorker starts the gateway in a worker; resolves -1 (it keeps running) or an exit code. */
export async function runWorker(configFile: string): Promise<number> {
  const slot = Number(process.env[WORKER_ENV] ?? 0);
  let gw: Gateway;
  try {
    const loaded = await loadConfig({ configFile });
    const log = createLogger(loaded.gateway).child({ worker: slot });
    // Imported here, not at the top: the primary imports WORKER_ENV from this
    // file and must not load the request path it never runs.
    const { createGateway } = await import('../gateway/gateway.js');
    gw = await createGateway({ configFile, logger: log, noAdmin: true, ownsProcess: true });
    await gw.listen();
  } catch (err) {
    const text = err instanceof ConfigInvalid ? err.errors.map((e) => e.format()).join('\n') : err instanceof ListenFailed ? err.message : String((err as Error)?.stack ?? err);
    process.stderr.write(`switchyard worker ${slot}: ${text}\n`);
    await report({ sy: 'failed', error: text });
    // The IPC channel would keep the process alive.
    process.exit(1);
  }
  const metrics = gw.observer.metrics instanceof PromMetrics ? gw.observer.metrics.registry : undefined;
  const backend = gatewayBackend(gw);
  const shutdown = serveUntilStopped(gw, 'worker shutting down: finishing in-flight requests');
  const stop = (why: string) => shutdown({ why });
  serve(async (op, args) => {
    switch (op) {
      case 'shutdown':
        stop('primary');
        return true;
      case 'drain':
        return backend.drain(args[0] as string, args[1] as number, args[2] as boolean);
      case 'metrics':
        // JSON, for the primary's AggregatorRegistry.aggregate.
        return metrics ? metrics.getMetricsAsJSON() : [];
      default:
        return backend[op]();
    }
  });
  // Signals reach the whole process group from a terminal; the primary
  // coordinates, but a worker that gets one shuts down the same way.
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => undefined); // reloads come from the primary, once per worker
  // A primary that died cannot restart anyone: finish and leave.
  process.on('disconnect', () => stop('primary gone'));
  void report({ sy: 'listening', port: gw.port });
  return -1;
}
