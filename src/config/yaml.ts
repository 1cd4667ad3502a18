/**
 * Parsing route files and gateway.yaml (YAML 1.2 or JSON, which is YAML) into
 * plain data, keeping the syntax tree so any document path can be traced back
 * to a line and column. Route files are data, never code: the core schema
 * only, no custom tags (an unknown tag is an error, not a silent string),
 * unique keys, and a small alias budget against "billion laughs" documents.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node, type Pair } from 'yaml';
import { ConfigError, formatPath, type DocPath, type Locate, type Position } from './errors.js';

/** MAX_ALIASES caps alias expansion; config files rarely need more than a few. */
export const MAX_ALIASES = 50;

/** ParsedDocument is a parsed file: its plain value, how to locate paths in it, and syntax errors. */
export interface ParsedDocument {
  /** value is the plain JS value (`{}` for an empty file); undefined when the file has syntax errors. */
  value: unknown;
  locate: Locate;
  errors: ConfigError[];
}

type Doc = Document.Parsed;

/** Tree is a parsed document with its line index. */
interface Tree {
  doc: Doc;
  lines: LineCounter;
}

function parseTree(text: string): Tree {
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lines,
    schema: 'core',
    version: '1.2',
    uniqueKeys: true,
    merge: false,
    // Otherwise !!binary, !!set, !!timestamp... resolve to non-JSON values even under the core schema.
    resolveKnownTags: false,
    prettyErrors: false,
  });
  return { doc, lines };
}

/** parseYaml parses YAML or JSON text; `file` names the source in errors. */
export function parseYaml(text: string, file: string): ParsedDocument {
  const tree = parseTree(text);
  const { doc, lines } = tree;
  const pos = (offset: number): Position => lines.linePos(offset);
  const locate = makeLocate(text, tree);
  const errors: ConfigError[] = [];
  const at = (offset: number, message: string, path: DocPath = []) => {
    const { line, col } = pos(offset);
    errors.push(new ConfigError({ file, line, col, path: formatPath(path), message }));
  };

  for (const e of doc.errors) {
    if (e.code === 'DUPLICATE_KEY') {
      const hit = keyAt(doc, e.pos[0]);
      at(e.pos[0], hit ? `duplicate key "${hit.key}"` : 'duplicate key', hit?.path ?? []);
    } else if (e.code === 'MULTIPLE_DOCS') {
      at(e.pos[0], 'a config file holds one document; remove the second "---" and what follows or move it to its own file');
    } else {
      at(e.pos[0], `syntax error: ${lowerFirst(e.message)}`);
    }
  }
  for (const w of doc.warnings) {
    // Tags could smuggle types (or, elsewhere, code) into what must be plain data.
    const tag = /^Unresolved tag: (\S+)/.exec(w.message)?.[1]?.replace(/^tag:yaml\.org,2002:/, '!!');
    at(w.pos[0], tag ? `unsupported tag ${tag}: config files are plain data` : lowerFirst(w.message));
  }
  visit(doc, {
    Pair(_, pair) {
      if (pair.key !== null && !isScalar(pair.key) && !isAlias(pair.key)) {
        at((pair.key as Node).range?.[0] ?? 0, 'keys must be plain strings, not lists or maps');
      }
    },
  });
  if (errors.length > 0) return { value: undefined, locate, errors };

  try {
    const value: unknown = doc.toJS({ maxAliasCount: MAX_ALIASES });
    // An empty file (or one with only comments) is an empty document.
    return { value: value ?? {}, locate, errors };
  } catch (err) {
    // Unresolvable or too many aliases surface only when converting.
    at(firstAlias(doc) ?? 0, lowerFirst((err as Error).message));
    return { value: undefined, locate, errors };
  }
}

/**
 * makeLocate walks the syntax tree along a path. A block map or list under a
 * key is reported at its key (its first item is on the next line); a scalar
 * at its value; a missing path at its nearest existing ancestor.
 *
 * The tree is held weakly and parsed again from the text when it was
 * collected: a running gateway keeps every file's locate (for errors found
 * later), and the tree costs about ten times its text (some 2 KB per route,
 * 2 MB of heap for 1,000 routes) for lookups that happen while loading, when
 * the tree is still alive.
 */
function makeLocate(text: string, parsed: Tree): Locate {
  let ref = new WeakRef(parsed);
  const tree = (): Tree => {
    let t = ref.deref();
    if (t === undefined) {
      t = parseTree(text);
      ref = new WeakRef(t);
    }
    return t;
  };
  return (path, prefer = 'value') => {
    const { doc, lines } = tree();
    const pos = (offset: number): Position => lines.linePos(offset);
    let node: unknown = doc.contents;
    let via: Pair | undefined;
    let best: Position = { line: 1, col: 1 };
    const here = (): Position | undefined => {
      const keyPos = isPair(via) && isNode(via.key) ? rangeStart(via.key, pos) : undefined;
      if (prefer === 'key' && keyPos) return keyPos;
      const blockCollection = (isMap(node) || isSeq(node)) && !node.flow;
      const emptyValue = node === null || (isScalar(node) && node.value === null && !node.source);
      if (keyPos && (blockCollection || emptyValue)) return keyPos;
      return isNode(node) ? rangeStart(node, pos) : keyPos;
    };
    best = here() ?? best;
    for (const seg of path) {
      if (isAlias(node)) node = node.resolve(doc);
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        via = pair;
        node = pair.value;
      } else if (isSeq(node)) {
        const item = node.items[Number(seg)];
        if (item === undefined) break;
        via = undefined;
        node = item;
      } else {
        break;
      }
      best = here() ?? best;
    }
    return best;
  };
}

function isNode(n: unknown): n is Node {
  return typeof n === 'object' && n !== null && 'range' in n;
}

function rangeStart(n: Node, pos: (offset: number) => Position): Position | undefined {
  return n.range ? pos(n.range[0]) : undefined;
}

/** keyAt finds the map key written at an offset and the path of its map (for duplicate-key errors). */
function keyAt(doc: Doc, offset: number): { key: string; path: DocPath } | undefined {
  const walk = (node: unknown, path: (string | number)[]): { key: string; path: DocPath } | undefined => {
    if (isMap(node)) {
      for (const p of node.items) {
        if (isScalar(p.key) && p.key.range?.[0] === offset) return { key: String(p.key.value), path };
        if (isScalar(p.key) && contains(p.value, offset)) return walk(p.value, [...path, String(p.key.value)]);
      }
    } else if (isSeq(node)) {
      for (let i = 0; i < node.items.length; i++) if (contains(node.items[i], offset)) return walk(node.items[i], [...path, i]);
    }
    return undefined;
  };
  return walk(doc.contents, []);
}

function contains(node: unknown, offset: number): boolean {
  return isNode(node) && node.range !== undefined && node.range !== null && node.range[0] <= offset && offset < node.range[2];
}

function firstAlias(doc: Doc): number | undefined {
  let found: number | undefined;
  visit(doc, {
    Alias(_, node) {
      found = node.range?.[0];
      return visit.BREAK;
    },
  });
  return found;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}
