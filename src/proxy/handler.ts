/**
 * The public request handler: admission (admission.ts: normalize, route, run
 * the plugin chain), then the request body, then forwarding. It reads the
 * active Runtime once, so a request is served wholly by one configuration
 * version even if a reload lands mid-request.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Exchange } from './exchange.js';
import { attempt } from './forward.js';
import { answerError } from './respond.js';
import { BodyTooLarge, LimitStream, readBody, readStart } from './body.js';
import { admit, runChain, type AdmissionDeps, type Proceed } from './admission.js';
import type { ProxyHooks } from './hooks.js';
import { chooseLeg } from './split.js';
import { mirror } from './mirror.js';

/** HandlerDeps is what the handler needs from the gateway. */
export interface HandlerDeps extends AdmissionDeps {
  trustRequestId: boolean;
  trustProxyConfigured: boolean;
  maxUrlLength: number;
  /** maxHeaders caps the number of request headers (431 over; node would silently drop the rest). */
  maxHeaders: number;
  secure: boolean;
}

/** createHandler builds the function mounted on the public server's 'request' event. */
export function createHandler(deps: HandlerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const hooks = deps.hooks;
  // Built once: the per-request path allocates neither deps nor a continuation.
  const admission: AdmissionDeps = { ...deps, limits: { maxUrlLength: deps.maxUrlLength, maxHeaders: deps.maxHeaders } };
  const next: Proceed = (ex) => {
    // A split picks the pool after the chain (claims and sessions exist then); one branch for routes without.
    const split = ex.route.split;
    if (split !== undefined && !chooseLeg(ex, split, hooks)) return;
    prepareBody(ex, hooks);
  };
  return function handle(req: IncomingMessage, res: ServerResponse): void {
    const ex = admit(req, res, admission, false);
    if (ex !== undefined) runChain(ex, false, hooks, next);
  };
}

/** unframedBody tells an HTTP/2 request whose body follows its headers without a declared length. */
function unframedBody(req: IncomingMessage): boolean {
  return req.httpVersionMajor === 2 && (req as unknown as { stream: { endAfterHeaders: boolean } }).stream.endAfterHeaders === false;
}

/** continueIfAsked sends `100 Continue` to a client waiting for it before sending its body (node leaves it to us: see gateway.ts). */
function continueIfAsked(ex: Exchange): void {
  const expect = ex.headers.expect;
  if (expect !== undefined && expect.toLowerCase() === '100-continue' && !ex.res.headersSent) ex.res.writeContinue();
}

/** prepareBody checks the body against the route's limit, buffers it when it is small, then forwards. */
function prepareBody(ex: Exchange, hooks: ProxyHooks): void {
  const h = ex.headers;
  const te = h['transfer-encoding'];
  const cl = h['content-length'];
  const limit = ex.route.bodyLimit;
  // An HTTP/2 body without content-length is framed by DATA frames: like chunked, it streams, counted.
  if (te === undefined && (cl !== undefined || !unframedBody(ex.req))) {
    if (cl === undefined || cl === '0') {
      ex.body = null;
      return forward(ex, hooks);
    }
    const length = Number(cl);
    if (length > limit) return answerError(ex, 'SY_ERR_BODY_TOO_LARGE', hooks.onFinish, { close: true });
    continueIfAsked(ex);
    if (length <= ex.route.retry.bufferBody) {
      readBody(ex.req, length).then(
        (buf) => {
          ex.body = buf;
          forward(ex, hooks);
        },
        (err: unknown) => {
          ex.error = err;
          answerError(ex, 'SY_ERR_BAD_REQUEST', hooks.onFinish, { close: true });
        },
      );
      return;
    }
    ex.body = ex.req;
    return forward(ex, hooks);
  }
  // Length unknown (chunked): buffer up to the replay size first, then count as it streams.
  continueIfAsked(ex);
  readStart(ex.req, ex.route.retry.bufferBody, limit).then(
    (start) => {
      if (start.complete) {
        ex.body = start.body;
        return forward(ex, hooks);
      }
      const counted = new LimitStream(limit);
      counted.write(start.head);
      ex.body = ex.req.pipe(counted);
      ex.req.on('error', (err) => counted.destroy(err));
      forward(ex, hooks);
    },
    (err: unknown) => {
      ex.error = err;
      answerError(ex, err instanceof BodyTooLarge ? 'SY_ERR_BODY_TOO_LARGE' : 'SY_ERR_BAD_REQUEST', hooks.onFinish, { close: true });
    },
  );
}

/**
 * forward sends the exchange upstream once its body is ready, then its shadow
 * copy if the route mirrors (after the primary's dispatch: the copy never goes
 * first). A body that streams is not copied (mirror.ts).
 */
function forward(ex: Exchange, hooks: ProxyHooks): void {
  attempt(ex, hooks);
  const m = ex.route.mirror;
  if (m !== undefined) mirror(ex, m);
}
