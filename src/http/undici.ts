/**
 * The parts of undici the gateway uses (Pool, Agent, the global dispatcher),
 * loaded without undici's index. The index loads all of undici at once —
 * fetch, WebSocket, EventSource, the cache and mock agents, the SQLite cache
 * store — about 3 MB of heap in every gateway process that uses none of it.
 * These are the same classes the index exports (test/upstream/undici.test.ts
 * checks it), with the request/stream/pipeline/upgrade/connect methods mixed
 * into Dispatcher.prototype exactly as the index does, so `pool.request()`
 * works as documented. Typed from undici's public types.
 *
 * Import Pool and Agent from here, not from 'undici', in src/: one import of
 * the index anywhere in the gateway's module graph loads all of it again.
 */
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

// undici is CommonJS without an exports map: its files are addressable by path.
const require = createRequire(import.meta.url);

const DispatcherBase = require('undici/lib/dispatcher/dispatcher.js') as { prototype: object };
Object.assign(DispatcherBase.prototype, require('undici/lib/api/index.js') as object);

/** Pool is undici's Pool: a fixed set of connections to one origin. */
export const Pool = require('undici/lib/dispatcher/pool.js') as typeof Undici.Pool;
/** Pool is undici's Pool. */
export type Pool = Undici.Pool;

/** Agent is undici's Agent: a pool per origin. */
export const Agent = require('undici/lib/dispatcher/agent.js') as typeof Undici.Agent;
/** Agent is undici's Agent. */
export type Agent = Undici.Agent;

/** globalDispatcher returns undici's process-wide dispatcher (the one undici's top-level `request()` uses), creating it on first use. */
export function globalDispatcher(): Undici.Dispatcher {
  return (require('undici/lib/global.js') as { getGlobalDispatcher(): Undici.Dispatcher }).getGlobalDispatcher();
}
