/**
 * The life of a serving process after listen(): watch the configuration (when
 * gateway.yaml asks for it) and stop once, cleanly, when told — the same for
 * `switchyard start` and for each worker of `--workers N`.
 */
import type { Gateway } from './gateway.js';
import { watchConfig } from './watch.js';

/**
 * serveUntilStopped starts the config watch and returns the stop function: the
 * first call logs `message` with `fields`, stops watching, finishes in-flight
 * requests (gw.close) and exits 0, or 1 when closing failed; later calls do
 * nothing (a second signal during shutdown must not start another).
 */
export function serveUntilStopped(gw: Gateway, message: string): (fields: Record<string, string>) => void {
  const stopWatching = gw.config.reload.watch ? watchConfig(gw) : () => undefined;
  let stopping = false;
  return (fields) => {
    if (stopping) return;
    stopping = true;
    gw.log.info(fields, message);
    stopWatching();
    gw.close().then(
      () => process.exit(0),
      (err: unknown) => {
        gw.log.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
}
