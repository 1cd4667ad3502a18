/**
 * A compiled plugin chain: the hooks of the global chain followed by the
 * route's own, flattened into arrays at load so the per-request path is a
 * loop over functions. Hooks may be synchronous (no microtask is spent) or
 * return a promise.
 */
import type { Answer, PluginHooks, PluginRequest, PluginResponse } from './types.js';
import { foldHeaderName } from '../http/header-names.js';

/** ChainLink is one plugin instance in a chain. */
export interface ChainLink {
  readonly name: string;
  readonly hooks: PluginHooks;
}

/** PluginChain is the per-route chain, compiled. */
export interface PluginChain {
  readonly links: readonly ChainLink[];
  /** request holds the links with onRequest, in order. */
  readonly request: readonly ChainLink[];
  /** upgrade holds the links with onUpgrade or onRequest, in order. */
  readonly upgrade: readonly ChainLink[];
  /** response holds the links with onResponse, in reverse order (the last plugin sees the response first, like middleware unwinding). */
  readonly response: readonly ChainLink[];
  /** ownedHeaders are request headers some plugin sets: client copies are always stripped. */
  readonly ownedHeaders: ReadonlySet<string> | undefined;
}

/** EMPTY_CHAIN is the chain of a route with no plugins. */
export const EMPTY_CHAIN: PluginChain = { links: [], request: [], upgrade: [], response: [], ownedHeaders: undefined };

/** compileChain flattens plugin instances into a chain. */
export function compileChain(links: readonly ChainLink[]): PluginChain {
  if (links.length === 0) return EMPTY_CHAIN;
  const owned = new Set<string>();
  // Folded (`x_user_id` → `x-user-id`): the upstream may read any spelling as the same header.
  for (const l of links) for (const h of l.hooks.ownsHeaders ?? []) owned.add(foldHeaderName(h));
  return {
    links,
    request: links.filter((l) => l.hooks.onRequest),
    upgrade: links.filter((l) => l.hooks.onUpgrade ?? l.hooks.onRequest),
    response: links.filter((l) => l.hooks.onResponse).reverse(),
    ownedHeaders: owned.size > 0 ? owned : undefined,
  };
}

/** PluginFailure wraps an exception thrown by a plugin, naming it. */
export class PluginFailure extends Error {
  constructor(
    readonly plugin: string,
    cause: unknown,
  ) {
    super(`plugin ${plugin} failed`, { cause });
    this.name = 'PluginFailure';
  }
}

const isThenable = (v: unknown): v is Promise<unknown> => typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';

/** AnsweredRequest is a request that remembers which plugin answered it (the access log names it). */
export type AnsweredRequest = PluginRequest & { plugin: string | undefined };

/**
 * runRequestHooks runs the request links from index `from`; it returns an
 * Answer when a plugin answered, undefined when the request may proceed, or a
 * promise of either when a hook is asynchronous. Throws PluginFailure.
 * The answering plugin's name is written to `req.plugin`.
 */
export function runRequestHooks(links: readonly ChainLink[], req: AnsweredRequest, upgrade: boolean, from = 0): Answer | undefined | Promise<Answer | undefined> {
  for (let i = from; i < links.length; i++) {
    const link = links[i]!;
    let result: Answer | void | Promise<Answer | void>;
    try {
      const hook = upgrade ? (link.hooks.onUpgrade ?? link.hooks.onRequest)! : link.hooks.onRequest!;
      result = hook.call(link.hooks, req);
    } catch (err) {
      throw new PluginFailure(link.name, err);
    }
    if (isThenable(result)) {
      return result.then(
        (answer) => {
          if (!answer) return runRequestHooks(links, req, upgrade, i + 1);
          req.plugin = link.name;
          return answer;
        },
        (err: unknown) => {
          throw new PluginFailure(link.name, err);
        },
      );
    }
    if (result) {
      req.plugin = link.name;
      return result;
    }
  }
  return undefined;
}

/** runResponseHooks runs the response links; returns a promise only when a hook is asynchronous. Throws PluginFailure. */
export function runResponseHooks(links: readonly ChainLink[], req: PluginRequest, res: PluginResponse, from = 0): void | Promise<void> {
  for (let i = from; i < links.length; i++) {
    const link = links[i]!;
    let result: void | Promise<void>;
    try {
      result = link.hooks.onResponse!.call(link.hooks, req, res);
    } catch (err) {
      throw new PluginFailure(link.name, err);
    }
    if (isThenable(result)) {
      return result.then(
        () => runResponseHooks(links, req, res, i + 1),
        (err: unknown) => {
          throw new PluginFailure(link.name, err);
        },
      );
    }
  }
}
