/**
 * Compiling a route's `mirror` block (src/config/schema-mirror.ts) into what
 * the request path reads (src/proxy/mirror.ts): the shadow pool, the sample
 * share, the body limit in bytes, the method set and the timeout. Counters
 * and the in-flight gate carry over a reload, so a reload neither resets the
 * route's mirror metrics nor forgets copies still in flight.
 */
import type { Logger } from 'pino';
import { parseDuration } from '../config/duration.js';
import { MIRROR_DEFAULT_METHODS, type MirrorDoc } from '../config/schema-mirror.js';
import { parseSize } from '../config/size.js';
import type { Upstream } from '../upstream/upstream.js';
import { MirrorGate, newMirrorStats, type CompiledMirror } from '../proxy/mirror-state.js';
import type { Runtime } from '../proxy/runtime.js';

/** mirrorGate returns the previous configuration's gate (copies in flight keep counting), or a new one. */
export function mirrorGate(previous: Runtime | undefined): MirrorGate {
  for (const r of previous?.routes ?? []) if (r.mirror !== undefined) return r.mirror.gate;
  return new MirrorGate();
}

/** MirrorContext is what compiling one route's mirror needs. */
export interface MirrorContext {
  readonly upstreams: ReadonlyMap<string, Upstream>;
  readonly previous: Runtime | undefined;
  readonly gate: MirrorGate;
  /** max is limits.mirrorConcurrency. */
  readonly max: number;
  readonly log: Logger;
}

/**
 * compileMirror builds a route's mirror; undefined when the route has none
 * or its shadow pool is missing (the loader reported that with file:line).
 * `bufferBody` is the route's retry.bufferBody: larger bodies stream to the
 * primary and are never held back for a copy, so the limit is capped there
 * (with a warning saying so).
 */
export function compileMirror(doc: MirrorDoc | undefined, route: { id: string; file: string; line: number; bufferBody: number }, ctx: MirrorContext): CompiledMirror | undefined {
  if (doc === undefined) return undefined;
  const upstream = ctx.upstreams.get(doc.upstream);
  if (upstream === undefined) return undefined;
  let bodyLimit = parseSize(doc.bodyLimit);
  if (bodyLimit > route.bufferBody) {
    ctx.log.warn(
      { route: route.id, at: `${route.file}:${route.line}`, bodyLimit, bufferBody: route.bufferBody },
      `route "${route.id}" (${route.file}:${route.line}): mirror.bodyLimit ${bodyLimit} is above retry.bufferBody ${route.bufferBody}; bodies above ${route.bufferBody} bytes stream to the upstream and are not mirrored (raise retry.bufferBody to mirror them)`,
    );
    bodyLimit = route.bufferBody;
  }
  // Same route id and shadow pool: the counters go on (metrics are counters; a reload must not reset them).
  const before = ctx.previous?.routes.find((r) => r.id === route.id)?.mirror;
  const stats = before !== undefined && before.upstream.name === doc.upstream ? before.stats : newMirrorStats();
  return {
    upstream,
    percent: doc.percent,
    bodyLimit,
    methods: new Set((doc.methods ?? MIRROR_DEFAULT_METHODS).map((m) => m.toUpperCase())),
    timeoutMs: parseDuration(doc.timeout),
    gate: ctx.gate,
    max: ctx.max,
    stats,
  };
}

/** MirrorView is a route's mirror as the admin API (/routes) and the dashboard show it. */
export interface MirrorView {
  upstream: string;
  percent: number;
  bodyLimit: number;
  methods: string[];
  timeoutMs: number;
  /** counts are the route's mirror counters since the route got its mirror (they survive reloads). */
  counts: { sent: number; dropped: number; overLimit: number; unavailable: number; ok: number; shadow5xx: number; errors: number; timeouts: number };
}

/** mirrorView describes a compiled mirror and its counters (null for a route without one). */
export function mirrorView(m: CompiledMirror | undefined): MirrorView | null {
  if (m === undefined) return null;
  const s = m.stats;
  return {
    upstream: m.upstream.name,
    percent: m.percent,
    bodyLimit: m.bodyLimit,
    methods: [...m.methods],
    timeoutMs: m.timeoutMs,
    counts: { sent: s.sent, dropped: s.dropped, overLimit: s.overLimit, unavailable: s.unavailable, ok: s.ok, shadow5xx: s.shadow5xx, errors: s.errors, timeouts: s.timeouts },
  };
}

/**
 * explainMirror says in one line what the mirror does and what it would do
 * with a request of `method` (switchyard explain): the body and sampling are
 * decided per request, so the answer for a copyable method is a chance.
 */
export function explainMirror(m: CompiledMirror, method: string): string {
  const what = `${m.percent}% of ${[...m.methods].join(', ')} (bodies up to ${m.bodyLimit} bytes) → ${m.upstream.name}, timeout ${m.timeoutMs} ms`;
  const verdict = m.methods.has(method.toUpperCase()) ? `this request: copied with probability ${m.percent}% if its body is at most ${m.bodyLimit} bytes` : `this request: not copied (${method.toUpperCase()} is not mirrored)`;
  return `${what}; ${verdict}`;
}
