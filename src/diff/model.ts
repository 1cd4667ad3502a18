/**
 * The semantic model of a configuration that `switchyard diff` compares:
 * routes, upstreams and their targets, the global chain and each route's
 * plugins, and the gateway settings, each with the file:line it is written
 * at. It is plain, serialisable data built from the validated documents
 * (never from a compiled runtime: nothing here starts a health check, opens a
 * socket or dials Redis), with secrets replaced by fingerprints (redact.ts),
 * so the admin API can return the running gateway's model as it is.
 * Route fields the model does not know by name (split, mirror, ...) are kept
 * in `fields` and compared generically.
 */
import path from 'node:path';
import { INLINE_GATEWAY, type LoadedConfig } from '../config/load.js';
import type { Locate } from '../config/errors.js';
import type { PluginRefDoc } from '../config/schema.js';
import type { MatchSpec } from '../routing/route-match.js';
import { redact } from './redact.js';

/** MODEL_FORMAT names this shape; a model of another format is refused, not misread. */
export const MODEL_FORMAT = 'switchyard-config-model/1';

/** Where is a file (relative to the gateway file's directory) and a 1-based line (0: unknown). */
export interface Where {
  file: string;
  line: number;
}

/** PluginModel is one chain entry: its name, its options (redacted) and where it is written. */
export interface PluginModel {
  name: string;
  options: unknown;
  at: Where;
}

/** RouteModel is one route. */
export interface RouteModel {
  id: string;
  at: Where;
  match: MatchSpec;
  upstream: string;
  /** plugins are the route's own plugins (the global chain runs before them). */
  plugins: PluginModel[];
  /** fields is the whole route document, defaults applied and secrets redacted. */
  fields: Record<string, unknown>;
}

/** TargetModel is one configured target of an upstream. */
export interface TargetModel {
  url: string;
  at: Where;
  fields: Record<string, unknown>;
}

/** UpstreamModel is one upstream pool. */
export interface UpstreamModel {
  name: string;
  at: Where;
  /** targets are the configured targets; empty for a `discover:` pool. */
  targets: TargetModel[];
  /** fields is the upstream document without its targets, secrets redacted. */
  fields: Record<string, unknown>;
}

/** StreamRouteModel is one layer-4 route (streamRoutes), compared field by field. */
export interface StreamRouteModel {
  id: string;
  at: Where;
  fields: Record<string, unknown>;
}

/** ConfigModel is one whole configuration. */
export interface ConfigModel {
  format: typeof MODEL_FORMAT;
  /** gatewayFile is the gateway file's name relative to its own directory (`gateway.yaml`). */
  gatewayFile: string;
  /** files are the source files with the sha256 of their bytes, gateway file first. */
  files: Array<{ file: string; hash: string }>;
  chain: PluginModel[];
  /** settings is gateway.yaml without `chain`, defaults applied, secrets redacted. */
  settings: Record<string, unknown>;
  /** bodyLimit is the gateway's default request body limit (limits.bodyLimit), in bytes. */
  bodyLimit: number;
  routes: RouteModel[];
  upstreams: UpstreamModel[];
  /** streamRoutes are the layer-4 routes (absent in models of older gateways). */
  streamRoutes?: StreamRouteModel[];
}

/** DEFAULT_BODY_LIMIT is limits.bodyLimit's schema default. */
export const DEFAULT_BODY_LIMIT = 10 * 1024 * 1024;

/** pluginOf reads a chain entry: `- jwt` or `- jwt: { options }`. */
function pluginOf(ref: PluginRefDoc, at: Where): PluginModel {
  if (typeof ref === 'string') return { name: ref, options: {}, at };
  const [name, options] = Object.entries(ref)[0] ?? ['?', {}];
  return { name, options: redact(options ?? {}), at };
}

/** buildModel builds the model of a loaded (validated) configuration. */
export function buildModel(loaded: LoadedConfig): ConfigModel {
  const show = (file: string) => {
    const rel = path.relative(loaded.baseDir, path.resolve(loaded.baseDir, file));
    return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? file : rel.split(path.sep).join('/');
  };
  const gatewayFile = loaded.gatewayFile !== undefined ? show(loaded.gatewayFile) : INLINE_GATEWAY;
  const at = (file: string, locate: Locate, p: (string | number)[]): Where => ({ file, line: locate(p).line });
  const { chain, ...settings } = loaded.gateway;
  const routes: RouteModel[] = [];
  const upstreams: UpstreamModel[] = [];
  const streamRoutes: StreamRouteModel[] = [];
  for (const f of loaded.files) {
    const file = show(f.file);
    for (const [name, doc] of Object.entries(f.doc.upstreams ?? {})) {
      const { targets, ...rest } = doc as typeof doc & { targets?: Array<{ url: string }> };
      upstreams.push({
        name,
        at: at(file, f.locate, ['upstreams', name]),
        targets: (targets ?? []).map((t, i) => ({ url: t.url, at: at(file, f.locate, ['upstreams', name, 'targets', i]), fields: redact(t) as Record<string, unknown> })),
        fields: redact(rest) as Record<string, unknown>,
      });
    }
    (f.doc.streamRoutes ?? []).forEach((r, i) => {
      streamRoutes.push({ id: r.id, at: at(file, f.locate, ['streamRoutes', i]), fields: redact(r) as Record<string, unknown> });
    });
    (f.doc.routes ?? []).forEach((r, i) => {
      routes.push({
        id: r.id,
        at: at(file, f.locate, ['routes', i]),
        match: r.match,
        upstream: r.upstream,
        plugins: (r.plugins ?? []).map((ref, j) => pluginOf(ref, at(file, f.locate, ['routes', i, 'plugins', j]))),
        fields: redact(r) as Record<string, unknown>,
      });
    });
  }
  return {
    format: MODEL_FORMAT,
    gatewayFile,
    files: [
      ...(loaded.gatewayFile !== undefined ? [{ file: gatewayFile, hash: loaded.gatewayHash ?? '' }] : []),
      ...loaded.files.map((f) => ({ file: show(f.file), hash: f.hash })),
    ],
    chain: (chain ?? []).map((ref, i) => pluginOf(ref, at(gatewayFile, loaded.locateGateway, ['chain', i]))),
    settings: redact(settings) as Record<string, unknown>,
    bodyLimit: loaded.gateway.limits?.bodyLimit ?? DEFAULT_BODY_LIMIT,
    routes,
    upstreams,
    streamRoutes,
  };
}

/** isModel tells whether a value (from the admin API) looks like a ConfigModel of this format. */
export function isModel(v: unknown): v is ConfigModel {
  const m = v as Partial<ConfigModel> | null;
  return typeof m === 'object' && m !== null && m.format === MODEL_FORMAT && Array.isArray(m.routes) && Array.isArray(m.upstreams) && Array.isArray(m.chain) && Array.isArray(m.files);
}
