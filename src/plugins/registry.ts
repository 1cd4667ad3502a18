/**
 * The plugin registry: plugin name → definition, with each definition's
 * options validator compiled once. Built-ins are registered up front by their
 * manifests (src/plugins/builtins.ts): a built-in's validator is compiled the
 * first time its options are validated and its code imported the first time
 * an instance is built, so a gateway pays only for the plugins it uses.
 * Custom plugins are loaded from a folder (`<dir>/<name>/index.js` or
 * `index.ts`) and may not take a built-in's name. The core asks the registry
 * to read chain entries (parseRef), validate options (validateOptions) and
 * build instances (create, or definition then the definition's create).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { formatPath } from '../config/errors.js';
import { didYouMean } from '../config/suggest.js';
import type { TSchema } from '@sinclair/typebox';
import { BUILTIN_PLUGINS, type BuiltinPlugin } from './builtins.js';
import { isPluginDefinition } from './define.js';
import { importPlugin } from './loader.js';
import { compileOptions, type OptionError, type OptionsResult, type OptionsValidator } from './options.js';
import type { PluginContext, PluginDefinition, PluginHooks } from './types.js';

export type { OptionError, OptionsResult };

/** ParsedRef is a chain entry read: the plugin's name and its raw (not yet validated) options. */
export interface ParsedRef {
  name: string;
  options: unknown;
}

/** UnknownPluginError names a plugin nobody registered, with the closest known name when there is one. */
export class UnknownPluginError extends Error {
  constructor(
    readonly plugin: string,
    readonly suggestion: string | undefined,
  ) {
    super(`unknown plugin "${plugin}"${suggestion ? ` (${suggestion})` : ''}`);
    this.name = 'UnknownPluginError';
  }
}

/** PluginRefError says a chain entry is neither a name nor a one-key `{ name: options }` object. */
export class PluginRefError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PluginRefError';
  }
}

/** PluginOptionsError carries the option errors of a plugin that could not be created. */
export class PluginOptionsError extends Error {
  constructor(
    readonly plugin: string,
    readonly errors: OptionError[],
  ) {
    super(`invalid options for plugin "${plugin}": ${errors.map((e) => `${formatPath(e.path) || '(options)'}: ${e.message}${e.suggestion ? ` (${e.suggestion})` : ''}`).join('; ')}`);
    this.name = 'PluginOptionsError';
  }
}

/** PluginLoadError lists every custom plugin folder that could not be loaded (none is registered then). */
export class PluginLoadError extends Error {
  constructor(readonly problems: { file: string; message: string }[]) {
    super(`cannot load custom plugins:\n${problems.map((p) => `  ${p.file}: ${p.message}`).join('\n')}`);
    this.name = 'PluginLoadError';
  }
}

interface Entry {
  readonly options: TSchema;
  readonly builtin: boolean;
  /** def is the definition: a custom plugin's from the start, a built-in's once `load` has resolved. */
  def?: PluginDefinition;
  /** load imports a built-in's implementation; the promise is kept, so concurrent first uses import it once. */
  readonly load?: () => Promise<PluginDefinition>;
  loading?: Promise<PluginDefinition>;
  /** validate is compiled at registration for custom plugins (an invalid schema is a load error), at first use for built-ins. */
  validate?: OptionsValidator;
  /** version is a custom plugin's content version (see loader.ts). */
  readonly version?: string;
}

/** LoadedPlugin is one custom plugin loadCustomPlugins registered: `changed` when it replaced another version's code. */
export interface LoadedPlugin {
  name: string;
  file: string;
  version: string;
  changed: boolean;
}

/** INDEX_FILES are the entry files looked for in a custom plugin folder, in order. */
const INDEX_FILES = ['index.js', 'index.mjs', 'index.ts', 'index.mts'] as const;

/** PluginRegistry maps plugin names to definitions and validates their options. */
export class PluginRegistry {
  private readonly entries = new Map<string, Entry>();

  constructor(builtins: readonly BuiltinPlugin[] = BUILTIN_PLUGINS) {
    for (const b of builtins) {
      if (this.entries.has(b.name)) throw new Error(`plugin "${b.name}" is registered twice`);
      this.entries.set(b.name, { options: b.options, builtin: true, load: b.load });
    }
  }

  /** register adds a custom plugin's definition (compiling its options schema); throws when the name is taken or the schema is invalid. */
  register(def: PluginDefinition, opts: { version?: string } = {}): void {
    const existing = this.entries.get(def.name);
    if (existing?.def === def) return; // the same module imported again (reload)
    // A custom plugin's new version (its code changed on disk) replaces the old one; instances already built keep the old code until retired.
    const newVersion = existing !== undefined && !existing.builtin && opts.version !== undefined && existing.version !== undefined;
    if (existing && !newVersion) {
      throw new Error(existing.builtin ? `plugin "${def.name}" is a built-in and cannot be replaced; rename your plugin` : `plugin "${def.name}" is registered twice`);
    }
    let validate: OptionsValidator;
    try {
      validate = compileOptions(def.options);
    } catch (err) {
      throw new Error(`plugin "${def.name}" has an invalid options schema: ${(err as Error).message}`, { cause: err });
    }
    this.entries.set(def.name, { def, options: def.options, builtin: false, validate, ...(opts.version === undefined ? {} : { version: opts.version }) });
  }

