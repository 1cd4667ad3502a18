/**
 * gateway.yaml's `tracing.otlp`, compiled: the export endpoint, headers and
 * resource, with the standard OpenTelemetry environment variables filling in
 * what the file leaves out (the file wins). Export is on only when
 * `tracing.otlp` is present, even as `{}`: an OTEL_* variable set machine-wide
 * for other services must never make the gateway send its traffic's metadata
 * somewhere on its own.
 */
import { hostname } from 'node:os';
import { parseDuration } from '../config/duration.js';
import { ConfigError, ConfigInvalid, type Locate } from '../config/errors.js';
import type { Env } from '../config/env.js';
import type { GatewayDoc } from '../config/schema.js';
import { stableKey } from '../compile/compile.js';
import { gatewayVersion } from '../process/version.js';

/** OtlpSettings is a compiled `tracing.otlp`. */
export interface OtlpSettings {
  /** url is the OTLP/HTTP traces endpoint. */
  url: URL;
  /** headers go with every export (content-type and user-agent are the exporter's). */
  headers: Readonly<Record<string, string>>;
  /** resource holds the resource attributes: service.name, service.version, host.name and OTEL_RESOURCE_ATTRIBUTES. */
  resource: Readonly<Record<string, string>>;
  /** version is the gateway's version (service.version, the scope's version, the user-agent). */
  version: string;
  timeoutMs: number;
  maxBatch: number;
  flushIntervalMs: number;
  maxQueue: number;
  /** sampled is tracing.sampled: whether traces the gateway starts (for requests refused before routing) are sampled. */
  sampled: boolean;
  /** key compares settings across reloads: an unchanged key keeps the running exporter and its queue. */
  key: string;
}

/** TOKEN is an HTTP field name (RFC 9110 §5.6.2). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** RESERVED are headers the exporter sets itself. */
const RESERVED = new Set(['content-type', 'content-length', 'host', 'transfer-encoding', 'connection']);

/**
 * parseKeyValues reads the `key=value,key2=value2` lists of
 * OTEL_EXPORTER_OTLP_HEADERS and OTEL_RESOURCE_ATTRIBUTES (values
 * percent-decoded, malformed members skipped, as the SDKs do).
 */
export function parseKeyValues(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const member of (text ?? '').split(',')) {
    const eq = member.indexOf('=');
    if (eq <= 0) continue;
    const key = member.slice(0, eq).trim();
    try {
      if (key !== '') out[key] = decodeURIComponent(member.slice(eq + 1).trim());
    } catch {
      /* a malformed percent-escape: skip the member */
    }
  }
  return out;
}

/** OtlpSource says where `tracing.otlp` was written, for errors. */
export interface OtlpSource {
  file: string;
  locate: Locate;
}

/**
 * otlpSettings compiles `tracing.otlp`; undefined when it is absent. Throws
 * ConfigInvalid when no endpoint can be found or a value cannot be used.
 */
export function otlpSettings(tracing: GatewayDoc['tracing'], env: Env, source: OtlpSource): OtlpSettings | undefined {
  const doc = tracing.otlp;
  if (doc === undefined) return undefined;
  const errors: ConfigError[] = [];
  const fail = (path: Array<string | number>, message: string) => {
    const pos = source.locate(['tracing', 'otlp', ...path]);
    errors.push(new ConfigError({ file: source.file, line: pos.line, col: pos.col, path: ['tracing', 'otlp', ...path].join('.'), message }));
  };
  if (!tracing.enabled) fail([], 'OpenTelemetry export needs tracing.enabled: the exported span ids are the ones propagated upstream');

  // Spec order: the traces-specific variable is the URL as it is; the generic one is a base that gets /v1/traces.
  const fromEnv = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || (env.OTEL_EXPORTER_OTLP_ENDPOINT ? env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '') + '/v1/traces' : undefined);
  const endpoint = doc.endpoint ?? fromEnv;
  let url: URL | undefined;
  if (endpoint === undefined) fail([], 'no endpoint: set tracing.otlp.endpoint (e.g. http://collector:4318/v1/traces) or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  else {
    const where = doc.endpoint !== undefined ? 'endpoint' : env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT';
    try {
      url = new URL(endpoint);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(['endpoint'], `${where}: expected an http:// or https:// URL`);
      // Credentials in the URL would be logged with export failures: they belong in `headers`.
      else if (url.username !== '' || url.password !== '') fail(['endpoint'], `${where}: credentials in the URL are not allowed; put them in tracing.otlp.headers`);
    } catch {
      fail(['endpoint'], `${where}: "${endpoint}" is not a URL`);
    }
  }

  const headers: Record<string, string> = { ...parseKeyValues(env.OTEL_EXPORTER_OTLP_HEADERS), ...parseKeyValues(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS) };
  for (const [name, value] of Object.entries(doc.headers ?? {})) headers[name] = value;
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!TOKEN.test(name)) fail(['headers', name], `"${name}" is not a valid header name`);
    else if (RESERVED.has(lower)) fail(['headers', name], `"${name}" is set by the exporter`);
    else if (/[\r\n\0]/.test(value)) fail(['headers', name], 'header values cannot contain CR, LF or NUL');
  }

  const flushIntervalMs = parseDuration(doc.flushInterval);
  const timeoutMs = parseDuration(doc.timeout);
  if (flushIntervalMs <= 0) fail(['flushInterval'], 'must be more than 0');
  if (timeoutMs <= 0) fail(['timeout'], 'must be more than 0');
  if (errors.length > 0 || url === undefined) throw new ConfigInvalid(errors);

  const version = gatewayVersion();
  // OTEL_SERVICE_NAME beats service.name in OTEL_RESOURCE_ATTRIBUTES (spec); the file beats both.
  const extra = parseKeyValues(env.OTEL_RESOURCE_ATTRIBUTES);
  const resource: Record<string, string> = {
    'service.name': doc.serviceName ?? (env.OTEL_SERVICE_NAME || undefined) ?? extra['service.name'] ?? 'switchyard',
    'service.version': extra['service.version'] ?? version,
    'host.name': extra['host.name'] ?? hostname(),
  };
  for (const [k, v] of Object.entries(extra)) if (!(k in resource)) resource[k] = v;
  const settings = {
    url,
    headers,
    resource,
    version,
    timeoutMs,
    maxBatch: doc.maxBatch,
    flushIntervalMs,
    maxQueue: doc.maxQueue,
    sampled: tracing.sampled,
  };
  return { ...settings, key: stableKey({ ...settings, url: url.href }) };
}
