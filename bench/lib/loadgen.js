/**
 * The load generator (child process, pinned away from the proxy under test):
 * autocannon's programmatic API with a fixed number of connections for a fixed
 * duration. Latencies are taken from autocannon's per-response event, which
 * has sub-millisecond resolution (its own histogram rounds to whole ms).
 *
 * IPC protocol: receives { type: 'run', id, url, connections, duration,
 * headers } and answers { type: 'result', id, ... } (see summarize).
 */
import autocannon from 'autocannon';
import { percentile } from './stats.js';

/** Latencies grows a Float64Array of response times (ms). */
class Latencies {
  constructor() {
    this.values = new Float64Array(1 << 16);
    this.length = 0;
  }
  push(v) {
    if (this.length === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.length++] = v;
  }
  sorted() {
    return this.values.subarray(0, this.length).sort();
  }
}

function run({ url, connections, duration, headers }) {
  return new Promise((resolve, reject) => {
    const latencies = new Latencies();
    const instance = autocannon({ url, connections, duration, headers, timeout: 10 }, (err, result) => {
      if (err) reject(err);
      else resolve(summarize(result, latencies.sorted()));
    });
    instance.on('response', (_client, statusCode, _bytes, ms) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(ms);
    });
  });
}

/** summarize keeps what the report needs from an autocannon result. */
function summarize(r, sorted) {
  const seconds = r.duration > 0 ? r.duration : 1;
  return {
    requests: r.requests.total,
    seconds,
    rps: r.requests.total / seconds,
    ok: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    bytesPerSec: r.throughput.average,
    latency: {
      mean: sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : NaN,
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      p999: percentile(sorted, 99.9),
      max: sorted.length ? sorted[sorted.length - 1] : NaN,
    },
    statusCodes: r.statusCodeStats,
  };
}

process.on('message', async (m) => {
  if (m?.type !== 'run') return;
  try {
    process.send({ type: 'result', id: m.id, ...(await run(m)) });
  } catch (err) {
    process.send({ type: 'error', id: m.id, message: err.stack ?? String(err) });
  }
});
process.send({ type: 'ready' });
process.on('SIGTERM', () => process.exit(0));
