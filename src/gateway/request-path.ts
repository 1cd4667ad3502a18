/**
 * The request path as the public listener sees it: the request handler, the
 * WebSocket upgrade handler and the refusal of requests node's parser rejects,
 * each wired to the observer (access log, metrics, spans) and to passive
 * health. The public listener (src/front-door/public-listener.ts) takes these
 * three functions and nothing else of the proxy.
 */
import type { IncomingMessage, RequestListener } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { GatewayDoc } from '../config/schema.js';
import type { ErrorCode } from '../errors.js';
import { createClientIpResolver } from '../http/client-ip.js';
import { createHandler } from '../proxy/handler.js';
import type { ProxyHooks, Refusal } from '../proxy/hooks.js';
import type { Runtime } from '../proxy/runtime.js';
import { handleUpgrade } from '../proxy/websocket.js';
import { createClientErrorHandler } from '../front-door/client-error.js';
import type { Observer } from '../telemetry/observer.js';
import type { ListenerHandlers } from '../front-door/public-listener.js';
import { LineBudget } from '../telemetry/line-budget.js';

/**
 * RequestPath builds the public listener's handlers for one gateway. They read
 * the active configuration on each request (`current`), so a reload never
 * rebuilds them.
 */
export class RequestPath {
  /** splitLines budgets the split-fallback warnings: a canary pool that is down would log one per request (1 line a second, the rest counted). */
  private readonly splitLines: LineBudget;

  constructor(
    private readonly observer: Observer,
    private readonly log: Logger,
    private readonly current: () => Runtime,
  ) {
    this.splitLines = new LineBudget(
      () => 1,
      (suppressed) => this.log.warn({ suppressed }, 'split fallbacks: more warnings suppressed (see switchyard_split_fallbacks_total)'),
    );
  }

  /** active is the configuration serving now (the name the wiring below reads). */
  private get active(): Runtime {
    return this.current();
  }

  /** handlers wires the request, upgrade and refusal handlers for the listener built from `g`. */
  handlers(g: GatewayDoc, secure: boolean): ListenerHandlers {
    const limits = g.limits!;
    const ips = createClientIpResolver(g.trustProxy);
    const hooks: ProxyHooks = {
      onFinish: (ex) => this.observer.finished(ex),
      log: this.log,
      onAttemptEnd: (end) => {
        this.observer.attemptEnded(end);
        // An attempt the client abandoned says nothing about the target: passive health hears neither a success nor a failure.
        if (end.outcome === 'ok') end.ex.pool.outcome(end.target, true, '');
        else if (end.outcome === 'error') end.ex.pool.outcome(end.target, false, end.reason ?? `status ${end.status}`);
      },
      onRetry: (ex, target, reason) => {
        this.observer.metrics.retry(ex.upstream);
        this.log.debug({ reqId: ex.id, upstream: ex.upstream, target: target.id, reason, trace: ex.traceId }, 'retrying on another target');
      },
      onSplitFallback: (ex, leg, to) => {
        this.observer.splitFallback(ex.routeId, leg.name, to);
        if (this.splitLines.take()) {
          this.log.warn({ reqId: ex.id, route: ex.routeId, leg: leg.name, to, trace: ex.traceId }, to === 'primary' ? 'split leg has no healthy target: its cohort goes to the primary' : 'split leg has no healthy target: answered 503 (fallback: 503)');
        }
      },
      onSplitUnkeyed: (ex) => this.observer.splitUnkeyed(ex.routeId),
      onSendTimeout: (ex) => {
        this.observer.metrics.count('send_timeout', { upstream: ex.upstream });
        this.log.info({ reqId: ex.id, route: ex.routeId, ip: ex.clientIp, trace: ex.traceId }, 'client stopped reading: connection closed (limits.sendTimeout)');
      },
    };
    const onRejected = (refusal: Refusal) => this.observer.rejected(refusal, this.active.trace !== undefined);
    const handler = createHandler({
      current: () => this.active,
      ips,
      trustRequestId: g.trustRequestId,
      trustProxyConfigured: g.trustProxy !== false,
      maxUrlLength: limits.maxUrlLength,
      maxHeaders: limits.maxHeaders,
      hooks,
      onRejected,
      secure,
    });
    const onUpgrade = (req: IncomingMessage, socket: Socket, head: Buffer) =>
      handleUpgrade(req, socket, head, {
        current: () => this.active,
        ips,
        maxMessage: limits.maxWebSocketMessage,
        hooks,
        onRejected,
        secure,
        onOriginRefused: (ex, reason) => this.observer.metrics.count('websocket_origin_rejected', { upstream: ex.upstream, result: reason }),
      });
    const refused = (method: string, path: string, status: number, id: string, ip: string, code: ErrorCode) => this.observer.refused(method, path, status, id, ip, code, this.active.trace !== undefined);
    const onClientError = createClientErrorHandler(limits.maxUrlLength, refused, hooks.onFinish);
    return { handler, onUpgrade, onClientError };
  }
}
