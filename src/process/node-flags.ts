/**
 * The node options a process that serves traffic runs with, in one place:
 * `npm start`, the container's entrypoint, the cluster
 * workers (primary.ts) and the benchmark pass them; `switchyard start` run
 * without them says so (cli/start.ts).
 *
 * `--no-memory-reducer`: V8's memory reducer notices a quiet process (low
 * allocation rate, some time after its last full GC) and runs up to three
 * memory-reducing mark-compacts. Those clear the weak references optimized
 * code holds, which deoptimizes the whole request path at once — node's
 * http and stream functions, undici's parser callbacks, the gateway's own —
 * and the code V8 then re-optimizes stayed slower: after one idle minute the
 * gateway served 11–16 % fewer requests per second than before it, 20 s
 * later still (131 deoptimizations while idle under --trace-deopt; with the
 * flag, none, and the same rate before and after; bench/README.md journal
 * "Issue 17 (2026-12-07)"). A front door whose traffic comes in bursts would
 * pay that after every quiet spell. The price is idle memory: without the
 * reducer the heap keeps what it grew to under load until the next full GC
 * (`memory.releaseWhenIdle` gives it back on purpose, and says what that costs).
 *
 * V8 reads the flag when it sets up the heap: `v8.setFlagsFromString` at run
 * time does not turn the reducer off (tried), so it must be on the command line.
 */
export const SERVING_NODE_FLAGS: readonly string[] = ['--no-memory-reducer'];

/** missingServingFlags lists the serving flags a process was started without. */
export function missingServingFlags(execArgv: readonly string[] = process.execArgv): string[] {
  return SERVING_NODE_FLAGS.filter((f) => !execArgv.includes(f));
}
