/**
 * Connecting a stream to a target of its pool: the balancer picks (ip-hash on
 * the client address, least-connections on open streams), the connect is
 * bounded by the listener's connectTimeout, and a failed or timed-out connect
 * is retried once on another target, since nothing was sent yet. Each outcome
 * feeds passive health like an HTTP attempt does, and each failed attempt is
 * reported (onFailed) whether or not the retry succeeds. Callbacks, not
 * promises: this runs once per connection, and the accept path it serves
 * allocates nothing it does not need (bench/README.md, journal "Issue 18
 * (2026-12-06, night)").
 */
import type { Socket } from 'node:net';
import type { Target } from '../upstream/target.js';
import type { Upstream } from '../upstream/upstream.js';
import { Relay, unconnectedSocket } from './relay.js';

/** ConnectFailure says why no target could be reached: none eligible, refused/unreachable, or too slow. */
export type ConnectFailure = 'unavailable' | 'connect' | 'timeout';

/** Connected is an open upstream socket and the target it reaches, or why there is none. */
export type ConnectResult = { ok: true; socket: Socket; relay: Relay; target: Target; attempts: number } | { ok: false; failure: ConnectFailure; target: Target | undefined; attempts: number; reason: string };

/**
 * dialTarget opens one TCP connection to a target, within timeoutMs. The
 * socket reads into its relay's buffer (relay.ts) and is paused once
 * connected: nothing is read before splice gives the relay a destination.
 */
function dialTarget(target: Target, timeoutMs: number, resolve: (r: Dialed) => void): void {
  const relay = new Relay();
  // allowHalfOpen: each direction ends on its own (a client's FIN is passed on, the answer still comes back).
  const socket = unconnectedSocket(relay).connect(target.dialPort, target.dialHost);
  const timer = timeoutMs > 0 ? setTimeout(() => done({ failure: 'timeout', reason: `connect timeout after ${timeoutMs}ms` }), timeoutMs) : undefined;
  const onError = (err: NodeJS.ErrnoException) => done({ failure: 'connect', reason: `connect ${err.code ?? err.message}` });
  function done(r: Dialed): void {
    if (timer !== undefined) clearTimeout(timer);
    socket.off('error', onError);
    socket.off('connect', onConnect);
    if (!('socket' in r)) socket.destroy();
    resolve(r);
  }
  const onConnect = () => {
    socket.pause(); // before net's first read (it reads right after 'connect' unless paused)
    done({ socket, relay });
  };
  socket.once('connect', onConnect);
  socket.once('error', onError);
}

/** Dialed is one connect's outcome: the open socket and its relay, or why not. */
type Dialed = { socket: Socket; relay: Relay } | { failure: 'connect' | 'timeout'; reason: string };

/**
 * connectStream picks a target and connects, trying one other target when
 * the first connect fails. `clientKey` is the client address (ip-hash).
 * The picked target's inflight count is raised for the stream's lifetime:
 * the caller lowers it (release) when the stream ends.
 */
export function connectStream(upstream: Upstream, clientKey: string, timeoutMs: number, onFailed: ((target: Target, reason: string) => void) | undefined, done: (r: ConnectResult) => void): void {
  const attempt = (n: number, failed: Target | undefined, last: ConnectResult | undefined): void => {
    const target = n > 2 ? undefined : upstream.pick(clientKey, failed);
    if (target === undefined || target === failed) {
      done(last ?? { ok: false, failure: 'unavailable', target: undefined, attempts: 0, reason: 'no eligible target' });
      return;
    }
    target.inflight++;
    target.requests++;
    dialTarget(target, timeoutMs, (r) => {
      if ('socket' in r) {
        upstream.outcome(target, true, 'connected');
        done({ ok: true, socket: r.socket, relay: r.relay, target, attempts: n });
        return;
      }
      target.inflight--;
      target.failures++;
      upstream.outcome(target, false, r.reason);
      onFailed?.(target, r.reason);
      attempt(n + 1, target, { ok: false, failure: r.failure, target, attempts: n, reason: r.reason });
    });
  };
  attempt(1, undefined, undefined);
}
