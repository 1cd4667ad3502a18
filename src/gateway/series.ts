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

/** CounterSeries is a labelled counter whose series are plain objects. */
export class CounterSeries {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  private readonly cells: CounterCell[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  /** cell adds a series; the caller caches it per label set (a second cell with the same labels would export a duplicate sample). */
  cell(labels: Labels): CounterCell {
    const c: CounterCell = { labels, value: 0 };
    this.cells.push(c);
    return c;
  }

  get(): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: string }> {
    const values: Sample[] = [];
    for (const c of this.cells) values.push({ labels: c.labels, value: c.value });
    return Promise.resolve({ help: this.help, name: this.name, type: this.type, values, aggregator: this.aggregator });
  }

  reset(): void {
    for (const c of this.cells) c.value = 0;
  }
}

/** HistogramSeries is a labelled histogram whose series are plain bucket arrays. */
export class HistogramSeries {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly cells: HistogramCell[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    /** upper bounds, ascending (+Inf implied). */
    readonly buckets: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as never);
  }

  /** cell adds a series; the caller caches it per label set. */
  cell(labels: Labels): HistogramCell {
    const c: HistogramCell = { labels, counts: new Float64Array(this.buckets.length), sum: 0, count: 0 };
    this.cells.push(c);
    return c;
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

  get(): Promise<{ name: string; help: string; type: string; values: Sample[]; aggregator: string }> {
    // Same order and label layout as prom-client: `le` first, then the series labels.
    const values: Sample[] = [];
    const bucketName = this.name + '_bucket';
    for (const c of this.cells) {
      let acc = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        acc += c.counts[i]!;
        values.push({ labels: { le: this.buckets[i]!, ...c.labels }, value: acc, metricName: bucketName });
      }
      values.push({ labels: { le: '+Inf', ...c.labels }, value: c.count, metricName: bucketName });
      values.push({ labels: { ...c.labels }, value: c.sum, metricName: this.name + '_sum' });
      values.push({ labels: { ...c.labels }, value: c.count, metricName: this.name + '_count' });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  reset(): void {
    for (const c of this.cells) {
      c.counts.fill(0);
      c.sum = 0;
      c.count = 0;
    }
  }
}
