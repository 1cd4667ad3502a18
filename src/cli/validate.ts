/**
 * `switchyard validate`: load and compile everything without listening or
 * dialling anything; print every error with file:line; exit 1 on any.
 * Warnings compiling logs (a route that makes discovery.autoRoutes
 * unreachable) are printed as `warning: ...` on stderr and do not fail it.
 */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { ConfigInvalid } from '../config/errors.js';
import { plural, printConfigErrors } from './output.js';
import { createGateway } from '../gateway/gateway.js';

/** validate checks a configuration; returns the exit code. */
export async function validate(configFile: string): Promise<number> {
  try {
    const gw = await createGateway({ configFile, logger: pino({ level: 'warn' }, warnings()), offline: true });
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

/** warnings is a log destination that prints each line's message as `warning: <msg>` on stderr. */
function warnings(): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        try {
          process.stderr.write(`warning: ${String((JSON.parse(line) as { msg?: unknown }).msg)}\n`);
        } catch {
          process.stderr.write(line + '\n');
        }
      }
      done();
    },
  });
}
