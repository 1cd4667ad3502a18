/**
 * The gateway's own registry as compile.ts and the `registry` discovery
 * providers see it. Pools are compiled when the gateway is created, but the
 * registry starts at listen(); providers read their source only once they
 * start (at commit, after the registry), so they get this view, which reads
 * the running registry once attached and nothing before.
 */
import type { RegistryInstance, RegistrySource } from '../discovery/index.js';

/** RegistryView is a RegistrySource that delegates to a registry attached later. */
export class RegistryView implements RegistrySource {
  private source: RegistrySource | undefined;
  /** listeners subscribed before attach(): they are moved to the registry when it comes. */
  private readonly early = new Map<(app: string) => void, () => void>();

  /** attach sets the running registry; early subscribers are told every known application changed. */
  attach(source: RegistrySource): void {
    this.source = source;
    for (const listener of [...this.early.keys()]) {
      this.early.set(listener, source.onChange(listener));
      for (const app of source.apps()) listener(app);
    }
  }

  instances(app: string): readonly RegistryInstance[] {
    return this.source?.instances(app) ?? [];
  }

  onChange(listener: (app: string) => void): () => void {
    if (this.source !== undefined) return this.source.onChange(listener);
    this.early.set(listener, () => undefined);
    return () => {
      this.early.get(listener)?.();
      this.early.delete(listener);
    };
  }

  apps(): readonly string[] {
    return this.source?.apps() ?? [];
  }
}
