/**
 * The balancers, by the name route files use. Adding an algorithm means one
 * file and one line in FACTORIES; the conformance suite then runs it too.
 */
import type { Balanceable, Balancer, BalancerFactory } from './balancer.js';
import { BALANCERS, type BalancerName } from '../config/schema.js';
import { IpHash } from './ip-hash.js';
import { LeastConnections } from './least-connections.js';
import { Random } from './random.js';
import { RoundRobin } from './round-robin.js';
import { WeightedRoundRobin } from './weighted-round-robin.js';

export type { Balanceable, Balancer, BalancerFactory } from './balancer.js';
export { IpHash } from './ip-hash.js';
export { LeastConnections } from './least-connections.js';
export { Random, type RandomOptions } from './random.js';
export { RoundRobin } from './round-robin.js';
export { WeightedRoundRobin } from './weighted-round-robin.js';

export { BALANCERS, type BalancerName };

/** FACTORIES builds a fresh balancer per name; typed so a name in BALANCERS cannot lack one. */
const FACTORIES: { readonly [K in BalancerName]: BalancerFactory } = {
  'round-robin': () => new RoundRobin(),
  'weighted-round-robin': () => new WeightedRoundRobin(),
  'least-connections': () => new LeastConnections(),
  'ip-hash': () => new IpHash(),
  random: () => new Random(),
};

/** isBalancerName tells whether a string names a known algorithm. */
export function isBalancerName(name: string): name is BalancerName {
  return Object.hasOwn(FACTORIES, name);
}

/** createBalancer returns a fresh balancer for one pool; throws on an unknown name (config validation rejects those first). */
export function createBalancer<T extends Balanceable>(name: string): Balancer<T> {
  if (!isBalancerName(name)) throw new Error(`unknown balancer "${name}"; expected one of: ${BALANCERS.join(', ')}`);
  return FACTORIES[name]<T>();
}
