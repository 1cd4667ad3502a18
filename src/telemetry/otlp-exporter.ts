/**
 * OpenTelemetry trace export: a bounded queue of finished requests' spans,
 * sent to an OTLP/HTTP collector as JSON from a timer, off the request path.
 *
 * Why not @opentelemetry/sdk-trace-base + @opentelemetry/exporter-trace-otlp-http:
 * (1) ids — the SDK's Tracer makes every span id with its IdGenerator, and the
 * gateway's span id must be the one trace.ts already sent upstream in
 * `traceparent` (so the upstream's spans are children of the gateway's);
 * feeding ours in means a stateful IdGenerator primed before each startSpan,
 * a hack that breaks the moment anything else starts a span; (2) cost — a
 * span through the SDK (context, SpanImpl, attribute sanitising, the batch
 * processor, its JSON serializer) measured ~19 µs of CPU each on the bench
 * machine, ~10 % of the gateway's whole per-request budget (178 µs), where
 * recording a flat SpanRecord and encoding it here costs a few µs; (3) weight
 * — the exporter pulls in 12 packages (sdk-logs and sdk-metrics among them),
 * and posts through node:http agents, not undici. The OTLP JSON encoding is a
 * stable spec, so the small encoder in otlp-encode.ts is all we need.
 *
 * Failure policy: an export that fails or times out is dropped (no retries:
 * a struggling collector must not make the gateway hold more), counted, and
 * logged at most once per FAILURE_LOG_MS; a full queue drops new spans and
 * counts them. close() makes one final flush bounded by `timeout`.
 */
import type { Logger } from 'pino';
import { Pool } from '../http/undici.js';
import type { Exchange } from '../proxy/exchange.js';
import type { Refusal } from '../proxy/hooks.js';
import type { OtlpSettings } from './otlp-config.js';
import { encodeRequest, envelope, type Envelope } from './otlp-encode.js';
import { exchangeSpan, rejectedSpan, sampledFlag, type SpanRecord, type SpanSink } from './server-span.js';

/** Count is one counter the exporter increments (a metrics cell). */
export interface Count {
  value: number;
}

/** SpanCounters are the exporter's metrics: spans exported, and dropped by reason. */
export interface SpanCounters {
  exported: Count;
  /** queueFull counts spans dropped because maxQueue spans were waiting. */
  queueFull: Count;
  /** exportFailed counts spans of exports that failed (collector down, timeout, non-2xx) or were still queued at close. */
  exportFailed: Count;
  /** rejected counts spans the collector refused in a partial success. */
  rejected: Count;
}

/** detachedCounters are counters nobody scrapes (a metrics sink without OTLP counters). */
export const detachedCounters = (): SpanCounters => ({ exported: { value: 0 }, queueFull: { value: 0 }, exportFailed: { value: 0 }, rejected: { value: 0 } });

/** FAILURE_LOG_MS is the least time between two export-failure log lines (more often if flushInterval is longer). */
const FAILURE_LOG_MS = 5000;
/** MAX_RESPONSE is the most of a collector's answer read (it is a small JSON object; anything more is discarded). */
const MAX_RESPONSE = 64 * 1024;

/** OtlpExporter queues sampled spans and exports them in batches. */
export class OtlpExporter implements SpanSink {
  private queue: SpanRecord[] = [];
  private readonly timer: NodeJS.Timeout;
  private sending: Promise<void> | undefined = undefined;
  /** immediate is set while a full batch's export is scheduled. */
  private immediate = false;
  /**
   * due is how many queued spans a tick (or close) asked to send even if they
   * do not fill a batch. Spans that arrive meanwhile wait for a full batch or
   * the next tick: under steady load the exporter sends full batches, not a
   * stream of small ones that each cost a request.
   */
  private due = 0;
  private closed = false;
  /** stop aborts the export in flight when close()'s deadline passes. */
  private readonly stop = new AbortController();
  private readonly pool: Pool;
  private readonly envelope: Envelope;
  private readonly path: string;
  private readonly headers: Record<string, string>;
  private readonly logEveryMs: number;
  private quietUntil = 0;
  private unlogged = 0;
  /** queueFullLogged is queueFull's value when it was last logged. */
  private queueFullLogged = 0;

