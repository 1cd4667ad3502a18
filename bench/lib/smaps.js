/**
 * Where a process's resident memory is, from /proc/<pid>/smaps (Linux):
 * the node executable's own pages (file-backed, shared by every node process
 * of the machine but counted in each one's RSS), other shared libraries, the
 * V8 heap (anonymous 256 KiB pages: V8 reserves its heap in 256 KiB chunks)
 * and the rest of the anonymous memory (malloc: the main heap and the arenas
 * of V8's and libuv's threads, JIT and wasm code, thread stacks).
 */
import { readFileSync } from 'node:fs';

const REGION = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/;

/** memoryMap returns resident bytes by area: { rss, executable, libraries, v8Pages, otherAnon } (undefined when /proc is not readable). */
export function memoryMap(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return undefined;
  }
  const out = { rss: 0, executable: 0, libraries: 0, v8Pages: 0, otherAnon: 0 };
  let area = 'otherAnon';
  for (const line of text.split('\n')) {
    const region = REGION.exec(line);
    if (region) {
      const size = parseInt(region[2], 16) - parseInt(region[1], 16);
      const name = region[3];
      if (name.startsWith('/')) area = /\/node$/.test(name) ? 'executable' : 'libraries';
      else area = name === '' && size === 256 * 1024 ? 'v8Pages' : 'otherAnon';
      continue;
    }
    if (line.startsWith('Rss:')) {
      const bytes = Number(/(\d+)/.exec(line)[1]) * 1024;
      out[area] += bytes;
      out.rss += bytes;
    }
  }
  return out;
}
