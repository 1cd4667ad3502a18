/**
 * Hot-path counters and histograms exported through prom-client. prom-client
 * hashes the label set on every inc/observe, even through a cached child;
 * these keep one plain object per label set (looked up once by the caller and
 * then held) and only build prom-client's sample shape when scraped. The
 * exposition and the getMetricsAsJSON shape (which cluster aggregation reads)
 * match prom-client's Counter and Histogram exactly.
 */
import type { Registry } from 'prom-client';

type Labels = Record<string, string>;

/** CounterCell is one counter series; callers increment `value` directly. */
export interface CounterCell {
  readonly labels: Labels;
  value: number;
}

/** HistogramCell is one histogram series; record with observe(). */
export interface HistogramCell {
  readonly labels: Labels;
  /** counts holds per-bucket (non-cumulative) counts, one per upper bound. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** Metric is the shape prom-client's Registry reads from a registered metric. */
interface Metric {
  name: string;
  help: string;
  type: string;
  values: Sample[];
  aggregator: string;
}

/**
 * Series holds the cells of one metric and registers it with prom-client as
 * if it were one of its own (the registry only calls get() and reset()).
 */
abstract class Series<C extends { readonly labels: Labels }> {
  abstract readonly type: string;
  readonly aggregator = 'sum';
  protected readonly cells: C[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  /** cell adds a series; the caller caches it per label set (a second cell with the same labels would export a duplicate sample). */
  cell(labels: Labels): C {
    const c = this.newCell(labels);
    this.cells.push(c);
    return c;
  }

  get(): Promise<Metric> {
    const values: Sample[] = [];
    for (const c of this.cells) this.samples(c, values);
    return Promise.resolve({ help: this.help, name: this.name, type: this.type, values, aggregator: this.aggregator });
  }

  reset(): void {
    for (const c of this.cells) this.resetCell(c);
  }

  protected abstract newCell(labels: Labels): C;
  protected abstract samples(c: C, out: Sample[]): void;
  protected abstract resetCell(c: C): void;
}

/** CounterSeries is a labelled counter whose series are plain objects. */
export class CounterSeries extends Series<CounterCell> {
  readonly type = 'counter';

  protected newCell(labels: Labels): CounterCell {
    return { labels, value: 0 };
  }

  protected samples(c: CounterCell, out: Sample[]): void {
    out.push({ labels: c.labels, value: c.value });
  }

  protected resetCell(c: CounterCell): void {
    c.value = 0;
  }
}

/** HistogramSeries is a labelled histogram whose series are plain bucket arrays. */
export class HistogramSeries extends Series<HistogramCell> {
  readonly type = 'histogram';
  private readonly bucketName: string;
  private readonly sumName: string;
  private readonly countName: string;

  constructor(
    name: string,
    help: string,
    /** upper bounds, ascending (+Inf implied). */
    readonly buckets: readonly number[],
    registry: Registry,
  ) {
    super(name, help, registry);
    this.bucketName = name + '_bucket';
    this.sumName = name + '_sum';
    this.countName = name + '_count';
  }

  protected newCell(labels: Labels): HistogramCell {
    return { labels, counts: new Float64Array(this.buckets.length), sum: 0, count: 0 };
  }

  observe(c: HistogramCell, v: number): void {
    const b = this.buckets;
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]!) {
        c.counts[i]!++;
        break;
      }
    }
    c.sum += v;
    c.count++;
  }

  protected samples(c: HistogramCell, out: Sample[]): void {
    // Same order and label layout as prom-client: `le` first, then the series labels.
    let acc = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      acc += c.counts[i]!;
      out.push({ labels: { le: this.buckets[i]!, ...c.labels }, value: acc, metricName: this.bucketName });
    }
    out.push({ labels: { le: '+Inf', ...c.labels }, value: c.count, metricName: this.bucketName });
    out.push({ labels: { ...c.labels }, value: c.sum, metricName: this.sumName });
    out.push({ labels: { ...c.labels }, value: c.count, metricName: this.countName });
  }

  protected resetCell(c: HistogramCell): void {
    c.counts.fill(0);
    c.sum = 0;
    c.count = 0;
  }
}
