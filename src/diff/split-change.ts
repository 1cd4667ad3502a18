/**
 * What a change to a route's canary split does to its cohorts, in the terms a
 * reviewer decides on: weighted legs take buckets 0-99 from bucket 0 in the
 * order they are listed (proxy/split-plan.ts), so comparing which pool owns
 * each bucket before and after says exactly which share of the cohorts moves
 * where: raising a canary's weight only adds cohorts, lowering it moves only
 * those above the new line, and a new key or salt re-draws every cohort.
 * Reads the split as written (the diff never compiles a configuration).
 */

/** SplitSide is one side's route as the diff sees it: its id, primary pool and split as written. */
export interface SplitSide {
  route: string;
  upstream: string;
  split?: unknown;
}

interface Leg {
  upstream: string;
  weight?: number;
  when?: unknown;
}

interface SplitDoc {
  by?: string;
  cookie?: string;
  salt?: string;
  to?: Leg[];
  fallback?: string | number;
}

/** owners maps each bucket 0-99 to the pool that serves it (the primary where no weighted leg reaches). */
function owners(side: SplitSide): string[] {
  const out: string[] = new Array<string>(100).fill(side.upstream);
  const doc = side.split as SplitDoc | undefined;
  let next = 0;
  for (const leg of doc?.to ?? []) {
    if (leg.when !== undefined || typeof leg.weight !== 'number') continue;
    for (let i = 0; i < leg.weight && next < 100; i++) out[next++] = leg.upstream;
  }
  return out;
}

/** keyOf names what a side's cohorts are drawn from: the key and the salt (the route id by default). */
function keyOf(side: SplitSide): string {
  const doc = side.split as SplitDoc | undefined;
  const by = doc?.by ?? `cookie ${doc?.cookie ?? 'sy-cohort'} (set by the gateway)`;
  return `${by}, salt ${doc?.salt ?? side.route}`;
}

const overridesOf = (side: SplitSide) => JSON.stringify(((side.split as SplitDoc | undefined)?.to ?? []).filter((l) => l.when !== undefined));

/** ranges writes a sorted bucket list as "10-49" / "3, 7-9". */
function ranges(buckets: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < buckets.length; ) {
    let j = i;
    while (j + 1 < buckets.length && buckets[j + 1] === buckets[j]! + 1) j++;
    parts.push(i === j ? `${buckets[i]}` : `${buckets[i]}-${buckets[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

/**
 * describeSplitChange says what moves between two sides of one route:
 * "split added: 10 % of cohorts (header:x-user) api → api-v2 (buckets 0-9); 1 override".
 * Cohorts are per key value; a request without the key always goes to the primary.
 */
export function describeSplitChange(b: SplitSide, a: SplitSide): string {
  const head = b.split === undefined ? 'split added' : a.split === undefined ? 'split removed' : 'split changed';
  const parts: string[] = [];
  const rekeyed = b.split !== undefined && a.split !== undefined && keyOf(b) !== keyOf(a);
  if (rekeyed) parts.push(`cohorts re-drawn: key ${keyOf(b)} → ${keyOf(a)} (a user may change sides)`);
  const ob = owners(b);
  const oa = owners(a);
  const flows = new Map<string, number[]>();
  for (let i = 0; i < 100; i++) {
    if (ob[i] === oa[i]) continue;
    const k = `${ob[i]} → ${oa[i]}`;
    flows.set(k, [...(flows.get(k) ?? []), i]);
  }
  const key = (a.split ?? b.split) !== undefined ? ` (${keyOf(a.split !== undefined ? a : b).split(',')[0]})` : '';
  for (const [flow, buckets] of flows) parts.push(`${buckets.length} % of cohorts${key} ${flow} (buckets ${ranges(buckets)})`);
  if (flows.size > 0 && !rekeyed) {
    // The promise of the weights: say it when it holds, so a reviewer need not work it out.
    const canaries = new Set([...ob, ...oa].filter((u) => u !== a.upstream && u !== b.upstream));
    const leaving = [...canaries].filter((u) => ob.some((o, i) => o === u && oa[i] !== u));
    if (leaving.length === 0 && canaries.size > 0) parts.push(`no cohort leaves ${[...canaries].join(', ')}`);
  }
  if (overridesOf(b) !== overridesOf(a)) {
    const n = JSON.parse(overridesOf(a)).length as number;
    parts.push(`overrides changed (now ${n})`);
  }
  const fb = (s: SplitSide) => String((s.split as SplitDoc | undefined)?.fallback ?? 'primary');
  if (b.split !== undefined && a.split !== undefined && fb(b) !== fb(a)) parts.push(`fallback ${fb(b)} → ${fb(a)}`);
  return parts.length > 0 ? `${head}: ${parts.join('; ')}` : head;
}
