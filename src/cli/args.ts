/**
 * Parsing the command line against COMMANDS and OPTIONS. Every mistake is a
 * UsageError: one line saying what is wrong and, where there is one, the
 * likely intended spelling — never node's raw parseArgs message.
 */
import { parseArgs } from 'node:util';
import { suggest } from '../config/suggest.js';
import { COMMANDS, OPTIONS, type OptionName } from './commands.js';

/** UsageError is a mistake in the command line (exit code 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Parsed is a command line that passed every check. */
export interface Parsed {
  /** command is undefined when none was given (`switchyard`, `switchyard --version`). */
  command: string | undefined;
  args: string[];
  values: { config?: string; workers?: string; header?: string[]; listener?: string; sni?: string; against?: string; requests?: string; json?: boolean; force?: boolean; help?: boolean; version?: boolean };
}

const NAMES = Object.keys(OPTIONS) as OptionName[];

/** parse checks argv (without node and the script); throws UsageError. */
export function parse(argv: string[]): Parsed {
  const options = Object.fromEntries(
    NAMES.map((n) => [n, { type: OPTIONS[n].value ? ('string' as const) : ('boolean' as const), short: OPTIONS[n].short, multiple: OPTIONS[n].multiple === true }]),
  );
  // Not strict: unknown options come back as tokens, so the message is ours, with a suggestion.
  const { positionals, tokens } = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  const [command, ...args] = positionals;
  const spec = command !== undefined && Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (command !== undefined && command !== 'help' && spec === undefined) {
    const hint = suggest(command, [...Object.keys(COMMANDS), 'help']);
    throw new UsageError(`unknown command "${command}"${hint ? `; did you mean "${hint}"?` : ` (commands: ${Object.keys(COMMANDS).join(', ')}, help)`}`);
  }
  const of = command === undefined || command === 'help' ? '' : ` of "${command}"`;
  // --help and --version go with every command; the others only with the commands that take them.
  const allowed = new Set<OptionName>(['help', 'version', ...(spec?.options ?? [])]);
  const values: Parsed['values'] = {};
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const name = (NAMES as string[]).includes(t.name) ? (t.name as OptionName) : undefined;
    if (name === undefined) {
      const long = t.rawName.startsWith('--');
      const hint = long ? suggest(t.name, allowed) : undefined;
      throw new UsageError(`unknown option ${t.rawName}${hint ? `; did you mean --${hint}?` : ''}`);
    }
    if (!allowed.has(name)) throw new UsageError(`${t.rawName} is not an option${of}`);
    const o = OPTIONS[name];
    if (o.value !== undefined) {
      if (t.value === undefined || t.value === '') throw new UsageError(`${t.rawName} needs a value: ${t.rawName} ${o.value}`);
      if (name === 'header') (values.header ??= []).push(t.value);
      else values[name as 'config' | 'workers' | 'listener' | 'sni' | 'against' | 'requests'] = t.value;
    } else {
      if (t.inlineValue) throw new UsageError(`${t.rawName} takes no value`);
      values[name as 'json' | 'force' | 'help' | 'version'] = true;
    }
  }
  if (spec !== undefined && !values.help && !values.version) checkArgs(command!, args);
  if (command === 'help' && args.length > 0 && !Object.hasOwn(COMMANDS, args[0]!)) {
    const hint = suggest(args[0]!, Object.keys(COMMANDS));
    throw new UsageError(`no help for "${args[0]}": it is not a command${hint ? `; did you mean "${hint}"?` : ''}`);
  }
  return { command, args, values };
}

/** checkArgs checks a command's positional arguments against its COMMANDS entry. */
function checkArgs(command: string, args: string[]): void {
  const spec = COMMANDS[command]!;
  const synopsis = `switchyard ${command}${spec.usage ? ` ${spec.usage}` : ''}`;
  if (command === 'plugin' && args[0] !== 'new') {
    throw new UsageError(args[0] === undefined ? `plugin needs a subcommand: ${synopsis}` : `unknown plugin command "${args[0]}": ${synopsis}`);
  }
  const [min, max] = spec.args;
  if (args.length < min) throw new UsageError(`missing arguments: ${synopsis}`);
  if (args.length > max) throw new UsageError(`unexpected argument "${args[max]}": ${synopsis}`);
}
