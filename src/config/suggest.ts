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
 * ALIASES are names other gateways and proxies give the same thing (nginx,
 * HAProxy, Envoy, Traefik spell balancers their own way). They are never
 * accepted as config values: they only feed the suggestion, so a config
 * keeps one spelling per concept. Keys are lowercase with `_` and spaces
 * folded to `-` (see aliasKey).
 */
const ALIASES: ReadonlyMap<string, string> = new Map(Object.entries({
  // round robin: HAProxy `roundrobin`, Envoy `ROUND_ROBIN`, shorthand `rr`
  roundrobin: 'round-robin',
  rr: 'round-robin',
  // weighted round robin: shorthand `wrr`, HAProxy `static-rr`, Traefik `wrr`
  wrr: 'weighted-round-robin',
  weighted: 'weighted-round-robin',
  weightedroundrobin: 'weighted-round-robin',
  'weighted-rr': 'weighted-round-robin',
  'static-rr': 'weighted-round-robin',
  // least connections: nginx `least_conn`, HAProxy `leastconn`, Envoy `LEAST_REQUEST`
  leastconn: 'least-connections',
  'least-conn': 'least-connections',
  leastconnections: 'least-connections',
  'least-connection': 'least-connections',
  'least-request': 'least-connections',
  leastrequest: 'least-connections',
  lc: 'least-connections',
  // client address hashing: nginx `ip_hash`, HAProxy `source`
  iphash: 'ip-hash',
  source: 'ip-hash',
  'source-ip': 'ip-hash',
  // random (Envoy `RANDOM` needs no alias: case is folded anyway)
  rand: 'random',
}));

/** aliasKey folds a word the way ALIASES keys are written: lowercase, `_` and spaces as `-`. */
function aliasKey(word: string): string {
  return word.trim().toLowerCase().replace(/[_\s]+/g, '-');
}

/**
 * suggest returns the candidate closest to `word` (case-insensitive), or
 * undefined when none is close: within max(2, a third of the word's length)
 * edits, and fewer edits than the word has characters, so "x" never
 * "means" "ip". Ties go to the earlier candidate. Failing that, a candidate
 * that the word starts with, or that starts with the word (3+ letters).
 * An alias (ALIASES) of a candidate is suggested before any of that.
 */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  const list = [...candidates];
  // Another product's name for a candidate beats spelling distance ("rr" is 2 edits from "ip-hash" too).
  const key = aliasKey(word);
  const alias = ALIASES.get(key) ?? ALIASES.get(key.replace(/-/g, ''));
  if (alias !== undefined && alias !== word && list.includes(alias)) return alias;
  const w = word.toLowerCase();
  const limit = Math.min(Math.max(2, Math.floor(w.length / 3)), w.length - 1);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of list) {
    if (c === word) continue;
    const d = distance(w, c.toLowerCase());
    if (d <= limit && d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  if (best !== undefined || w.length < 3) return best;
  // A word cut short or run on ("warning" for "warn", "least" for "least-connections").
  for (const c of list) {
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
