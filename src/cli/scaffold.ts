/**
 * Writing generated files (init, plugin new): all or nothing with respect to
 * existing files — when one already exists and --force is not given, none is
 * written, so a half-scaffolded folder never mixes old and new files.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { relative } from './output.js';

/** ScaffoldFile is one file to write: absolute path and content. */
export interface ScaffoldFile {
  path: string;
  text: string;
}

/** writeScaffold writes every file, or none when one exists and force is false (saying which); returns whether it wrote. */
export async function writeScaffold(files: ScaffoldFile[], force: boolean): Promise<boolean> {
  const existing = files.filter((f) => existsSync(f.path));
  if (existing.length > 0 && !force) {
    for (const f of existing) process.stderr.write(`switchyard: ${relative(f.path)} already exists; nothing written (--force overwrites)\n`);
    return false;
  }
  for (const f of files) {
    await mkdir(dirname(f.path), { recursive: true });
    await writeFile(f.path, f.text);
    process.stdout.write(`wrote ${relative(f.path)}\n`);
  }
  return true;
}
