/**
 * `switchyard diff`'s result: what changed between two configuration models
 * (compare.ts), which requests move (moves.ts) and what a reviewer must not
 * miss (flags.ts), as one JSON-ready report; the CLI, POST /reload?dryRun=1
 * and the dashboard's "last change" all show this same report.
 */
import { compareModels, type ModelChanges } from './compare.js';
import { reviewFlags, type Flag } from './flags.js';
import type { ConfigModel } from './model.js';
import { Evaluator, moveLine, moves, type Move } from './moves.js';
import { sampleFor, sampleKey, type Sample } from './samples.js';

/** DiffReport is everything a diff found. */
export interface DiffReport {
  /** changed is false when the two configurations are the same in every compared respect. */
  changed: boolean;
  flags: Flag[];
  moves: Move[];
  files: ModelChanges['files'];
  items: ModelChanges['items'];
  /** samples counts the requests evaluated (one per route of either side, plus explicit ones). */
  samples: number;
}

/** DiffSummary is a report in a few numbers and lines (GET /config, the dashboard). */
export interface DiffSummary {
  changed: boolean;
  text: string;
  flags: string[];
  moves: string[];
  files: string[];
}

/**
 * diffModels compares two configurations; `extra` are explicit sample
 * requests, evaluated before the ones derived from the routes.
 */
export function diffModels(before: ConfigModel, after: ConfigModel, extra: readonly Sample[] = []): DiffReport {
  const changes = compareModels(before, after);
  const b = new Evaluator(before);
  const a = new Evaluator(after);
  const seen = new Set<string>();
  const samples: Sample[] = [];
  for (const s of [...extra, ...before.routes.map((r) => sampleFor(r.id, r.match)), ...after.routes.map((r) => sampleFor(r.id, r.match))]) {
    const k = sampleKey(s);
    if (!seen.has(k)) samples.push(s);
    seen.add(k);
  }
  const moved = moves(b, a, samples);
  const flags = reviewFlags(before, after, changes, moved, a);
  const changed = changes.items.length > 0 || changes.files.length > 0 || moved.length > 0;
  return { changed, flags, moves: moved, files: changes.files, items: changes.items, samples: samples.length };
}

/** summarize shortens a report for GET /config and the dashboard (at most `max` moves listed). */
export function summarize(r: DiffReport, max = 10): DiffSummary {
  const count = (kind: string) => {
    const of = r.items.filter((i) => i.kind === kind);
    return `${kind}s +${of.filter((i) => i.change === 'added').length} -${of.filter((i) => i.change === 'removed').length} ~${of.filter((i) => i.change === 'changed').length}`;
  };
  const text = r.changed
    ? `${count('route')}; ${count('upstream')}; ${r.moves.length} request${r.moves.length === 1 ? '' : 's'} move; ${r.flags.length} flag${r.flags.length === 1 ? '' : 's'}`
    : 'no change';
  return {
    changed: r.changed,
    text,
    flags: r.flags.map((f) => f.message),
    moves: r.moves.slice(0, max).map(moveLine),
    files: r.files.map((f) => `${f.file} (${f.change})`),
  };
}
