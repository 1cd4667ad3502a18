/**
 * The one error stores raise: the backing store did not answer (down,
 * disconnected, timed out). Plugins map it to their documented
 * fault-tolerance behaviour (`onStoreError`), and the original error stays
 * available as `cause` for logs.
 */

/** StoreUnavailableError says a store operation failed because the store could not be reached. */
export class StoreUnavailableError extends Error {
  constructor(operation: string, cause: unknown) {
    super(`store unavailable during ${operation}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'StoreUnavailableError';
  }
}
