/**
 * `switchyard validate`: load and compile everything without listening or
 * dialling anything; print every error with file:line; exit 1 on any.
 */
import { pino } from 'pino';
import { ConfigInvalid } from '../config/errors.js';
import { plural, printConfigErrors } from './output.js';
import { createGateway } from '../gateway/gateway.js';

/** validate checks a configuration; returns the exit code. */
export async function validate(configFile: string): Promise<number> {
  try {
    const gw = await createGateway({ configFile, logger: pino({ level: 'silent' }), offline: true });
    const rt = gw.runtime;
    process.stdout.write(`ok: ${plural(rt.routes.length, 'route')}, ${plural(rt.upstreams.size, 'upstream')} in ${plural(rt.sources.length, 'file')}\n`);
    await gw.close();
    return 0;
  } catch (err) {
    if (err instanceof ConfigInvalid) {
      printConfigErrors(err, { count: true });
      return 1;
    }
    throw err;
  }
}
