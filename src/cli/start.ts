/**
 * `switchyard start`: run the gateway until SIGTERM/SIGINT (graceful) and
 * reload on SIGHUP and on route-file changes. With more than one worker
 * (`--workers N|auto`, gateway.yaml `workers`), this process becomes the
 * cluster primary and the workers run the gateway (src/cluster/).
 */
import cluster from 'node:cluster';
import { ConfigInvalid } from '../config/errors.js';
import { ListenFailed } from '../front-door/listen-error.js';
import { printConfigErrors, relative } from './output.js';
import { loadConfig } from '../config/load.js';
import { serveUntilStopped } from '../gateway/serve-until-stopped.js';
import { resolveWorkers, runPrimary, WorkerCountInvalid } from '../cluster/primary.js';
import { runWorker } from '../cluster/worker.js';
import { missingServingFlags } from '../process/node-flags.js';

/** start runs the gateway; resolves with -1 (the process stays up) or an exit code. */
export async function start(configFile: string, workersFlag: string | undefined): Promise<number> {
  if (cluster.isWorker) return runWorker(configFile);
  let gw;
  try {
    const workers = resolveWorkers(workersFlag, workersFlag === undefined ? (await loadConfig({ configFile })).gateway.workers : undefined);
    if (workers > 1) return await runPrimary(configFile, workers);
    // The request path (proxy, plugins, undici) is loaded only by the process
    // that serves: a cluster primary never does, and stays small.
    const { createGateway } = await import('../gateway/gateway.js');
    gw = await createGateway({ configFile, ownsProcess: true });
  } catch (err) {
    if (err instanceof ConfigInvalid) {
      printConfigErrors(err);
      return 1;
    }
    if (err instanceof WorkerCountInvalid) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    if (err instanceof ListenFailed) {
      process.stderr.write(`switchyard: ${relative(err.message)}\n`);
      return 1;
    }
    throw err;
  }
  try {
    await gw.listen();
  } catch (err) {
    if (!(err instanceof ListenFailed)) throw err;
    // One line naming the gateway.yaml key, not a stack; what did start (health checks, other listeners) stops.
    process.stderr.write(`switchyard: ${relative(err.message)}\n`);
    await gw.close().catch(() => undefined);
    return 1;
  }
  // This process serves: without the serving flags it runs slower after every quiet spell (node-flags.ts). Said at every start.
  const missing = missingServingFlags();
  if (missing.length > 0) {
    gw.log.warn(
      { missing },
      `started without ${missing.join(' ')}: after a quiet minute V8 deoptimizes the request path and this process serves 11-16 % fewer requests a second; start it with \`node ${missing.join(' ')} …/switchyard start\` (npm start and the container image do)`,
    );
  }
  const shutdown = serveUntilStopped(gw, 'shutting down: finishing in-flight requests');
  const stop = (signal: string) => shutdown({ signal });
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => void gw.reload());
  return -1;
}
