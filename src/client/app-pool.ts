/**
 * One application as the client sees it: a gateway Upstream (src/upstream/)
 * filled by a discovery provider, with the gateway's passive outlier
 * detection and retry budget wired to it. Upstream fits the client as it is:
 * it keeps the eligible set (health, drain, source status), panic mode and
 * slow start, and replaceTargets applies each discovered set like a reload
 * (unchanged instances keep their connections and health, new ones
 * slow-start, removed ones drain, then close). Each instance is a Target
 * with its own undici Pool.
 *
 * Starting: the first call waits for discovery's first answer. A source that
 * fails first (or says nothing within startTimeout) makes that call fail
 * with DiscoveryUnavailableError, unless a fallback list names the
 * application: then the fallback serves until discovery answers. Once a set
 * is known, a failing source changes nothing (providers keep the last set).
 */
import type { Logger } from 'pino';
import { createBalancer } from '../balancing/index.js';
import type { DiscoveredInstance, DiscoveryProvider } from '../discovery/index.js';
import { OutlierDetector, outlierConfigFromDoc } from '../health/outlier-detector.js';
import { RetryBudget, retryBudgetOptionsFromDoc } from '../health/retry-budget.js';
import type { HealthListener, HealthSubject } from '../health/types.js';
import { Target, type TargetPoolOptions } from '../upstream/target.js';
import { Upstream } from '../upstream/upstream.js';
import { DiscoveryUnavailableError } from './errors.js';
import type { ClientMetrics } from './metrics.js';
import type { ClientOptionsDoc } from './options.js';
import { durationMs } from './sources.js';

/** AppPoolOptions build one application's pool. */
export interface AppPoolOptions {
  /** app is the upper-case application name. */
  app: string;
  doc: ClientOptionsDoc;
  /** provider is discovery's provider for the app; undefined when the source does not know the app (the fallback, if any, serves). */
  provider: DiscoveryProvider | undefined;
  /** fallback is the provider of `fallback.targets` for the app, if configured. */
  fallback: DiscoveryProvider | undefined;
  logger: Logger;
  metrics: ClientMetrics;
  now?: () => number;
}

/** STATE_POLL_MS is how often a pool waiting for its first set asks the provider whether it failed (providers report sets, not failures). */
const STATE_POLL_MS = 20;

/** AppPool is one application's instances, balancer and health. */
export class AppPool {
  readonly app: string;
  readonly upstream: Upstream;
  readonly budget: RetryBudget;
  private readonly detector: OutlierDetector | undefined;
  private readonly poolOptions: TargetPoolOptions;
  private readonly startTimeoutMs: number;
  /** discovered turns true with discovery's first set; from then on the fallback is off. */
  private discovered = false;
  private usingFallback = false;
  /** hasSet turns true with the first set applied, from discovery or the fallback. */
  private hasSet = false;
  private waiters: Array<() => void> = [];
  private closed = false;

  constructor(private readonly options: AppPoolOptions) {
    const { app, doc, logger } = options;
    const now = options.now ?? Date.now;
    this.app = app;
    this.startTimeoutMs = durationMs(doc.startTimeout);
    const settings = {
      hostHeader: 'target',
      connectTimeoutMs: durationMs(doc.timeouts.connect),
      responseTimeoutMs: durationMs(doc.timeouts.response),
      idleTimeoutMs: durationMs(doc.timeouts.idle),
      panicThreshold: doc.panicThreshold,
      slowStartMs: durationMs(doc.slowStart),
    };
    const keepAlive = doc.keepAlive!;
    this.poolOptions = { connections: keepAlive.connections, pipelining: keepAlive.pipelining, keepAliveMs: durationMs(keepAlive.idle), connectTimeoutMs: settings.connectTimeoutMs, tls: { verify: true } };
    this.upstream = new Upstream(app, app, [], createBalancer<Target>(doc.balancer), settings, logger, now);
    const clock = { now };
    this.budget = new RetryBudget({ ...retryBudgetOptionsFromDoc(doc.retryBudget ?? {}), clock });
    this.upstream.retryBudget = this.budget;
    if (doc.outlierDetection.enabled) {
      this.detector = new OutlierDetector({ ...outlierConfigFromDoc(doc.outlierDetection), listener: this.healthListener(), logger, clock });
      this.upstream.passive = this.detector;
    }
  }

  /** start starts discovery (and, when discovery does not know the app, the fallback at once). */
  start(): void {
    const { provider } = this.options;
    if (provider !== undefined) provider.start((set) => this.apply(set, true));
    else this.startFallback();
  }

  /** isReady tells whether a set was applied (calls then need not wait for ready()). */
  get isReady(): boolean {
    return this.hasSet;
  }