  /** names lists the registered plugin names, built-ins first. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  /** has tells whether a plugin of that name is registered. */
  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** isBuiltin tells whether the named plugin ships with the gateway. */
  isBuiltin(name: string): boolean {
    return this.entries.get(name)?.builtin === true;
  }

  /**
   * definition returns the named plugin's definition, importing a built-in's
   * implementation at its first use; rejects with UnknownPluginError (with a
   * suggestion) when there is none.
   */
  async definition(name: string): Promise<PluginDefinition> {
    const e = this.entry(name);
    if (e.def) return e.def;
    e.loading ??= e.load!().then(
      (def) => (e.def = def),
      (err: unknown) => {
        e.loading = undefined; // a failed import is retried at the next use
        throw err;
      },
    );
    return e.loading;
  }

  /**
   * parseRef reads a chain entry: `"cors"` (default options) or
   * `{ cors: { ... } }`; throws PluginRefError on another shape and
   * UnknownPluginError on an unknown name.
   */
  parseRef(ref: unknown): ParsedRef {
    let parsed: ParsedRef;
    if (typeof ref === 'string') parsed = { name: ref, options: {} };
    else if (ref !== null && typeof ref === 'object' && !Array.isArray(ref) && Object.keys(ref).length === 1) {
      const [name, options] = Object.entries(ref)[0]!;
      parsed = { name, options: options ?? {} };
    } else throw new PluginRefError('a plugin entry must be a name ("cors") or one key with its options ({ cors: { ... } })');
    this.entry(parsed.name);
    return parsed;
  }

  /**
   * validateOptions checks options against the plugin's schema (compiled
   * once), returning a defaulted copy or every error, paths relative to the
   * options object. Throws UnknownPluginError on an unknown name.
   */
  validateOptions(name: string, options: unknown): OptionsResult {
    const e = this.entry(name);
    e.validate ??= compileOptions(e.options);
    return e.validate(options);
  }

  /** create validates the options and builds an instance's hooks; throws PluginOptionsError on invalid options. */
  async create(name: string, options: unknown, ctx: PluginContext): Promise<PluginHooks> {
    const result = this.validateOptions(name, options);
    if (!result.ok) throw new PluginOptionsError(name, result.errors);
    return (await this.definition(name)).create(result.options, ctx);
  }

  /**
   * loadCustomPlugins imports every `<dir>/<name>/index.{js,mjs,ts,mts}`
   * (TypeScript through tsx), expecting a default export made with
   * definePlugin whose name is the folder name. Either all load and are
   * registered, or PluginLoadError lists every problem and none is.
   * A plugin whose folder changed since it was last loaded is imported
   * afresh and replaces the old code (see loader.ts). Returns what was registered.
   */
  async loadCustomPlugins(dir: string): Promise<LoadedPlugin[]> {
    if (!existsSync(dir)) throw new PluginLoadError([{ file: dir, message: 'plugin folder does not exist' }]);
    const problems: { file: string; message: string }[] = [];
    const found: { def: PluginDefinition; file: string; version: string }[] = [];
    const folders = readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('.') && d.name !== 'node_modules')
      .map((d) => d.name)
      .sort();
    for (const folder of folders) {
      const index = INDEX_FILES.map((f) => join(dir, folder, f)).find((f) => existsSync(f));
      if (!index) {
        problems.push({ file: join(dir, folder), message: `no ${INDEX_FILES.join(', ')} found` });
        continue;
      }
      let mod: { default?: unknown };
      let version: string;
      try {
        ({ mod, version } = await importPlugin(index));
      } catch (err) {
        problems.push({ file: index, message: `failed to import: ${(err as Error).message}` });
        continue;
      }
      const def = mod.default;
      if (!isPluginDefinition(def)) problems.push({ file: index, message: 'the default export must be a plugin made with definePlugin' });
      else if (def.name !== folder) problems.push({ file: index, message: `the plugin is named "${def.name}" but its folder is "${folder}": they must match` });
      else if (this.isBuiltin(def.name)) problems.push({ file: index, message: `"${def.name}" is a built-in plugin and cannot be replaced; rename the folder and the plugin` });
      else {
        try {
          compileOptions(def.options);
          found.push({ def, file: index, version });
        } catch (err) {
          problems.push({ file: index, message: `invalid options schema: ${(err as Error).message}` });
        }
      }
    }
    if (problems.length > 0) throw new PluginLoadError(problems);
    return found.map(({ def, file, version }) => {
      const before = this.entries.get(def.name)?.version;
      this.register(def, { version });
      return { name: def.name, file, version, changed: before !== undefined && before !== version };
    });
  }

  private entry(name: string): Entry {
    const e = this.entries.get(name);
    if (!e) throw new UnknownPluginError(name, didYouMean(name, this.entries.keys()));
    return e;
  }
}
