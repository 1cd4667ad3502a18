/**
 * "What moves": each sample request is routed by the real Router
 * (src/routing) of both configurations, and the requests whose route,
 * upstream, chain or split changes are listed with why (which route now
 * shadows which, which route was removed or no longer matches).
 * Automatic routes (discovery.autoRoutes) follow the registry at run time
 * and are not evaluated: a request no route file takes is shown as 404.
 */
import { describeSplitChange } from './split-change.js';
import { normalizePath } from '../routing/normalize-path.js';
import { compileMatch, conditionsHold, type CompiledMatch, type RequestView } from '../routing/route-match.js';
import { pathCovers } from '../routing/explain.js';
import { Router } from '../routing/router.js';
import { same } from './compare.js';
import type { ConfigModel, RouteModel, Where } from './model.js';
import { describeSample, type Sample } from './samples.js';

/** Outcome is where a request goes in one configuration (absent: no route, 404). */
export interface Outcome {
  route: string;
  at: Where;
  upstream: string;
  /** chain is the global chain's plugin names, then the route's. */
  chain: string[];
  /** auth tells whether the chain has an auth plugin (jwt, session, ip-filter). */
  auth: boolean;
  /** split is the route's `split` as written, when it has one. */
  split?: unknown;
}

/** Move is a request that goes somewhere else after the change. */
export interface Move {
  request: string;
  sample: Sample;
  before?: Outcome;
  after?: Outcome;
  /** what lists what differs: route, upstream, chain, split. */
  what: Array<'route' | 'upstream' | 'chain' | 'split'>;
  /** why explains it for people. */
  why: string;
}

/** AUTH_PLUGINS are the plugins that decide who may pass: removing one is flagged. */
export const AUTH_PLUGINS: ReadonlySet<string> = new Set(['jwt', 'session', 'ip-filter']);

interface Entry {
  id: string;
  match: CompiledMatch;
  route: RouteModel;
}

/** Evaluator routes samples through one configuration. */
export class Evaluator {
  private readonly router: Router<Entry>;
  private readonly byId: Map<string, Entry>;

  constructor(readonly model: ConfigModel) {
    const entries = model.routes.map((route) => ({ id: route.id, match: compileMatch(route.match), route }));
    this.router = new Router(entries);
    this.byId = new Map(entries.map((e) => [e.id, e]));
  }

  /** ambiguities lists pairs of routes the gateway would refuse as ambiguous. */
  ambiguities(): Array<{ a: RouteModel; b: RouteModel }> {
    return this.router.ambiguities().map(({ a, b }) => ({ a: a.route, b: b.route }));
  }

  /** outcome routes a sample; undefined when no route takes it (or the path is refused before routing). */
  outcome(s: Sample): Outcome | undefined {
    const view = viewOf(s);
    if (!view) return undefined;
    const e = this.router.match(view.path, view.req);
    if (!e) return undefined;
    const chain = [...this.model.chain.map((p) => p.name), ...e.route.plugins.map((p) => p.name)];
    const split = e.route.fields.split;
    return { route: e.id, at: e.route.at, upstream: e.route.upstream, chain, auth: chain.some((n) => AUTH_PLUGINS.has(n)), ...(split !== undefined ? { split } : {}) };
  }

  /** takes tells whether route `id` exists and its own match takes the sample (whatever else wins). */
  takes(id: string, s: Sample): boolean {
    const e = this.byId.get(id);
    const view = viewOf(s);
    return e !== undefined && view !== undefined && pathCovers(e.match, view.path) && conditionsHold(e.match, view.req);
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }
}

function viewOf(s: Sample): { path: string; req: RequestView } | undefined {
  const q = s.target.indexOf('?');
  const norm = normalizePath(q === -1 ? s.target : s.target.slice(0, q));
  if (!norm.ok) return undefined;
  const host = (s.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
  return { path: norm.path, req: { method: s.method, host, headers: s.headers, rawQuery: q === -1 ? '' : s.target.slice(q + 1), memo: {} } };
}

const at = (w: Where) => `${w.file}:${w.line}`;

/** moves evaluates every sample against both configurations and lists those that move. */
export function moves(before: Evaluator, after: Evaluator, samples: readonly Sample[]): Move[] {
  const out: Move[] = [];
  for (const sample of samples) {
    const b = before.outcome(sample);
    const a = after.outcome(sample);
    const what: Move['what'] = [];
    if (b?.route !== a?.route) what.push('route');
    if (b && a && b.upstream !== a.upstream) what.push('upstream');
    if (b && a && !same(b.chain, a.chain)) what.push('chain');
    if (b && a && !same(b.split, a.split)) what.push('split');
    if (what.length === 0) continue;
    out.push({ request: describeSample(sample), sample, ...(b ? { before: b } : {}), ...(a ? { after: a } : {}), what, why: explainMove(before, after, sample, b, a) });
  }
  return out;
}

/** explainMove says why a request moved, in the words of the issue: "team-b.yaml:12 now shadows orders.yaml:3". */
function explainMove(before: Evaluator, after: Evaluator, s: Sample, b: Outcome | undefined, a: Outcome | undefined): string {
  if (b?.route !== a?.route) {
    if (!a) return after.has(b!.route) ? `route ${b!.route} no longer matches (${at(routeAt(after, b!.route) ?? b!.at)}); no route takes it: 404` : `route ${b!.route} was removed (${at(b!.at)}); no route takes it: 404`;
    if (!b) return `${after.has(a.route) && !before.has(a.route) ? 'new ' : ''}route ${a.route} (${at(a.at)}) takes it; no route did before (404)`;
    if (!after.has(b.route)) return `route ${b.route} was removed (${at(b.at)}); ${a.route} (${at(a.at)}) takes it`;
    if (after.takes(b.route, s)) return `${at(a.at)} now shadows ${at(routeAt(after, b.route) ?? b.at)}`;
    return `route ${b.route} no longer matches (${at(routeAt(after, b.route) ?? b.at)}); ${a.route} (${at(a.at)}) takes it`;
  }
  const parts: string[] = [];
  if (b!.upstream !== a!.upstream) parts.push(`upstream ${b!.upstream} → ${a!.upstream}`);
  if (!same(b!.chain, a!.chain)) parts.push(`chain ${b!.chain.join(' → ') || '(none)'} became ${a!.chain.join(' → ') || '(none)'}`);
  if (!same(b!.split, a!.split)) parts.push(describeSplitChange(b!, a!));
  return `${parts.join('; ')} (${at(a!.at)})`;
}

function routeAt(e: Evaluator, id: string): Where | undefined {
  return e.model.routes.find((r) => r.id === id)?.at;
}

/** moveLine renders a move: `GET /x: a → b (why)`, or `GET /x: a: why` when the route stays. */
export function moveLine(m: Move): string {
  const b = m.before?.route ?? '(404)';
  const a = m.after?.route ?? '(404)';
  return b === a ? `${m.request}: ${a}: ${m.why}` : `${m.request}: ${b} → ${a} (${m.why})`;
}
