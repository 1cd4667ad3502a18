/**
 * A diff report for people: flags first (each marked "!"), then the requests
 * that move, then what changed item by item with file:line on both sides,
 * then the files. Secrets show as "changed (secret)", never as values.
 */
import type { FieldChange, ItemChange } from './compare.js';
import type { DiffReport } from './diff.js';
import type { Where } from './model.js';
import { moveLine } from './moves.js';

const plural = (n: number, noun: string, many = `${noun}s`) => `${n} ${n === 1 ? noun : many}`;
const at = (w: Where | undefined) => (w ? `${w.file}:${w.line}` : '');

/** MAX_VALUE is how much of a value a line shows before cutting it. */
const MAX_VALUE = 120;

function show(v: unknown): string {
  if (v === undefined) return '(none)';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > MAX_VALUE ? `${s.slice(0, MAX_VALUE - 1)}…` : s;
}

function field(f: FieldChange): string {
  if (f.secret) return `${f.path}: changed (secret)`;
  return `${f.path}: ${show(f.before)} → ${show(f.after)}`;
}

const SIGN = { added: '+', removed: '-', changed: '~' } as const;
const TITLES: Record<ItemChange['kind'], string> = { route: 'Routes', 'stream-route': 'Stream routes', upstream: 'Upstreams', target: 'Targets', chain: 'Global chain', settings: 'Gateway settings' };

function where(i: ItemChange): string {
  if (i.change === 'added') return at(i.after);
  if (i.change === 'removed') return `was ${at(i.before)}`;
  if (!i.before || !i.after) return at(i.after ?? i.before) || i.file;
  return at(i.before) === at(i.after) ? at(i.after) : `${at(i.before)} → ${at(i.after)}`;
}

/** renderReport renders a report as plain text; `title` names the two sides (`before → after`). */
export function renderReport(r: DiffReport, title: string): string {
  const out: string[] = [`switchyard diff: ${title}`];
  if (!r.changed) {
    out.push('no change');
    return out.join('\n') + '\n';
  }
  if (r.flags.length > 0) {
    out.push('', `Flags (${r.flags.length}):`);
    for (const f of r.flags) out.push(`  ! ${f.message}`);
  }
  out.push('', r.moves.length > 0 ? `What moves (${plural(r.moves.length, 'request')} of ${r.samples}):` : `What moves: nothing (${plural(r.samples, 'request')} evaluated)`);
  for (const m of r.moves) out.push(`  ${moveLine(m)}`);
  for (const kind of Object.keys(TITLES) as ItemChange['kind'][]) {
    const items = r.items.filter((i) => i.kind === kind);
    if (items.length === 0) continue;
    const counts = (['added', 'removed', 'changed'] as const).map((c) => [c, items.filter((i) => i.change === c).length] as const).filter(([, n]) => n > 0);
    out.push('', `${TITLES[kind]} (${counts.map(([c, n]) => `${n} ${c}`).join(', ')}):`);
    const width = Math.max(...items.map((i) => i.name.length));
    for (const i of items) {
      out.push(`  ${SIGN[i.change]} ${i.name.padEnd(width)}  ${where(i)}`);
      for (const f of i.fields ?? []) out.push(`      ${field(f)}`);
    }
  }
  if (r.files.length > 0) {
    out.push('', `Files (${r.files.length}):`);
    for (const f of r.files) out.push(`  ${SIGN[f.change]} ${f.file}`);
  }
  return out.join('\n') + '\n';
}
