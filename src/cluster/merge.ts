/**
 * Merging the workers' admin views into one for the primary's admin API.
 * Counters add up (requests, failures, in-flight, connections); state that
 * every worker holds alike (routes, configuration, pool layout) is taken from
 * the first worker; per-target health, which each worker's checks judge on
 * their own, is listed per worker next to the first worker's verdict.
 */

import { addWindows, type LatencyWindow } from '../telemetry/traffic-window.js';
import type { TrafficWindows } from '../telemetry/traffic.js';

/** WorkerView is one worker's answer, tagged with who gave it. */
export interface WorkerView<T> {
  worker: number;
  pid: number;
  view: T;
}

type Target = Record<string, unknown> & { index: number; state?: unknown };
type Upstreams = { registry?: unknown; upstreams: Array<Record<string, unknown> & { name: string; targets: Target[] }> };

/** SUMMED lists the per-target numbers that add up across workers. */
const SUMMED = ['inflight', 'openWebSockets', 'connections', 'requests', 'failures'] as const;

/** mergeUpstreams merges GET /upstreams answers (the first worker's layout; counters summed; health per worker). */
export function mergeUpstreams(views: ReadonlyArray<WorkerView<Upstreams>>): Upstreams {
  if (views.length === 0) return { upstreams: [] };
  const first = views[0]!.view;
  return {
    // The registry's state as the first worker reads it (with Redis every worker reads the same registry).
    ...(first.registry !== undefined ? { registry: first.registry } : {}),
    upstreams: first.upstreams.map((u) => ({
      ...u,
      targets: u.targets.map((t) => {
        const merged: Target = { ...t };
        const workers: Array<Record<string, unknown>> = [];
        for (const v of views) {
          const other = v.view.upstreams.find((x) => x.name === u.name)?.targets.find((x) => x.index === t.index);
          if (other === undefined) continue;
          workers.push({ worker: v.worker, pid: v.pid, state: other.state, inflight: other.inflight, requests: other.requests });
          if (v === views[0]) continue;
          for (const k of SUMMED) if (typeof merged[k] === 'number' && typeof other[k] === 'number') merged[k] = (merged[k] as number) + (other[k] as number);
        }
        merged.workers = workers;
        return merged;
      }),
    })),
  };
}

type Count = Record<string, number>;
interface Stats {
  now: number;
  total: Count;
  unrouted?: Count;
  routes: Record<string, Count>;
  upstreams: Record<string, Count>;
  window?: TrafficWindows;
}

/** addCount adds every counter of `from` into `into` (rows carry requests, errors5xx, errors4xx, status401, status429). */
function addCount(into: Count, from: Count): void {
  for (const [k, n] of Object.entries(from)) if (typeof n === 'number') into[k] = (into[k] ?? 0) + n;
}

function addInto(into: Record<string, Count>, from: Record<string, Count>): void {
  for (const [k, c] of Object.entries(from)) addCount((into[k] ??= {}), c);
}

/** mergeWindows adds the workers' rolling windows slot by slot (all workers share the clock, so their slots line up). */
function mergeWindows(windows: TrafficWindows[]): TrafficWindows {
  const newest = windows.reduce((a, b) => (b.end > a.end ? b : a));
  // A worker that answered just before a slot boundary is one slot behind: leave it out rather than misalign it.
  const aligned = windows.filter((w) => w.end === newest.end);
  const bounds = newest.latencyBoundsMs;
  const byKey = (pick: (w: TrafficWindows) => Record<string, LatencyWindow>) => {
    const keys = new Set(aligned.flatMap((w) => Object.keys(pick(w))));
    return Object.fromEntries([...keys].map((k) => [k, addWindows(aligned.flatMap((w) => (pick(w)[k] ? [pick(w)[k]!] : [])), bounds)]));
  };
  return { ...newest, total: addWindows(aligned.map((w) => w.total), bounds), routes: byKey((w) => w.routes), upstreams: byKey((w) => w.upstreams) };
}

