/**
 * Responses the gateway writes itself: catalogued errors and plugin answers.
 * Both pass through the chain's response hooks (so CORS headers reach a 401),
 * and neither ever carries internal detail.
 */
import { ERRORS, GatewayError, errorBody, type ErrorCode } from '../errors.js';
import { PluginFailure, runResponseHooks } from '../plugins/chain.js';
import type { Answer, PluginResponse } from '../plugins/types.js';
import type { Exchange } from './exchange.js';
import type { ServerResponse } from 'node:http';

/** finishHook is called once per exchange when the response is complete (access log, metrics). */
export type FinishHook = (ex: Exchange) => void;

/** writeBare writes a JSON error straight to a response, outside any exchange (400/404 before routing); returns the body bytes sent. */
export function writeBare(res: ServerResponse, code: ErrorCode, requestId: string, close = false): number {
  if (res.headersSent) {
    res.destroy();
    return 0;
  }
  const body = errorBody(code, requestId);
  const length = Buffer.byteLength(body);
  res.writeHead(ERRORS[code].status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': length,
    'cache-control': 'no-store',
    'x-request-id': requestId,
    // HTTP/2 forbids connection-specific headers; closing the stream is all it needs.
    ...(close && res.req?.httpVersionMajor !== 2 ? { connection: 'close' } : {}),
  });
  if (res.req?.method === 'HEAD') {
    res.end();
    return 0;
  }
  res.end(body);
  return length;
}

/** answerError answers an exchange with a catalogued error (through the response hooks). */
export function answerError(ex: Exchange, code: ErrorCode, onFinish: FinishHook, extra?: { headers?: Record<string, string>; fields?: Record<string, string | number>; close?: boolean }): void {
  const headers: Record<string, string | string[] | undefined> = {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...extra?.headers,
  };
  if (extra?.close && ex.req.httpVersionMajor !== 2) headers.connection = 'close';
  ex.code = code;
  send(ex, ERRORS[code].status, headers, errorBody(code, ex.id, extra?.fields), onFinish);
}

/** answerPlugin sends a plugin's Answer. */
export function answerPlugin(ex: Exchange, answer: Answer, onFinish: FinishHook): void {
  const headers: Record<string, string | string[] | undefined> = { ...answer.headers };
  let body: string | Buffer;
  if (answer.code !== undefined) {
    ex.code = answer.code;
    body = errorBody(answer.code, ex.id);
    headers['content-type'] ??= 'application/json; charset=utf-8';
  } else if (answer.body === undefined) body = '';
  else if (typeof answer.body === 'string' || Buffer.isBuffer(answer.body)) body = answer.body;
  else {
    body = JSON.stringify(answer.body);
    headers['content-type'] ??= 'application/json; charset=utf-8';
  }
  send(ex, answer.status, headers, body, onFinish);
}

function send(ex: Exchange, status: number, headers: Record<string, string | string[] | undefined>, body: string | Buffer, onFinish: FinishHook): void {
  if (ex.responded || ex.res.headersSent) {
    ex.res.destroy();
    finish(ex, onFinish);
    return;
  }
  // Nobody to answer (the client left while a plugin or the body read was pending).
  if (clientLeft(ex.res)) return clientClosed(ex, onFinish);
  const out: PluginResponse = { status, headers, fromUpstream: false };
  const write = () => {
    if (ex.res.headersSent) return finish(ex, onFinish);
    if (clientLeft(ex.res)) return clientClosed(ex, onFinish);
    const length = Buffer.byteLength(body);
    headers['content-length'] = String(length);
    headers['x-request-id'] = ex.id;
    ex.status = out.status;
    ex.responded = true;
    ex.res.writeHead(out.status, headers as Record<string, string | string[]>);
    const head = ex.method === 'HEAD';
    ex.sent = head ? 0 : length;
    ex.res.end(head ? undefined : body);
    finish(ex, onFinish);
  };
  let pending: void | Promise<void>;
  try {
    pending = runResponseHooks(ex.route.chain.response, ex, out);
  } catch (err) {
    ex.error ??= err;
    if (err instanceof PluginFailure) ex.plugin = err.plugin;
    return writePlainFailure(ex, onFinish);
  }
  if (pending) {
    pending.then(write, (err: unknown) => {
      ex.error ??= err;
      if (err instanceof PluginFailure) ex.plugin = err.plugin;
      writePlainFailure(ex, onFinish);
    });
  } else write();
}

/** writePlainFailure is the last resort when a response hook throws: a 500 without hooks. */
function writePlainFailure(ex: Exchange, onFinish: FinishHook): void {
  ex.status = 500;
  ex.code = 'SY_ERR_PLUGIN_FAILED';
  ex.sent = writeBare(ex.res, 'SY_ERR_PLUGIN_FAILED', ex.id);
  ex.responded = true;
  finish(ex, onFinish);
}

/** CLIENT_CLOSED is the logged error of an exchange whose client went away (one shared instance: nothing is allocated per abort). */
const CLIENT_CLOSED = new GatewayError('SY_ERR_CLIENT_CLOSED');

/** clientLeft tells whether the client connection (HTTP/1) or stream (HTTP/2) of a response is gone. */
export function clientLeft(res: ServerResponse): boolean {
  // node's HTTP/2 compatibility response has no `destroyed`; its stream does.
  return res.destroyed || (res as unknown as { stream?: { destroyed: boolean } }).stream?.destroyed === true;
}

/**
 * clientClosed finishes an exchange whose client went away before its
 * response was complete. The access log and the metrics then say 499 when no
 * response head had gone out, else the status that had (what nginx logs),
 * and the span is an error named SY_ERR_CLIENT_CLOSED (see otlp-encode.ts).
 */
export function clientClosed(ex: Exchange, onFinish: FinishHook): void {
  if (ex.finished) return;
  ex.code = 'SY_ERR_CLIENT_CLOSED';
  // A cause already known (a send timeout, a broken upload) is the better log line.
  ex.error ??= CLIENT_CLOSED;
  finish(ex, onFinish);
}

/** finish calls the finish hook exactly once. */
export function finish(ex: Exchange, onFinish: FinishHook): void {
  if (ex.finished) return;
  ex.finished = true;
  onFinish(ex);
}
