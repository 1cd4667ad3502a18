/**
 * Wiring a pool to its health checkers: the checkers report through a
 * HealthListener, the listener updates the targets and asks the pool to
 * recompute its eligible set. Nothing here runs per request.
 */
import type { Logger } from 'pino';
import type { UpstreamDoc } from '../config/schema.js';
import { ActiveChecker, activeCheckConfigFromDoc } from '../health/active-checker.js';
import { OutlierDetector, outlierConfigFromDoc } from '../health/outlier-detector.js';
import { probeFromDoc } from '../health/probes.js';
import { RetryBudget, retryBudgetOptionsFromDoc } from '../health/retry-budget.js';
import type { HealthListener, HealthSubject } from '../health/types.js';
import type { Target } from '../upstream/target.js';
import type { Upstream } from '../upstream/upstream.js';
import { upstreamTls } from '../upstream/tls.js';

/** HealthEvents receives transitions for metrics (optional). */
export interface HealthEvents {
  transition(upstream: string, target: string, kind: 'healthy' | 'unhealthy' | 'ejected' | 'readmitted'): void;
}

/** wireHealth starts active checks, passive detection and the retry budget of a freshly built pool. */
export function wireHealth(upstream: Upstream, doc: UpstreamDoc, baseDir: string, log: Logger, events?: HealthEvents): void {
  const now = upstream.now;
  const byId = (s: HealthSubject) => s as Target;
  const listener: HealthListener = {
    onActiveHealth(subject, healthy) {
      const t = byId(subject);
      t.activeHealthy = healthy;
      if (healthy) t.readySince = now();
      events?.transition(upstream.name, t.id, healthy ? 'healthy' : 'unhealthy');
      upstream.recompute();
    },
    onEjected(subject, untilMs) {
      const t = byId(subject);
      t.ejectedUntil = untilMs;
      events?.transition(upstream.name, t.id, 'ejected');
      upstream.recompute();
    },
    onReadmitted(subject) {
      const t = byId(subject);
      t.ejectedUntil = 0;
      t.readySince = now();
      events?.transition(upstream.name, t.id, 'readmitted');
      upstream.recompute();
    },
  };
  const clock = { now };
  upstream.retryBudget = new RetryBudget({ ...retryBudgetOptionsFromDoc(doc.retryBudget ?? {}), clock });

  let detector: OutlierDetector | undefined;
  if (doc.outlierDetection?.enabled !== false) {
    detector = new OutlierDetector({ ...outlierConfigFromDoc(doc.outlierDetection ?? {}), listener, logger: log.child({ upstream: upstream.name }), clock });
    detector.setSubjects(upstream.targets);
    upstream.passive = detector;
  }
  // Targets carried over from a changed pool restart from the new checker's view.
  for (const t of upstream.targets) {
    t.activeHealthy = doc.healthCheck ? !doc.healthCheck.startUnhealthy : true;
    t.ejectedUntil = 0;
  }
  let checker: ActiveChecker | undefined;
  if (doc.healthCheck) {
    const { ca, servername } = upstreamTls(doc, baseDir);
    const probe = probeFromDoc(doc.healthCheck, { tls: { ...(ca ? { ca } : {}), ...(servername ? { servername } : {}) }, clock });
    checker = new ActiveChecker({ ...activeCheckConfigFromDoc(doc.healthCheck), subjects: upstream.targets, probe, listener, logger: log.child({ upstream: upstream.name }), clock });
    checker.start();
    upstream.onDispose(() => {
      checker!.stop();
      void probe.close();
    });
  }
  if (detector) upstream.onDispose(() => detector!.stop());
  upstream.health = {
    active: (t) => checker?.state(t.id),
    passive: (t) => detector?.state(t.id),
  };
  upstream.recompute();
  startDiscovery(upstream, doc, checker, detector);
}

/**
 * startDiscovery starts the provider of a `discover:` pool (compile.ts built
 * it): each set it reports goes through replaceTargets, and the checkers
 * follow the pool's members (new targets checked, removed ones forgotten).
 * The provider stops when the pool retires.
 */
function startDiscovery(upstream: Upstream, doc: UpstreamDoc, checker: ActiveChecker | undefined, detector: OutlierDetector | undefined): void {
  const discovery = upstream.discovery;
  if (discovery === undefined) return;
  const startHealthy = doc.healthCheck ? !doc.healthCheck.startUnhealthy : true;
  const stopFollowing = upstream.onTargetsChanged((change) => {
    for (const t of change.added) {
      // A target that came back while draining out restarts from the checker's view, like a new one.
      t.activeHealthy = startHealthy;
      t.ejectedUntil = 0;
    }
    checker?.setSubjects(change.current);
    detector?.setSubjects(change.current);
    upstream.recompute();
  });
  discovery.provider.start((instances) => upstream.replaceTargets(instances, discovery.makeTarget));
  upstream.onDispose(() => {
    discovery.provider.stop();
    stopFollowing();
  });
}
