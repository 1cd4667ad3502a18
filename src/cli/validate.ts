/**
 * `switchyard validate`: load and compile everything without listening or
 * dialling anything; print every error with file:line; exit 1 on any.
 */
import { pino } from 'pino';
import { ConfigInvalid } from '../config/errors.js';
import { createGateway } from '../gateway/gateway.js';

/** validate checks a configuration; returns the exit code. */
export async function validate(configFile: string): Promise<number> {
  try {
    const gw = await createGateway({ configFile, logger: pino({ level: 'silent' }), offline: true });
    const rt = gw.runtime;
    process.stdout.write(`ok: ${rt.routes.length} routes, ${rt.upstreams.size} upstreams in ${rt.sources.length} files\n`);
    await gw.close();
    return 0;
  } catch (err) {
    if (err instanceof ConfigInvalid) {
      for (const e of err.errors) process.stderr.write(`${e.format()}\n`);
      process.stderr.write(`${err.errors.length} error${err.errors.length === 1 ? '' : 's'}\n`);
      return 1;
    }
    throw err;
  }
}
