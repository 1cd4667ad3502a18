#!/usr/bin/env node
/**
 * The switchyard command line: start, validate, routes, explain, demo.
 * Exit codes: 0 ok, 1 invalid configuration or failed command, 2 usage.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';

const USAGE = `Usage: switchyard <command> [options]

Commands:
  start      Start the gateway                 [--config FILE] [--workers N]
  validate   Check gateway.yaml, route files and plugin options; exit 1 on any error
  routes     Print the routing table
  explain    Show which route a request takes: explain METHOD URL [-H 'Name: value']...
  demo       Start local demo upstreams for the shipped example routes

Options:
  -c, --config FILE   gateway config (default: $SWITCHYARD_CONFIG or ./gateway.yaml)
  -H, --header LINE   request header for explain (repeatable)
  -w, --workers N     worker processes for start: a number or "auto" (one per CPU);
                      default: gateway.yaml \`workers\`, else 1 ("auto" with NODE_ENV=production)
  -h, --help          this help
`;

/** configPath picks --config, then SWITCHYARD_CONFIG, then ./gateway.yaml. */
export function configPath(flag: string | undefined): string {
  return resolve(flag ?? process.env.SWITCHYARD_CONFIG ?? 'gateway.yaml');
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        header: { type: 'string', short: 'H', multiple: true },
        workers: { type: 'string', short: 'w' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return values.help ? 0 : 2;
  }
  const config = configPath(values.config);
  // Each command loads its own modules: `start` as a cluster primary must not
  // carry the request path that validate/routes/explain load through the gateway.
  switch (command) {
    case 'start':
      return (await import('./start.js')).start(config, values.workers);
    case 'validate':
      return (await import('./validate.js')).validate(config);
    case 'routes':
      return (await import('./routes.js')).routes(config);
    case 'explain':
      return (await import('./explain.js')).explain(config, rest, values.header ?? []);
    case 'demo':
      return (await import('./demo.js')).demo();
    default:
      process.stderr.write(`unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== -1) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`switchyard: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
