/**
 * Running the real command line from source (through tsx) as a child
 * process, in any working directory, and collecting its exit code and output.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** ROOT is the repository. */
export const ROOT = resolve(import.meta.dirname, '../..');
const CLI = join(ROOT, 'src/cli/index.ts');
// By URL: `--import tsx` would be resolved from the child's working directory, a temporary one.
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** CliResult is how a command ended. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** runCli runs `switchyard ...args` in cwd and resolves when it exits (killed after timeoutMs). */
export function runCli(args: string[], { cwd = ROOT, timeoutMs = 20_000, env = {} as Record<string, string> } = {}): Promise<CliResult> {
  return new Promise((done, fail) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
    if (env.SWITCHYARD_CONFIG === undefined) delete childEnv.SWITCHYARD_CONFIG; // the default is what is tested
    const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], { cwd, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

/** tempDir makes an empty directory and returns it with its remover. */
export async function tempDir(prefix = 'sy-cli-'): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
