/**
 * CLOSE_GRACE_MS bounds a graceful close: an HTTP/2 socket still open this
 * long after its session was told to close is destroyed (h2-sessions.ts), and
 * the public listener's close waits that much longer than its timeout. Its
 * own file so the plain-HTTP listener reads it without loading node:http2.
 */
export const CLOSE_GRACE_MS = 1000;
