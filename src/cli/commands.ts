/**
 * The commands and options of the command line, declared once: the parser
 * (args.ts) checks arguments against them, and `switchyard help [command]`
 * and `--help` print them, so what help says is what the parser accepts.
 */

/** OptionName names one option the command line knows. */
export type OptionName = 'config' | 'workers' | 'header' | 'listener' | 'sni' | 'against' | 'requests' | 'json' | 'force' | 'help' | 'version';

/** OptionSpec is one option: how it is spelt and what it takes. */
export interface OptionSpec {
  short: string;
  /** value names the argument of a string option (shown in help); undefined for a flag. */
  value?: string;
  multiple?: boolean;
  help: string;
}

/** OPTIONS are every option of every command. */
export const OPTIONS: Readonly<Record<OptionName, OptionSpec>> = {
  config: { short: 'c', value: 'FILE', help: 'gateway config (default: $SWITCHYARD_CONFIG, else ./gateway.yaml)' },
  workers: {
    short: 'w',
    value: 'N',
    help: 'worker processes: a number or "auto" (one per CPU); default: gateway.yaml `workers`, else 1 ("auto" with NODE_ENV=production)',
  },
  header: { short: 'H', value: 'LINE', multiple: true, help: 'a request header, "Name: value" (repeatable)' },
  listener: { short: 'l', value: 'NAME', help: 'explain a connection to this stream listener (gateway.yaml `streams`) instead of an HTTP request' },
  sni: { short: 'n', value: 'NAME', help: 'the server name (SNI) the connecting client sends (tls-passthrough listeners)' },
  against: { short: 'a', value: 'FILE|URL', help: 'the configuration before the change: a gateway.yaml, or the admin API of a running gateway (http://127.0.0.1:9901)' },
  requests: { short: 'r', value: 'FILE', help: 'more sample requests, one "METHOD URL [Name: value]..." per line' },
  json: { short: 'j', help: 'print the report as JSON (for CI bots)' },
  force: { short: 'f', help: 'overwrite files that already exist' },
  help: { short: 'h', help: 'show this help' },
  version: { short: 'v', help: 'print the version' },
};

/** CommandSpec is one command: what it takes and what help says about it. */
export interface CommandSpec {
  /** usage is the argument synopsis after `switchyard <name>`. */
  usage: string;
  summary: string;
  /** details is the paragraph `switchyard help <name>` prints under the usage. */
  details: string;
  options: readonly OptionName[];
  /** args is how many positional arguments the command takes, at least and at most. */
  args: readonly [min: number, max: number];
}