  /**
   * ready resolves once the pool has a set to pick from (discovered or
   * fallback); it rejects with DiscoveryUnavailableError when discovery
   * failed before its first answer and there is no fallback. After such a
   * failure, later calls fail at once while the source is still failing.
   */
  async ready(): Promise<void> {
    const { provider, fallback } = this.options;
    for (;;) {
      if (this.hasSet || this.closed || (provider === undefined && fallback === undefined)) return;
      const watched = this.usingFallback ? undefined : provider;
      if (watched !== undefined && watched.state().errors > 0) {
        this.failStart(watched); // throws, or starts the fallback
        continue;
      }
      const failed = await this.waitForSet(watched);
      if (this.hasSet || this.closed) return;
      if (!failed || watched === undefined) return;
      this.failStart(watched);
    }
  }

  /** waitForSet resolves false when a set arrives, true when `provider` fails first or startTimeout passes. */
  private waitForSet(provider: DiscoveryProvider | undefined): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const done = (failed: boolean) => {
        clearInterval(poll);
        clearTimeout(deadline);
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve(failed);
      };
      const wake = () => done(false);
      this.waiters.push(wake);
      const poll = setInterval(() => provider !== undefined && provider.state().errors > 0 && done(true), STATE_POLL_MS);
      const deadline = setTimeout(() => done(true), this.startTimeoutMs);
    });
  }

  /** close stops discovery and health, and closes every connection. */
  async close(): Promise<void> {
    this.closed = true;
    this.options.provider?.stop();
    this.options.fallback?.stop();
    this.detector?.stop();
    this.upstream.dispose();
    this.wake();
    await Promise.all(this.upstream.targets.map((t) => t.close()));
  }

  /** unavailableReason says why nothing is eligible, for NoInstancesError: "none registered", "3 instances: 2 ejected, 1 down". */
  unavailableReason(): string {
    const targets = this.upstream.targets.filter((t) => !t.retiring);
    if (targets.length === 0) return this.options.provider === undefined && this.options.fallback === undefined ? 'the application is not configured' : 'no instance is registered';
    const now = this.upstream.now();
    const counts = new Map<string, number>();
    for (const t of targets) counts.set(t.state(now), (counts.get(t.state(now)) ?? 0) + 1);
    return `${targets.length} instance${targets.length === 1 ? '' : 's'}: ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}`;
  }

  /** failStart starts the fallback after discovery failed first, or throws DiscoveryUnavailableError when there is none. */
  private failStart(provider: DiscoveryProvider): void {
    const st = provider.state();
    if (this.options.fallback !== undefined) {
      this.options.logger.warn({ app: this.app, reason: st.lastError }, 'discovery failed before its first answer: using the fallback instances');
      this.startFallback();
      return;
    }
    const reason = st.lastError ?? `no answer within ${this.startTimeoutMs}ms`;
    throw new DiscoveryUnavailableError(this.app, `${st.kind} ${st.subject}: ${reason}`);
  }

  private startFallback(): void {
    const fallback = this.options.fallback;
    if (fallback === undefined || this.usingFallback || this.discovered) return;
    this.usingFallback = true;
    fallback.start((set) => this.apply(set, false));
  }

  /** apply installs a set: discovery's always (the fallback stops with the first one), the fallback's only while discovery has said nothing. */
  private apply(set: readonly DiscoveredInstance[], fromDiscovery: boolean): void {
    if (this.closed || (!fromDiscovery && this.discovered)) return;
    if (fromDiscovery && !this.discovered) {
      this.discovered = true;
      if (this.usingFallback) this.options.logger.info({ app: this.app, instances: set.length }, 'discovery answered: the fallback instances leave');
      this.options.fallback?.stop();
    }
    this.upstream.replaceTargets(set, (url, weight, index) => new Target(url, weight, index, 'client', this.poolOptions));
    this.detector?.setSubjects(this.upstream.targets);
    this.upstream.recompute();
    this.hasSet = true;
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.slice()) w();
  }

  /** healthListener applies outlier detection's verdicts to the targets, then lets the pool recompute its eligible set (health reports, balancers listen). */
  private healthListener(): HealthListener {
    const pool = this;
    const target = (s: HealthSubject) => s as Target;
    return {
      onActiveHealth() {},
      onEjected(subject, untilMs) {
        target(subject).ejectedUntil = untilMs;
        pool.options.metrics.ejection(pool.app, subject.id);
        pool.upstream.recompute();
      },
      onReadmitted(subject) {
        target(subject).ejectedUntil = 0;
        target(subject).readySince = pool.upstream.now();
        pool.upstream.recompute();
      },
    };
  }
}
