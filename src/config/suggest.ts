/**
 * "Did you mean ...?" for misspelt keys, enum values and upstream names.
 * A small Levenshtein distance is enough: candidate lists are a few dozen
 * names at most, and it runs only when a config is already wrong.
 */

/** distance is the Levenshtein edit distance between two strings (insert, delete, substitute). */
export function distance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  // One row of the DP table is enough: row[j] is the distance of a[0..i) to b[0..j).
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + cost);
    }
    row = next;
  }
  return row[b.length]!;
}

/**
 * suggest returns the candidate closest to `word` (case-insensitive), or
 * undefined when none is close: within max(2, a third of the word's length)
 * edits, and fewer edits than the word has characters, so "x" never
 * "means" "ip". Ties go to the earlier candidate. Failing that, a candidate
 * that the word starts with, or that starts with the word (3+ letters).
 */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toLowerCase();
  const limit = Math.min(Math.max(2, Math.floor(w.length / 3)), w.length - 1);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    if (c === word) continue;
    const d = distance(w, c.toLowerCase());
    if (d <= limit && d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  if (best !== undefined || w.length < 3) return best;
  // A word cut short or run on ("warning" for "warn", "least" for "least-connections").
  for (const c of candidates) {
    const l = c.toLowerCase();
    if (l.length >= 3 && (l.startsWith(w) || w.startsWith(l))) return c;
  }
  return undefined;
}

/** didYouMean renders a suggestion as `did you mean "users"?`, or undefined when there is none. */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const s = suggest(word, candidates);
  return s === undefined ? undefined : `did you mean "${s}"?`;
}