/** COMMANDS are the commands, in the order help lists them. */
export const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  start: {
    usage: '[--config FILE] [--workers N|auto]',
    summary: 'Start the gateway',
    details: 'Runs until SIGTERM or SIGINT (graceful: in-flight requests finish), reloads on SIGHUP and when route files change.',
    options: ['config', 'workers'],
    args: [0, 0],
  },
  validate: {
    usage: '[--config FILE]',
    summary: 'Check gateway.yaml, route files and plugin options; exit 1 on any error',
    details: 'Loads and compiles everything without listening or connecting to anything (run it in CI). Every problem is printed as file:line:col: path: message.',
    options: ['config'],
    args: [0, 0],
  },
  routes: {
    usage: '[--config FILE]',
    summary: 'Print the routing table',
    details: 'One row per route: id, match, upstream, plugin chain and the file:line it comes from. Connects to nothing.',
    options: ['config'],
    args: [0, 0],
  },
  explain: {
    usage: "METHOD URL [-H 'Name: value']... [--config FILE]  |  --listener NAME [--sni NAME] [--config FILE]",
    summary: 'Show which route a request (or a stream connection) takes, and why the others do not',
    details:
      'Prints the matching route, why each other candidate did not match, the plugin chain, the upstream and the target its balancer would pick now. URL is a path or a full URL (its host is matched). Connects to nothing, except the admin API of the running gateway (the admin address in gateway.yaml) for the targets of discovered pools; without it, says where they come from at run time. With --listener, explains a connection to a stream listener instead (--sni: the name a TLS client sends). Exit 1 when no route matches.',
    options: ['config', 'header', 'listener', 'sni'],
    args: [0, 2],
  },
  diff: {
    usage: '--against FILE|URL [--config FILE] [--requests FILE] [--json]',
    summary: 'Show what a configuration change does: what changed, which requests move, what a reviewer must not miss',
    details:
      'Compares the configuration of --config (after) with --against (before): a gateway.yaml, or the admin API of a running gateway (its token from $SWITCHYARD_ADMIN_TOKEN, else the admin.token of --config). Routes, upstreams, targets and plugins added, removed or changed, with file:line on both sides; the requests (one per route, and those of --requests) whose route, upstream, chain or split changes; flags ("!") for an auth plugin removed, a route made public, a new route shadowing another, a target outside the usual address ranges, a body limit or timeout raised above the default. Builds no pool and connects to nothing but the admin API. Exit 0 no change, 1 changes, 2 errors (invalid configuration, unreachable gateway, bad --requests line).',
    options: ['config', 'against', 'requests', 'json'],
    args: [0, 0],
  },
  demo: {
    usage: '',
    summary: 'Start local demo upstreams for the shipped example routes',
    details: 'Small HTTP servers on 127.0.0.1:9001-9003 (pool "api") and 9011-9012 (pool "static"), 9021-9022 (pool "api-v2") and 9031 (pool "api-shadow"; it prints each mirrored copy it gets), answering JSON that names the server. Ctrl-C stops them.',
    options: [],
    args: [0, 0],
  },
  init: {
    usage: '[DIR] [--force]',
    summary: 'Write a commented gateway.yaml and an example route file',
    details: 'Writes DIR/gateway.yaml and DIR/routes/example.yaml (DIR: the current directory by default); the result passes `switchyard validate`. Existing files are left alone unless --force is given.',
    options: ['force'],
    args: [0, 1],
  },
  plugin: {
    usage: 'new NAME [--force]',
    summary: 'Scaffold a custom plugin and its test: plugins/NAME/',
    details: "Writes plugins/NAME/index.ts (a working plugin made with definePlugin) and plugins/NAME/NAME.test.ts (a test with a real upstream and the gateway in-process) under the current directory. NAME is lowercase-kebab (e.g. add-tenant) and not a built-in plugin's name.",
    options: ['force'],
    args: [2, 2],
  },
};

/** optionLine renders an option for help: `-c, --config FILE`. */
function optionLine(name: OptionName): string {
  const o = OPTIONS[name];
  return `-${o.short}, --${name}${o.value ? ` ${o.value}` : ''}`;
}

/** table renders two columns, the first padded. */
function table(rows: [string, string][], indent = '  '): string {
  const width = Math.max(...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `${indent}${a.padEnd(width)}   ${b}`).join('\n');
}

/** usage is what `switchyard help` prints. */
export function usage(): string {
  const commands = table(Object.entries(COMMANDS).map(([name, c]) => [name === 'plugin' ? 'plugin new' : name, c.summary]));
  const options = table((['config', 'help', 'version'] as const).map((n) => [optionLine(n), OPTIONS[n].help]));
  return `Usage: switchyard <command> [options]

Commands:
${commands}

Options:
${options}

Run "switchyard help <command>" (or "switchyard <command> --help") for a command's options.
Exit codes: 0 ok, 1 invalid configuration or failed command, 2 usage error (diff: 0 no change, 1 changes, 2 errors).
`;
}

/** commandHelp is what `switchyard help <name>` and `switchyard <name> --help` print. */
export function commandHelp(name: string): string {
  const c = COMMANDS[name]!;
  const options = table([...c.options, 'help' as const].map((n) => [optionLine(n), OPTIONS[n].help]));
  return `Usage: switchyard ${name}${c.usage ? ` ${c.usage}` : ''}

${c.summary}. ${c.details}

Options:
${options}
`;
}
