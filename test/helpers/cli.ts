/**
 * The real CLI process for tests: `switchyard start` from source (through
 * tsx), its ports read from its "listening" log line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { waitFor } from '../../src/testing/index.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** startCli runs `switchyard start` from source (through tsx) and resolves with the public port from its log (waiting up to `startTimeout` ms); `env` is added to the environment. */
export async function startCli(
  configFile: string,
  args: string[] = [],
  { env = {}, startTimeout = 20000 }: { env?: NodeJS.ProcessEnv; startTimeout?: number } = {},
): Promise<{ child: ChildProcess; port: number; adminPort: number; exited: Promise<number | null>; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/index.ts'), 'start', '--config', configFile, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const line = await waitFor(() => out.split('\n').find((l) => l.includes('switchyard listening')), { timeout: startTimeout, message: `gateway start; output so far:\n${out}` });
  const { port, adminPort } = JSON.parse(line) as { port: number; adminPort: number };
  return { child, port, adminPort, exited, output: () => out };
}

