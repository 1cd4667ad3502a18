/**
 * WebSocket upgrades: admitted like requests (admission.ts: routed, and run
 * through the plugin chain so auth applies), checked against cross-site
 * hijacking (ws-origin.ts) before any plugin runs, then the upgrade is
 * forwarded to the picked target, its request assembled like a forwarded
 * request's (upstream-request.ts), and the two sockets are spliced. An open WebSocket counts as in-flight load on its
 * target (least-connections sees it) until either side closes.
 *
 * With a message size limit, client-to-upstream bytes pass a frame reader
 * (ws-frames.ts) that stops at the header of a frame taking its message past
 * the limit: the upstream connection is cut before any of that frame's
 * payload reaches it, and the client gets close 1009 (slipped in between the
 * upstream's frames, which are followed for that purpose).
 */
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { Exchange } from './exchange.js';
import { HOP_BY_HOP } from '../http/hop-by-hop.js';
import { answerError, clientClosed, finish } from './respond.js';
import { FrameLimiter, FrameReader, closeFrame } from './ws-frames.js';
import { clientSendTimer } from './send-timeout.js';
import { checkOrigin, type OriginVerdict } from './ws-origin.js';
import { clientOrigin } from './location.js';
import type { Target } from '../upstream/target.js';
import { admit, runChain, type AdmissionDeps } from './admission.js';
import type { AttemptEnd, AttemptOutcome } from './hooks.js';
import { CLIENT_GONE, ClientGone, NotUpgraded, answerNoTarget, answerUpstreamFailure, classify } from './upstream-failure.js';
import { claimTarget, pickTarget, upstreamRequestHeaders } from './upstream-request.js';
import { chooseLeg } from './split.js';

/** UpgradeDeps is what upgrade handling needs from the gateway (admission's, without request limits). */
export interface UpgradeDeps extends AdmissionDeps {
  /** maxMessage caps client-to-upstream WebSocket messages in bytes (0 = no cap). */
  maxMessage: number;
  /** onOriginRefused observes an upgrade refused by the Origin check (metrics). */
  onOriginRefused?(ex: Exchange, reason: NonNullable<OriginVerdict>): void;
}

/**
 * CLOSE_GRACE_MS is how long a client told to close (1009) may take to
 * close its side; its bytes are read and dropped meanwhile, so the close
 * frame is not lost to a reset.
 */
const CLOSE_GRACE_MS = 5000;

/**
 * EARLY_MAX is how much of what a client sends behind its handshake is read
 * (and held for the upstream) while the upstream has not answered the
 * upgrade. Reading is what notices a client that leaves before the upgrade
 * (node stops reading an upgrading socket); past this, reading pauses and the
 * rest waits in the socket until the splice.
 */
const EARLY_MAX = 64 * 1024;

/** handleUpgrade serves one HTTP/1.1 Upgrade request. */
export function handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer, deps: UpgradeDeps): void {
  socket.on('error', () => socket.destroy());
  // A ServerResponse bound to the raw socket lets refusals reuse the normal answer path.
  const res = new ServerResponse(req);
  res.assignSocket(socket);
  res.shouldKeepAlive = false;
  res.once('finish', () => socket.destroy());
  const ex = admit(req, res, deps, true);
  if (ex === undefined) return;
  const hooks = deps.hooks;
  // Before any plugin runs (a session lookup is work an attacker's page should not cause) and before any dial.
  const verdict = checkOrigin(req.headers, ex.route.websocketOrigins, () => clientOrigin(ex));
  if (verdict !== undefined) {
    hooks.log.warn({ reqId: ex.id, route: ex.routeId, origin: String(req.headers.origin).slice(0, 256), ip: ex.clientIp, reason: verdict, trace: ex.traceId }, 'cross-site WebSocket upgrade refused');
    deps.onOriginRefused?.(ex, verdict);
    return answerError(ex, 'SY_ERR_WEBSOCKET_ORIGIN', hooks.onFinish, { close: true });
  }
  runChain(ex, true, hooks, (admitted) => connect(admitted, socket, head, deps));
}