  constructor(
    readonly settings: OtlpSettings,
    private readonly counters: SpanCounters,
    private readonly log: Logger,
  ) {
    const { url, timeoutMs } = settings;
    // Its own pool, apart from the upstream pools: one connection, so exports queue behind each other instead of fanning out.
    this.pool = new Pool(url.origin, { connections: 1, connectTimeout: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
    this.path = url.pathname + url.search;
    this.headers = { ...settings.headers, 'content-type': 'application/json', 'user-agent': `switchyard/${settings.version}` };
    this.envelope = envelope(settings.resource, { name: 'switchyard', version: settings.version });
    this.logEveryMs = Math.max(FAILURE_LOG_MS, settings.flushIntervalMs);
    this.timer = setInterval(() => void this.flush(), settings.flushIntervalMs);
    // Never the reason the process stays up: close() flushes what is left.
    this.timer.unref();
  }

  /** queued is the number of spans waiting for export. */
  get queued(): number {
    return this.queue.length;
  }

  finished(ex: Exchange, ms: number): void {
    const tp = ex.traceparent;
    if (tp === undefined || !sampledFlag(tp)) return;
    if (this.full()) return;
    this.push(exchangeSpan(ex, ms));
  }

  rejected(refusal: Refusal): string | undefined {
    const span = rejectedSpan(refusal, this.settings.sampled);
    if (span === undefined) return undefined;
    if (!this.full()) this.push(span);
    return span.traceId;
  }

  /** full counts a span that cannot be queued (queue at maxQueue, or the exporter closed). */
  private full(): boolean {
    if (this.closed) {
      this.counters.exportFailed.value++;
      return true;
    }
    if (this.queue.length < this.settings.maxQueue) return false;
    this.counters.queueFull.value++;
    return true;
  }

  private push(span: SpanRecord): void {
    this.queue.push(span);
    // A full batch goes at once (next turn of the event loop), not at the next tick.
    if (this.queue.length >= this.settings.maxBatch && this.sending === undefined && !this.immediate) {
      this.immediate = true;
      setImmediate(() => {
        this.immediate = false;
        void this.kick();
      });
    }
  }

  /** flush exports the spans queued now, batch by batch, one request at a time; resolves when they are sent. */
  flush(): Promise<void> {
    this.due = this.queue.length;
    return this.kick();
  }

  /** kick starts sending when something is due or a batch is full (one sender at a time). */
  private kick(): Promise<void> {
    this.noteQueueFull();
    if (this.sending !== undefined) return this.sending;
    if (!this.ready()) return Promise.resolve();
    this.sending = this.drain().finally(() => (this.sending = undefined));
    return this.sending;
  }

  private ready(): boolean {
    return this.queue.length > 0 && (this.due > 0 || this.queue.length >= this.settings.maxBatch) && !this.stop.signal.aborted;
  }

  private async drain(): Promise<void> {
    const max = this.settings.maxBatch;
    while (this.ready()) {
      const batch = this.queue.length <= max ? this.queue : this.queue.slice(0, max);
      this.queue = this.queue.length <= max ? [] : this.queue.slice(max);
      this.due = Math.max(0, this.due - batch.length);
      await this.send(batch);
    }
  }

  private async send(batch: SpanRecord[]): Promise<void> {
    try {
      const res = await this.pool.request({
        method: 'POST',
        path: this.path,
        headers: this.headers,
        body: encodeRequest(this.envelope, batch),
        signal: AbortSignal.any([AbortSignal.timeout(this.settings.timeoutMs), this.stop.signal]),
      });
      const answer = await readCapped(res.body);
      if (res.statusCode < 200 || res.statusCode > 299) throw new Error(`collector answered ${res.statusCode}`);
      const refused = rejectedSpans(answer, batch.length);
      this.counters.exported.value += batch.length - refused;
      if (refused > 0) {
        this.counters.rejected.value += refused;
        this.failed(`collector rejected ${refused} of ${batch.length} spans`, refused);
      }
    } catch (err) {
      this.counters.exportFailed.value += batch.length;
      const e = err as Error & { code?: string };
      this.failed(this.stop.signal.aborted ? 'shutdown deadline passed' : e.code ? `${e.code}: ${e.message}` : e.message, batch.length);
    }
  }

  /** noteQueueFull logs spans dropped on a full queue since the last look (rate-limited like failures). */
  private noteQueueFull(): void {
    const dropped = this.counters.queueFull.value - this.queueFullLogged;
    if (dropped <= 0) return;
    this.queueFullLogged = this.counters.queueFull.value;
    this.failed(`queue full (maxQueue ${this.settings.maxQueue})`, dropped);
  }

  /** failed logs a dropped batch, at most once per logEveryMs, saying how many lines were held back. */
  private failed(reason: string, dropped: number): void {
    const now = Date.now();
    if (now < this.quietUntil) {
      this.unlogged++;
      return;
    }
    this.quietUntil = now + this.logEveryMs;
    this.log.warn({ endpoint: this.settings.url.origin + this.settings.url.pathname, reason, dropped, unlogged: this.unlogged }, 'OpenTelemetry export: spans dropped');
    this.unlogged = 0;
  }

  /**
   * close stops the timer and makes a final flush, bounded by the export
   * timeout; what is still queued after it is counted as failed.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    const deadline = setTimeout(() => this.stop.abort(), this.settings.timeoutMs);
    try {
      while ((this.sending !== undefined || this.queue.length > 0) && !this.stop.signal.aborted) await this.flush();
    } finally {
      clearTimeout(deadline);
    }
    this.counters.exportFailed.value += this.queue.length;
    this.queue = [];
    await this.pool.destroy();
  }
}

/** readCapped reads a response body up to MAX_RESPONSE bytes and discards the rest. */
async function readCapped(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (size + chunk.length > MAX_RESPONSE) {
      body.destroy();
      break;
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** rejectedSpans reads ExportTraceServiceResponse.partialSuccess.rejectedSpans (0 when absent or unreadable). */
export function rejectedSpans(answer: string, sent: number): number {
  if (!answer.includes('rejectedSpans')) return 0;
  try {
    const n = Number((JSON.parse(answer) as { partialSuccess?: { rejectedSpans?: unknown } }).partialSuccess?.rejectedSpans);
    return Number.isFinite(n) && n > 0 ? Math.min(n, sent) : 0;
  } catch {
    return 0;
  }
}

/**
 * replaceExporter returns the exporter `settings` call for in place of
 * `running` (a reload's tracing.otlp): unchanged settings keep the running
 * exporter and its queue; otherwise a new one is built (none without
 * settings) and the replaced one flushes what it holds in the background,
 * while the spans of requests finishing from now on go to the new one.
 */
export function replaceExporter(running: OtlpExporter | undefined, settings: OtlpSettings | undefined, counters: () => SpanCounters, log: () => Logger): OtlpExporter | undefined {
  if (running?.settings.key === settings?.key) return running;
  const next = settings === undefined ? undefined : new OtlpExporter(settings, counters(), log());
  if (running !== undefined) void running.close();
  return next;
}
