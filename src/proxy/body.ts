/**
 * Request bodies: small bodies are buffered so a failed attempt can be
 * replayed on another target; others stream through, counted against the
 * route's body limit when their length is not declared. A body of unknown
 * length is buffered up to the replay size before anything is forwarded, so
 * one over a limit below that size is refused before it reaches the upstream.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import type { ErrorCode } from '../errors.js';

/** BodyTooLarge is raised when a streamed body passes the limit. */
export class BodyTooLarge extends Error {
  // The catalog code the client gets; also what forward.ts logs as the attempt's failure reason.
  readonly code: ErrorCode = 'SY_ERR_BODY_TOO_LARGE';
  constructor(limit: number) {
    super(`request body exceeds ${limit} bytes`);
  }
}

/** LimitStream passes bytes through until `limit`, then fails. */
export class LimitStream extends Transform {
  private seen = 0;
  constructor(private readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) cb(new BodyTooLarge(this.limit));
    else cb(null, chunk);
  }
}

/**
 * drain attaches a body reader to `req`: `onData` sees each chunk, `onEnd` the
 * end; a stream error or a client that aborts before the end rejects. Returns
 * the cleanup that removes every listener, which each settling path calls
 * first (a reader that settles early leaves the request to its caller).
 */
function drain(req: IncomingMessage, reject: (err: Error) => void, onData: (chunk: Buffer) => void, onEnd: () => void): () => void {
  const end = () => {
    cleanup();
    onEnd();
  };
  const onError = (err: Error) => {
    cleanup();
    reject(err);
  };
  const onClose = () => {
    if (!req.complete) {
      cleanup();
      reject(Object.assign(new Error('client aborted the request body'), { code: 'ECONNRESET' }));
    }
  };
  const cleanup = () => {
    req.off('data', onData);
    req.off('end', end);
    req.off('error', onError);
    req.off('close', onClose);
  };
  req.on('data', onData);
  req.on('end', end);
  req.on('error', onError);
  req.on('close', onClose);
  return cleanup;
}

/** readBody buffers a body of known, small length; rejects if the client aborts. */
export function readBody(req: IncomingMessage, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const buf = Buffer.allocUnsafe(length);
    let off = 0;
    const cleanup = drain(
      req,
      reject,
      (chunk) => {
        if (off + chunk.length > length) {
          cleanup();
          reject(new BodyTooLarge(length));
          return;
        }
        chunk.copy(buf, off);
        off += chunk.length;
      },
      () => resolve(off === length ? buf : buf.subarray(0, off)),
    );
  });
}

/** BodyStart is the start of a body of unknown length: all of it, or its first bytes with the rest still unread. */
export type BodyStart = { complete: true; body: Buffer } | { complete: false; head: Buffer };

/**
 * readStart buffers a body of unknown length until it ends or passes `max`
 * bytes (then the request is left paused for the caller to pipe on). Rejects
 * with BodyTooLarge past `limit`, and when the client aborts.
 */
export function readStart(req: IncomingMessage, max: number, limit: number): Promise<BodyStart> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = drain(
      req,
      reject,
      (chunk) => {
        size += chunk.length;
        if (size > limit) {
          cleanup();
          reject(new BodyTooLarge(limit));
          return;
        }
        chunks.push(chunk);
        if (size > max) {
          req.pause(); // before removing the listener: a flowing stream would drop what comes next
          cleanup();
          resolve({ complete: false, head: Buffer.concat(chunks, size) });
        }
      },
      () => resolve({ complete: true, body: Buffer.concat(chunks, size) }),
    );
  });
}