/** UpgradeAttempt is the dispatch handler of a forwarded upgrade. */
class UpgradeAttempt implements Dispatcher.DispatchHandler, AttemptEnd {
  private done = false;
  // The AttemptEnd fields, set by release() (an upgrade's attempt reports no status and no duration).
  outcome: AttemptOutcome = 'ok';
  readonly status = 0;
  reason: string | undefined = undefined;
  readonly ms = 0;
  private controller: Dispatcher.DispatchController | undefined = undefined;
  /** early holds what the client sent while the upgrade was pending (see EARLY_MAX). */
  private early: Buffer[] | undefined = undefined;
  private earlyBytes = 0;
  constructor(
    readonly ex: Exchange,
    readonly client: Socket,
    readonly head: Buffer,
    readonly target: Target,
    readonly deps: UpgradeDeps,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // The client left while this attempt waited for a connection (see abort()).
    if (this.ex.finished) controller.abort(new ClientGone());
  }

  /**
   * abort cancels the upgrade because the client went away before the
   * upstream answered it; onResponseError then finishes the exchange (499).
   * Without a connection yet there is nothing to cancel: the exchange is
   * finished now and onRequestStart cancels the attempt. After the upgrade
   * the spliced sockets' own close handling takes over.
   */
  abort(): void {
    if (this.done) return;
    if (this.controller !== undefined) return this.controller.abort(new ClientGone());
    clientClosed(this.ex, this.deps.hooks.onFinish);
    this.client.destroy();
  }

  /** hold keeps bytes the client sent while the upgrade was pending, for the upstream. */
  hold(chunk: Buffer): void {
    (this.early ??= []).push(chunk);
    this.earlyBytes += chunk.length;
    if (this.earlyBytes >= EARLY_MAX) this.client.pause();
  }

  /**
   * onResponseStart sees an upstream that answered the upgrade without
   * upgrading (a 200, a 403). undici completes that as a plain response and
   * reports no error, so without this the client would never be answered,
   * the target's in-flight count never released and shutdown would wait
   * for it. It is answered 502 (onResponseError).
   */
  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number): void {
    if (statusCode >= 200) controller.abort(new NotUpgraded(statusCode));
  }
  onResponseData(): void {}
  onResponseEnd(): void {}

  onRequestUpgrade(_c: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[]>, upstream: Duplex): void {
    const { ex, client, target } = this;
    this.done = true;
    client.off('data', onEarlyData);
    client.off('end', onUpgradeClientGone);
    client.off('close', onUpgradeClientGone);
    const first = this.early === undefined ? this.head : Buffer.concat([this.head, ...this.early]);
    // The socket outlives the upgrade: it must not keep this handler (and the held bytes) for the WebSocket's lifetime.
    (client as UpgradingSocket)[kUpgrade] = undefined;
    this.early = undefined;
    let head = `HTTP/1.1 ${statusCode} Switching Protocols\r\nconnection: Upgrade\r\nupgrade: websocket\r\n`;
    for (const name in headers) {
      if (HOP_BY_HOP.has(name) || name === 'x-request-id') continue;
      const v = headers[name]!;
      for (const one of Array.isArray(v) ? v : [v]) head += `${name}: ${one}\r\n`;
    }
    if (ex.stickyCookie !== undefined) head += `set-cookie: ${ex.stickyCookie}\r\n`;
    if (ex.cohortCookie !== undefined) head += `set-cookie: ${ex.cohortCookie}\r\n`;
    head += `x-request-id: ${ex.id}\r\n\r\n`;
    ex.status = 101;
    ex.responded = true;
    target.openWebSockets++;
    // inflight was taken when dispatching; it is held until the WebSocket closes.
    client.write(head);
    let closed = false;
    let tripped = false;
    const deps = this.deps;
    // A client that stops reading what the upstream sends is cut after limits.sendTimeout, like a slow HTTP reader.
    const send = clientSendTimer(ex, deps.hooks, client);
    const close = () => {
      if (closed) return;
      closed = true;
      send.stop();
      target.openWebSockets--;
      target.inflight--;
      upstream.destroy();
      // A client told to close (1009) gets its grace period; see trip().
      if (!tripped) client.destroy();
      finish(ex, deps.hooks.onFinish);
    };
    client.on('close', close);
    upstream.on('close', close);
    client.on('error', close);
    upstream.on('error', close);
    const limit = deps.maxMessage;
    const limiter = limit > 0 ? new FrameLimiter(limit) : undefined;
    // With a limit, the upstream's frames are followed too, so our close frame never lands inside one of them.
    const down = limiter === undefined ? undefined : new FrameReader();
    upstream.on('data', (chunk: Buffer) => {
      if (tripped) return;
      down?.push(chunk);
      if (!client.write(chunk)) {
        upstream.pause();
        send.stalled();
      }
    });
    client.on('drain', () => {
      send.drained();
      upstream.resume();
    });
    upstream.on('end', () => {
      if (!tripped) client.end();
    });
    if (limiter === undefined) {
      if (first.length > 0) upstream.write(first);
      client.pipe(upstream);
      return;
    }
    const trip = () => {
      tripped = true;
      upstream.destroy();
      if (down!.atBoundary) client.end(closeFrame(limiter.violation));
      else client.destroy();
      // Keep reading (and dropping) what the client still sends until it closes, within a grace period.
      client.resume();
      setTimeout(() => client.destroy(), CLOSE_GRACE_MS).unref();
    };
    const fromClient = (chunk: Buffer) => {
      if (tripped) return;
      if (!limiter.push(chunk)) return trip();
      if (!upstream.write(chunk)) client.pause();
    };
    upstream.on('drain', () => client.resume());
    client.on('end', () => upstream.end());
    // Reading paused at EARLY_MAX goes on (unless the upstream's back-pressure pauses it again just below).
    if (this.earlyBytes >= EARLY_MAX) client.resume();
    // Bytes the client sent right behind its handshake are held to the same limit.
    if (first.length > 0) fromClient(first);
    client.on('data', fromClient);
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    if (this.done) return;
    this.done = true;
    this.target.inflight--;
    const hooks = this.deps.hooks;
    if (err instanceof ClientGone || this.client.destroyed) {
      this.release('aborted', CLIENT_GONE);
      clientClosed(this.ex, hooks.onFinish);
      this.client.destroy();
      return;
    }
    const failure = classify(err, true);
    this.ex.error = err;
    this.release('error', failure.reason);
    answerUpstreamFailure(this.ex, failure, hooks);
  }

  /** release reports how the upgrade's attempt ended (the target is freed by the caller, or when the WebSocket closes). */
  private release(outcome: AttemptOutcome, reason: string): void {
    this.outcome = outcome;
    this.reason = reason;
    this.deps.hooks.onAttemptEnd(this);
  }
}

