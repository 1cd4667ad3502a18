/**
 * A plugin that threw or rejected, in whichever phase: its request hooks, its
 * upgrade hooks (admission.ts runs both) or its response hooks (forward.ts).
 * The cause is logged here and only here; the client gets a plain 500
 * SY_ERR_PLUGIN_FAILED (the cause never reaches it) and the access log names
 * the plugin.
 */
import { PluginFailure } from '../plugins/chain.js';
import type { Exchange } from './exchange.js';
import type { ProxyHooks } from './hooks.js';
import { answerError } from './respond.js';

/** PluginPhase names the hooks a plugin failed in (upgrades say so in the log line). */
export type PluginPhase = 'request' | 'upgrade' | 'response';

/**
 * answerPluginFailure records a plugin failure on its exchange, logs it with
 * the plugin's own error (not the PluginFailure wrapper), and answers 500.
 */
export function answerPluginFailure(ex: Exchange, err: unknown, phase: PluginPhase, hooks: ProxyHooks): void {
  // A response hook's failure was recorded when it aborted the attempt: the same error.
  ex.error ??= err;
  const failure = err instanceof PluginFailure ? err : undefined;
  ex.plugin = failure?.plugin;
  hooks.log.error(
    { err: failure !== undefined ? failure.cause : err, plugin: ex.plugin, route: ex.routeId, reqId: ex.id, trace: ex.traceId },
    phase === 'upgrade' ? 'plugin failed on upgrade' : 'plugin failed',
  );
  answerError(ex, 'SY_ERR_PLUGIN_FAILED', hooks.onFinish);
}