/**
 * mergeStats adds up GET /stats snapshots. A replaced worker starts from
 * zero, so the sum can step down once; the dashboard treats that like a
 * counter reset.
 */
export function mergeStats(views: ReadonlyArray<WorkerView<Stats>>): Stats {
  const out: Stats = { now: 0, total: { requests: 0, errors5xx: 0 }, routes: {}, upstreams: {} };
  const windows: TrafficWindows[] = [];
  for (const { view } of views) {
    out.now = Math.max(out.now, view.now);
    addCount(out.total, view.total);
    if (view.unrouted) addCount((out.unrouted ??= {}), view.unrouted);
    addInto(out.routes, view.routes);
    addInto(out.upstreams, view.upstreams);
    if (view.window) windows.push(view.window);
  }
  if (windows.length > 0) out.window = mergeWindows(windows);
  if (out.now === 0) out.now = Date.now();
  return out;
}

type StreamListenerView = Record<string, unknown> & { name: string };

/** STREAM_SUMMED lists the per-listener numbers of /config's `streams` that add up across workers (each worker accepts its share). */
const STREAM_SUMMED = ['open', 'total', 'refused', 'bytesIn', 'bytesOut'] as const;

/** mergeStreamListeners merges the `streams` lists of the workers' /config answers: the first worker's listeners, counters summed by listener name. */
export function mergeStreamListeners(lists: ReadonlyArray<ReadonlyArray<StreamListenerView> | undefined>): StreamListenerView[] {
  const first = lists[0] ?? [];
  return first.map((l) => {
    const out: StreamListenerView = { ...l };
    for (const k of STREAM_SUMMED) {
      out[k] = lists.reduce((n, list) => n + Number(list?.find((x) => x.name === l.name)?.[k] ?? 0), 0);
    }
    return out;
  });
}

type Leg = Record<string, unknown> & { upstream: string };
type Split = Record<string, unknown> & { legs: Leg[]; unkeyed?: number };
type Routes = { routes: Array<Record<string, unknown> & { id: string; mirror?: { counts: Record<string, number> } | null; split?: Split | null }> };

/** LEG_SUMMED lists a split leg's numbers that add up across workers (each serves its share); the rest (cohorts, eligible) are the first worker's. */
const LEG_SUMMED = ['requests', 'errors5xx', 'fallbacks', 'rps', 'eps'] as const;

/**
 * mergeRoutes merges GET /routes answers: the first worker's table, with each
 * route's mirror counters and split legs' traffic summed over the workers.
 */
export function mergeRoutes(views: ReadonlyArray<WorkerView<Routes>>): Routes | { routes: [] } {
  if (views.length === 0) return { routes: [] };
  const first = views[0]!.view;
  return {
    ...first,
    routes: first.routes.map((r) => {
      const same = views.map((v) => v.view.routes.find((x) => x.id === r.id));
      let out = r;
      if (r.mirror) {
        const counts: Record<string, number> = {};
        for (const other of same) if (other?.mirror?.counts) for (const [k, n] of Object.entries(other.mirror.counts)) counts[k] = (counts[k] ?? 0) + n;
        out = { ...out, mirror: { ...r.mirror, counts } };
      }
      if (r.split) {
        const legs = r.split.legs.map((leg) => {
          const merged: Leg = { ...leg };
          for (const k of LEG_SUMMED) {
            if (typeof leg[k] !== 'number') continue;
            const sum = same.reduce((n, o) => n + Number(o?.split?.legs.find((l) => l.upstream === leg.upstream)?.[k] ?? 0), 0);
            merged[k] = k === 'rps' || k === 'eps' ? Math.round(sum * 10) / 10 : sum;
          }
          return merged;
        });
        const unkeyed = r.split.unkeyed === undefined ? {} : { unkeyed: same.reduce((n, o) => n + Number(o?.split?.unkeyed ?? 0), 0) };
        out = { ...out, split: { ...r.split, legs, ...unkeyed } };
      }
      return out;
    }),
  };
}