const kUpgrade = Symbol('switchyard.upgrade');
type UpgradingSocket = Socket & { [kUpgrade]?: UpgradeAttempt };

/**
 * onUpgradeClientGone cancels the upgrade of a client that went away: closed,
 * or half-closed (a client that sent its FIN before the upgrade was answered
 * cannot use the WebSocket; nginx takes an early EOF for a close too).
 * Shared functions, no closures per upgrade.
 */
function onUpgradeClientGone(this: UpgradingSocket): void {
  this[kUpgrade]?.abort();
}

/** onEarlyData holds what the client sends while its upgrade is pending. */
function onEarlyData(this: UpgradingSocket, chunk: Buffer): void {
  this[kUpgrade]?.hold(chunk);
}

/** connect dials the upgrade to a target, after the plugins let it through. */
function connect(ex: Exchange, client: Socket, head: Buffer, deps: UpgradeDeps): void {
  // The client may have left while a plugin was pending, before anyone listened for its close.
  if (client.destroyed) return clientClosed(ex, deps.hooks.onFinish);
  // A split picks the pool after the chain, as for requests (proxy/split.ts).
  const split = ex.route.split;
  if (split !== undefined && !chooseLeg(ex, split, deps.hooks)) return;
  const target = pickTarget(ex);
  if (target === undefined) return answerNoTarget(ex, deps.hooks);
  claimTarget(ex, target);
  const headers = upstreamRequestHeaders(ex, target);
  const handler = new UpgradeAttempt(ex, client, head, target, deps);
  (client as UpgradingSocket)[kUpgrade] = handler;
  // node stops reading an upgrading socket: read it, or a client that leaves goes unnoticed until the upstream answers.
  client.on('data', onEarlyData);
  client.once('end', onUpgradeClientGone);
  client.once('close', onUpgradeClientGone);
  target.pool.dispatch({ path: ex.upstreamPath(), method: 'GET', headers, upgrade: 'websocket', headersTimeout: ex.route.responseTimeoutMs }, handler);
}
