#!/usr/bin/env node
/**
 * What one access line costs, piece by piece, for instruction counts under
 * callgrind (`npm run build` first):
 *
 *   valgrind --tool=callgrind node bench/access-line.js MODE 40000
 *
 * and subtract the `none` run (the loop and the records alone). Modes:
 * `num` the two duration fields' String(), `str` jsonString on the eight
 * string fields, `ser` the whole line (serializeFields), `write` the line
 * into a batch buffer as BatchDestination writes it (Buffer.write: flattens
 * the line's rope, then UTF-8), `utf8w` / `latin1w` / `enc` the same with
 * utf8Write, latin1Write and TextEncoder.encodeInto. Unlike
 * bench/access-log.js, durations vary from line to line (V8 caches the
 * string of a repeated number, which hid the cost of formatting them) and
 * request ids are fresh UUIDs, as in the gateway.
 */
const { serializeFields, jsonString } = await import('../dist/src/telemetry/access-log.js');
const mode = process.argv[2];
const N = Number(process.argv[3] ?? 40000);
const buf = Buffer.allocUnsafe(65536);
const te = new TextEncoder();
let len = 0;
let sink = 0;
const rec = (i) => ({ reqId: crypto.randomUUID(), method: 'GET', path: '/api/items/42', route: 'api', upstream: 'bench', split: undefined, target: '127.0.0.1:40001', status: 200, ms: Math.round((0.5 + (i % 997) * 0.0137) * 100) / 100, upstreamMs: Math.round((0.3 + (i % 991) * 0.0113) * 100) / 100, attempts: 1, bytes: 100, ip: '127.0.0.1', trace: '0af7651916cd43dd8448eb211c80319c', code: undefined, plugin: undefined, mirrored: undefined, err: undefined });
for (let i = 0; i < N; i++) {
  const r = rec(i);
  if (mode === 'none') { sink += r.status; continue; }
  if (mode === 'num') { sink += String(r.ms).length + String(r.upstreamMs).length; continue; }
  if (mode === 'str') { sink += jsonString(r.reqId).length + jsonString(r.path).length + jsonString(r.route).length + jsonString(r.upstream).length + jsonString(r.target).length + jsonString(r.ip).length + jsonString(r.trace).length + jsonString(r.method).length; continue; }
  const line = '{"level":30,"time":' + Date.now() + ',"pid":1,"hostname":"h","kind":"access"' + serializeFields(r) + '}\n';
  if (mode === 'ser') { sink += line.length; continue; }
  if (len + line.length * 3 > buf.length) len = 0;
  if (mode === 'write') len += buf.write(line, len);
  else if (mode === 'utf8w') len += buf.utf8Write(line, len, buf.length - len);
  else if (mode === 'latin1w') len += buf.latin1Write(line, len, buf.length - len);
  else if (mode === 'enc') len += te.encodeInto(line, buf.subarray(len)).written;
  else throw new Error('usage: node bench/access-line.js none|num|str|ser|write|utf8w|latin1w|enc [lines]');
}
console.log(mode, sink + len);
