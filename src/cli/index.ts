#!/usr/bin/env node
/**
 * The switchyard command line: start, validate, routes, explain, diff, demo,
 * init, plugin new, help. Commands and options are declared in commands.ts.
 * Exit codes: 0 ok, 1 invalid configuration or failed command, 2 usage
 * (diff: 0 no change, 1 changes, 2 errors).
 */
import { resolve } from 'node:path';
import { parse, UsageError } from './args.js';
import { commandHelp, COMMANDS, usage } from './commands.js';
import { gatewayVersion } from '../process/version.js';

/** configPath picks --config, then SWITCHYARD_CONFIG, then ./gateway.yaml. */
export function configPath(flag: string | undefined): string {
  return resolve(flag ?? process.env.SWITCHYARD_CONFIG ?? 'gateway.yaml');
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parse(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    const topic = argv.find((a) => !a.startsWith('-'));
    const more = topic !== undefined && Object.hasOwn(COMMANDS, topic) ? `switchyard help ${topic}` : 'switchyard help';
    process.stderr.write(`switchyard: ${err.message} (see "${more}")\n`);
    return 2;
  }
  const { command, args, values } = parsed;
  if (values.version) {
    process.stdout.write(`switchyard ${gatewayVersion()}\n`);
    return 0;
  }
  if (command === 'help') {
    process.stdout.write(args[0] === undefined ? usage() : commandHelp(args[0]));
    return 0;
  }
  if (command === undefined) {
    // `switchyard` alone asked for nothing: the usage, as an error; `--help` asked for it.
    (values.help ? process.stdout : process.stderr).write(usage());
    return values.help ? 0 : 2;
  }
  if (values.help) {
    process.stdout.write(commandHelp(command));
    return 0;
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
      if (values.listener !== undefined) return (await import('./explain.js')).explainStreamCommand(config, values.listener, values.sni);
      return (await import('./explain.js')).explain(config, args, values.header ?? []);
    case 'diff':
      return (await import('./diff.js')).diff(config, values.against, values.requests, values.json === true);
    case 'demo':
      return (await import('./demo.js')).demo();
    case 'init':
      return (await import('./init.js')).init(args[0] ?? '.', values.force === true);
    case 'plugin':
      return (await import('./plugin-new.js')).pluginNew(args[1]!, values.force === true);
    default:
      throw new Error(`command "${command}" is declared but not wired`);
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
