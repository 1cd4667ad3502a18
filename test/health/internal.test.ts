/**
 * The probes' internals: error reasons and deadlines.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { abortReason, withDeadline } from '../../src/health/internal/deadline.js';
import { errorReason } from '../../src/health/internal/error-reason.js';

const err = (props: Record<string, unknown>, message = 'connect ECONNREFUSED 10.1.2.3:8080 at stack...') => Object.assign(new Error(message), props);

describe('errorReason', () => {
  it.each([
    { e: err({ code: 'ECONNREFUSED', syscall: 'connect' }), reason: 'connect ECONNREFUSED' },
    { e: err({ code: 'ENOTFOUND', syscall: 'getaddrinfo' }), reason: 'getaddrinfo ENOTFOUND' },
    { e: err({ code: 'UND_ERR_CONNECT_TIMEOUT' }), reason: 'connect timeout' },
    { e: err({ code: 'UND_ERR_SOCKET', cause: err({ code: 'ECONNRESET', syscall: 'read' }) }), reason: 'read ECONNRESET' },
    { e: err({ code: 'UND_ERR_SOCKET' }), reason: 'socket closed' },
    { e: err({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), reason: 'tls DEPTH_ZERO_SELF_SIGNED_CERT' },
    { e: err({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' }), reason: 'tls ERR_TLS_CERT_ALTNAME_INVALID' },
    { e: err({ code: 'EWHATEVER' }), reason: 'error EWHATEVER' },
    { e: new TypeError('x'), reason: 'error TypeError' },
    { e: new Error('secret detail'), reason: 'error' },
    { e: Object.assign(new Error('fetch failed'), { cause: err({ code: 'ECONNREFUSED', syscall: 'connect' }) }), reason: 'connect ECONNREFUSED' },
    { e: 'a string', reason: 'error' },
    { e: null, reason: 'error' },
  ])('$reason', ({ e, reason }) => {
    expect(errorReason(e)).toBe(reason);
  });
});

describe('withDeadline', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('aborts with a timeout reason when the time passes', async () => {
    vi.useFakeTimers();
    const d = withDeadline(new AbortController().signal, 100);
    await vi.advanceTimersByTimeAsync(99);
    expect(d.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(abortReason(d.signal)).toBe('timeout after 100ms');
    d.dispose();
  });

  it('follows the parent, already aborted or later', () => {
    const early = new AbortController();
    early.abort();
    expect(abortReason(withDeadline(early.signal, 100).signal)).toBe('aborted');
    const late = new AbortController();
    const d = withDeadline(late.signal, 10_000);
    late.abort();
    expect(abortReason(d.signal)).toBe('aborted');
    d.dispose();
  });

  it('dispose() detaches from the parent and stops the timer', async () => {
    vi.useFakeTimers();
    const parent = new AbortController();
    const d = withDeadline(parent.signal, 100);
    d.dispose();
    parent.abort();
    await vi.advanceTimersByTimeAsync(1000);
    expect(d.signal.aborted).toBe(false);
  });
});
