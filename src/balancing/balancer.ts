/**
 * The balancer interface. A balancer is told the eligible targets of its pool
 * when that set changes (a health or drain transition, never per request) and
 * picks one per request. Balancers hold only their own position state; health
 * lives elsewhere and reaches them only through setTargets().
 */

/** Balanceable is what a balancer may read of a target. */
export interface Balanceable {
  /** id is unique within the pool (the target URL). */
  readonly id: string;
  /** weight is the configured relative share (>= 1). */
  readonly weight: number;
  /** inflight counts requests in progress and open WebSockets on this target. */
  readonly inflight: number;
}

/** Balancer picks a target of one pool for each request. */
export interface Balancer<T extends Balanceable = Balanceable> {
  /** name is the algorithm name as written in route files. */
  readonly name: string;
  /**
   * setTargets replaces the eligible set. Called at start and on transitions;
   * implementations precompute here so that pick() stays cheap. The position
   * (rotation index, smooth-weight state) is kept for targets that remain.
   */
  setTargets(targets: readonly T[]): void;
  /**
   * pick returns the target for one request, or undefined when the set is empty.
   * `key` is the client IP (used by ip-hash). `exclude` is a target that just
   * failed: when any other target exists, the result is not `exclude` (retries).
   */
  pick(key: string, exclude?: T): T | undefined;
}

/** BalancerFactory creates a fresh balancer for one pool. */
export type BalancerFactory = <T extends Balanceable>() => Balancer<T>;
