/**
 * `switchyard diff --against FILE|URL [--config FILE] [--requests FILE] [--json]`:
 * what a configuration change does (src/diff). The "before" side is a
 * gateway.yaml or the running gateway's model from its admin API
 * (GET /config/model); the "after" side is --config. Nothing is compiled and
 * nothing is dialled but that admin API. Exit 0 no change, 1 changes, 2 errors.
 */
import { readFile, stat } from 'node:fs/promises';
import { ConfigInvalid } from '../config/errors.js';
import { diffModels, isModel, loadForDiff, loadModel, MAX_FILE_BYTES, parseSamples, renderReport, SampleFileError, type ConfigModel, type Sample } from '../diff/index.js';
import { printConfigErrors, relative } from './output.js';

/** FETCH_TIMEOUT_MS bounds the question to the running gateway. */
const FETCH_TIMEOUT_MS = 10_000;

/** DiffFailed is an error that ends the command with exit 2 and one line on stderr. */
class DiffFailed extends Error {}

/** diff prints what changes from `against` to `configFile`; returns the exit code. */
export async function diff(configFile: string, against: string | undefined, requestsFile: string | undefined, json: boolean): Promise<number> {
  if (against === undefined) {
    process.stderr.write('switchyard: diff needs --against FILE|URL: the configuration before the change (see "switchyard help diff")\n');
    return 2;
  }
  try {
    const after = await loadForDiff(configFile);
    const before = /^https?:\/\//i.test(against) ? await fetchModel(against, process.env.SWITCHYARD_ADMIN_TOKEN || after.admin.token) : await loadModel(against);
    const samples = requestsFile === undefined ? [] : await readSamples(requestsFile);
    const report = diffModels(before, after.model, samples);
    if (json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    else process.stdout.write(renderReport(report, `${relative(against)} → ${relative(configFile)}`));
    return report.changed ? 1 : 0;
  } catch (err) {
    if (err instanceof ConfigInvalid) {
      printConfigErrors(err, { count: true });
      return 2;
    }
    if (err instanceof DiffFailed || err instanceof SampleFileError) {
      process.stderr.write(`switchyard: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

/** fetchModel asks a running gateway's admin API for the model of the configuration it serves. */
async function fetchModel(base: string, token: string | undefined): Promise<ConfigModel> {
  const url = `${base.replace(/\/+$/, '')}/config/model`;
  const signal = AbortSignal.timeout(FETCH_TIMEOUT_MS);
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, signal });
  } catch (err) {
    const why = signal.aborted ? `no answer in ${FETCH_TIMEOUT_MS / 1000}s` : String((err as Error).cause ?? (err as Error).message);
    throw new DiffFailed(`cannot reach the gateway at ${base}: ${why}`);
  }
  const text = await capped(res, MAX_FILE_BYTES * 4, url);
  if (res.status === 401) throw new DiffFailed(`the admin API at ${base} needs its token: set SWITCHYARD_ADMIN_TOKEN (or admin.token in --config)`);
  if (res.status !== 200) throw new DiffFailed(`GET ${url} answered ${res.status}${res.status === 404 ? ' (a gateway older than `switchyard diff`?)' : ''}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new DiffFailed(`GET ${url} did not answer JSON`);
  }
  if (!isModel(body)) throw new DiffFailed(`GET ${url} did not answer a configuration model this version reads`);
  return body;
}

/** capped reads a response body, refusing one larger than `max` bytes. */
async function capped(res: Response, max: number, url: string): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body ?? []) {
    size += (chunk as Uint8Array).byteLength;
    if (size > max) throw new DiffFailed(`GET ${url} answered more than ${max} bytes`);
    chunks.push(chunk as Uint8Array);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** readSamples reads a --requests file (a regular file, capped like config files). */
async function readSamples(file: string): Promise<Sample[]> {
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new DiffFailed(`${file}: not a regular file`);
    if (st.size > MAX_FILE_BYTES) throw new DiffFailed(`${file}: file is ${st.size} bytes, more than the limit of ${MAX_FILE_BYTES}`);
    return parseSamples(await readFile(file, 'utf8'), relative(file));
  } catch (err) {
    if (err instanceof DiffFailed || err instanceof SampleFileError) throw err;
    throw new DiffFailed(`${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message}`);
  }
}
