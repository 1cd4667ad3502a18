/**
 * The serving flags (src/process/node-flags.ts): what a process is missing,
 * and `switchyard start` serving in-process saying so at start, through the
 * real CLI — and saying nothing when started as `npm start` starts it.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SERVING_NODE_FLAGS, missingServingFlags } from '../../src/process/node-flags.js';
import { waitFor } from '../../src/testing/index.js';

const REPO = resolve(import.meta.dirname, '../..');

describe('missingServingFlags', () => {
  it('lists the serving flags absent from a process argv, none when all are there', () => {
    expect(SERVING_NODE_FLAGS).toContain('--no-memory-reducer');
    expect(missingServingFlags(['--import', 'tsx'])).toEqual([...SERVING_NODE_FLAGS]);
    expect(missingServingFlags(['--import', 'tsx', ...SERVING_NODE_FLAGS])).toEqual([]);
  });
});

describe('switchyard start in one process', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-flags-'));
    mkdirSync(join(dir, 'routes'));
    writeFileSync(join(dir, 'gateway.yaml'), ['listen: { host: 127.0.0.1, port: 0 }', 'admin: { host: 127.0.0.1, port: 0 }', 'routes: ./routes', 'reload: { watch: false }'].join('\n'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** run starts the CLI with `nodeFlags`, waits until it logged that it listens, stops it; returns its output. */
  async function run(nodeFlags: string[]): Promise<string> {
    const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', 'src/cli/index.ts', 'start', '--workers', '1', '--config', join(dir, 'gateway.yaml')], {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_ENV: 'test' },
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise((r) => child.once('exit', r));
    try {
      // The warning is written in the same turn as the shutdown handlers are set, right after this line.
      await waitFor(() => out.includes('switchyard listening'), { timeout: 30_000, interval: 50, message: 'a started gateway' });
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    // A graceful stop: the log was flushed, so a warning would be in it.
    expect(out).toContain('shutting down');
    return out;
  }

  it('warns, naming the missing flag and how to start it, when started without the serving flags', async () => {
    const out = await run([]);
    const line = out.split('\n').find((l) => l.includes('started without'));
    expect(line, out).toBeDefined();
    const rec = JSON.parse(line!);
    expect(rec.level).toBe(40);
    expect(rec.missing).toEqual([...SERVING_NODE_FLAGS]);
    expect(rec.msg).toContain('node --no-memory-reducer');
  }, 40_000);

  it('says nothing of the kind when started with them, as npm start does', async () => {
    const out = await run([...SERVING_NODE_FLAGS]);
    expect(out).not.toContain('started without');
  }, 40_000);
});
