/**
 * The routing table: a trie over path segments, built once per configuration.
 * Matching walks the request path once (cost grows with its depth, not with
 * the number of routes or route files) and then tries the candidates of the
 * deepest matching node first: longest literal prefix wins; at one node an
 * exact path beats a prefix, more conditions beat fewer, and an exact host
 * beats a wildcard host.
 */
import { conditionsHold, disjoint, type CompiledMatch, type RequestView } from './route-match.js';

/** Routable is anything with a compiled match (the router is generic over route type). */
export interface Routable {
  readonly id: string;
  readonly match: CompiledMatch;
}

interface Node<R> {
  children: Map<string, Node<R>>;
  /** exact routes ending at this node, most specific first */
  exact: R[];
  /** prefix routes (`/x/*`) rooted at this node, most specific first */
  prefix: R[];
}

const newNode = <R>(): Node<R> => ({ children: new Map(), exact: [], prefix: [] });

/** Ambiguity is a pair of routes that could match the same request with equal priority. */
export interface Ambiguity<R> {
  a: R;
  b: R;
}

/** Router matches requests against a fixed set of routes. */
export class Router<R extends Routable> {
  private readonly root: Node<R> = newNode();
  /** Reused between calls: matching is synchronous, so one scratch stack suffices. */
  private readonly stack: Node<R>[] = [];
  /** routes is the table in declaration order. */
  readonly routes: readonly R[];

  constructor(routes: readonly R[]) {
    this.routes = routes;
    for (const r of routes) {
      let node = this.root;
      for (const seg of r.match.segments) {
        let next = node.children.get(seg);
        if (!next) node.children.set(seg, (next = newNode()));
        node = next;
      }
      (r.match.exact ? node.exact : node.prefix).push(r);
    }
    const bySpecificity = (a: R, b: R) => b.match.rank - a.match.rank;
    const sortAll = (n: Node<R>) => {
      n.exact.sort(bySpecificity);
      n.prefix.sort(bySpecificity);
      for (const c of n.children.values()) sortAll(c);
    };
    sortAll(this.root);
  }

  /** ambiguities lists pairs of routes with the same path and specificity that are not provably disjoint. */
  ambiguities(): Ambiguity<R>[] {
    const out: Ambiguity<R>[] = [];
    const scan = (list: R[]) => {
      for (let i = 0; i < list.length; i++)
        for (let j = i + 1; j < list.length; j++) {
          const a = list[i]!;
          const b = list[j]!;
          if (a.match.rank === b.match.rank && !disjoint(a.match, b.match)) out.push({ a, b });
        }
    };
    const walk = (n: Node<R>) => {
      scan(n.exact);
      scan(n.prefix);
      for (const c of n.children.values()) walk(c);
    };
    walk(this.root);
    return out;
  }

  /**
   * match returns the route for a request whose path is already normalized
   * (see normalizePath), or undefined.
   */
  match(path: string, req: RequestView): R | undefined {
    const stack = this.stack;
    stack.length = 0;
    let node: Node<R> | undefined = this.root;
    stack.push(node);
    // Walk segment by segment without splitting the string.
    let start = 1;
    const len = path.length;
    let full = len <= 1; // "/" consumes the whole path at the root
    while (start <= len) {
      let end = path.indexOf('/', start);
      if (end === -1) end = len;
      if (end === start) {
        // trailing slash: "/x/" is below "/x" but is not "/x" itself
        break;
      }
      node = node.children.get(path.slice(start, end));
      if (!node) break;
      stack.push(node);
      if (end === len) {
        full = true;
        break;
      }
      start = end + 1;
    }
    for (let i = stack.length - 1; i >= 0; i--) {
      const n = stack[i]!;
      if (full && i === stack.length - 1) {
        for (let j = 0; j < n.exact.length; j++) if (conditionsHold(n.exact[j]!.match, req)) return n.exact[j];
      }
      for (let j = 0; j < n.prefix.length; j++) if (conditionsHold(n.prefix[j]!.match, req)) return n.prefix[j];
    }
    return undefined;
  }
}
