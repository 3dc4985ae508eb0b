import { isAlias, isCollection, isMap, isNode, isPair, isScalar, isSeq, Lexer, LineCounter, parseDocument, visit } from 'yaml';
import type { Alias, Document, Node as YamlNode } from 'yaml';
import type { Diagnostic } from '../core/diagnostics.js';
import type { SourcePos } from '../core/source.js';

export type DataPath = readonly (string | number)[];

/**
 * Maps a path into the parsed data back to the YAML text. Kept on loaded
 * scenarios so that run-time errors (interpolation, param validation,
 * expectation failures) can name `file:line:col` too.
 */
export interface PositionMap {
  readonly file: string;
  /** Position of the node at `path`, or of its deepest existing ancestor. */
  posOf(path: DataPath): SourcePos;
  /** Position of the key naming the last segment of `path` (for "unknown key"), else posOf(path). */
  keyPosOf(path: DataPath): SourcePos;
}

export interface ParsedYaml {
  readonly data: unknown;
  readonly positions: PositionMap;
  /** YAML syntax problems and duplicate keys; when non-empty, `data` is not to be trusted. */
  readonly diagnostics: readonly Diagnostic[];
}

/** Parses YAML keeping node ranges; never throws on bad input. */
export function parseYamlWithPositions(text: string, file: string): ParsedYaml {
  const flood = aliasFloodAt(text);
  if (flood !== undefined) {
    const before = text.slice(0, flood);
    const pos = { file, line: before.split('\n').length, col: flood - (before.lastIndexOf('\n') + 1) + 1 };
    const message = `more than ${MAX_ALIASES} YAML aliases in one file; yaml takes time quadratic in their number, and no scenario or target needs so many: write the values out`;
    return { data: null, positions: makePositionMap(parseDocument(''), file, () => pos), diagnostics: [{ pos, message }] };
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): SourcePos => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col };
  };
  // After a few syntax errors the rest are mostly echoes of the first; a broken 1 MiB file can have thousands.
  const diagnostics: Diagnostic[] = doc.errors.slice(0, MAX_SYNTAX_ERRORS).map((e) => ({
    pos: at(e.pos[0]),
    message: describeYamlError(e.code, e.message, text, e.pos[0]),
  }));
  const unshown = doc.errors[MAX_SYNTAX_ERRORS];
  if (unshown !== undefined) {
    diagnostics.push({
      pos: at(unshown.pos[0]),
      message: `and ${doc.errors.length - MAX_SYNTAX_ERRORS} more YAML syntax errors from here on; fix the first ones, then validate again`,
    });
  }
  const positions = makePositionMap(doc, file, at);
  if (diagnostics.length === 0) diagnostics.push(...checkNodes(doc, at));
  let data: unknown = null;
  if (diagnostics.length === 0) {
    try {
      data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      // yaml throws a ReferenceError without a position when aliases expand too far (a "billion laughs" file).
      if (!(err instanceof ReferenceError)) throw err;
      const alias = aliasOverLimit(doc) ?? firstAlias(doc);
      diagnostics.push({
        pos: at(alias?.range?.[0] ?? 0),
        message: `too many YAML alias expansions here (the limit is ${MAX_ALIAS_COUNT} uses of an anchor, weighted by the aliases inside it): aliases of aliases grow exponentially, as in a "billion laughs" file; write the values out instead`,
      });
    }
  }
  return { data, positions, diagnostics };
}

const MAX_SYNTAX_ERRORS = 20;

/**
 * yaml's parser takes time quadratic in the number of aliases: 24,000 of them
 * (850 KB, within the size limit) took 40 s of CPU. Real files have a handful.
 */
const MAX_ALIASES = 1000;

/** yaml's lexer marks structure with one-character tokens that are not in the text (see yaml's cst.ts). */
const LEXER_CONTROL = new Set(['\x02', '\x18', '\x1f', '\u{FEFF}']);

/** Offset of the first alias over MAX_ALIASES, found by yaml's own lexer (linear; quoted and block text is not mistaken for aliases). */
function aliasFloodAt(text: string): number | undefined {
  if (text.split('*', MAX_ALIASES + 2).length <= MAX_ALIASES + 1) return undefined;
  let offset = 0;
  let aliases = 0;
  for (const token of new Lexer().lex(text)) {
    if (token.length === 1 && LEXER_CONTROL.has(token)) continue;
    if (token.startsWith('*') && ++aliases > MAX_ALIASES) return offset;
    offset += token.length;
  }
  return undefined;
}

/**
 * yaml's own guard against alias bombs (its default, stated here so it is a
 * decision): an anchor may be expanded at most this many times, weighted by
 * how many aliases its own value holds. No scenario or target needs more.
 */
const MAX_ALIAS_COUNT = 100;

/**
 * Problems toJS would hide or crash on: an alias to an anchor that is not
 * defined before it (yaml throws), an alias inside its own anchor (a cycle
 * that later walks of the data would follow forever), and a map key that is
 * itself a map or list (JavaScript objects would stringify it, with a process
 * warning on stderr).
 */
function checkNodes(doc: Document, at: (offset: number) => SourcePos): Diagnostic[] {
  const out: Diagnostic[] = [];
  const anchored: YamlNode[] = [];
  visit(doc, {
    Node(_key, node, path) {
      if (isAlias(node)) {
        const target = [...anchored].reverse().find((n) => n.anchor === node.source);
        if (target === undefined) {
          out.push({ pos: at(node.range?.[0] ?? 0), message: `unknown YAML alias '*${node.source}': no anchor '&${node.source}' is defined before it` });
        } else if (path.includes(target as never)) {
          out.push({
            pos: at(node.range?.[0] ?? 0),
            message: `YAML alias '*${node.source}' is inside its own anchor '&${node.source}', which would make the data endless`,
          });
        }
      } else if ('anchor' in node && typeof node.anchor === 'string') {
        anchored.push(node);
      }
      return undefined;
    },
    Pair(_key, pair) {
      if (isCollection(pair.key)) out.push({ pos: at(pair.key.range?.[0] ?? 0), message: 'a key must be a plain word or string, not a list or map' });
      return undefined;
    },
  });
  return out;
}

function firstAlias(doc: Document): Alias | undefined {
  let found: Alias | undefined;
  visit(doc, {
    Alias(_key, node) {
      found = node;
      return visit.BREAK;
    },
  });
  return found;
}

/**
 * The alias at which yaml's maxAliasCount check gives up, found by the same
 * count it keeps: the anchored value is one use and every alias to it adds
 * one, weighted by the largest alias count inside the anchored value (a plain
 * value weighs 1).
 * The error itself has no position.
 */
function aliasOverLimit(doc: Document): Alias | undefined {
  const uses = new Map<YamlNode, { count: number; weight: number }>();
  const anchored: YamlNode[] = [];
  const weightOf = (node: unknown): number => {
    if (isAlias(node)) {
      const target = [...anchored].reverse().find((n) => n.anchor === node.source);
      const u = target === undefined ? undefined : uses.get(target);
      return u === undefined ? 0 : u.count * u.weight;
    }
    if (isCollection(node)) {
      let most = 0;
      for (const item of node.items) most = Math.max(most, weightOf(item));
      return most;
    }
    if (isPair(node)) return Math.max(weightOf(node.key), weightOf(node.value));
    return 1;
  };
  let over: Alias | undefined;
  visit(doc, {
    Node(_key, node) {
      if (isAlias(node)) {
        const target = [...anchored].reverse().find((n) => n.anchor === node.source);
        if (target === undefined) return undefined;
        const u = uses.get(target);
        if (u === undefined) return undefined;
        u.count += 1;
        if (u.weight === 0) u.weight = weightOf(target);
        if (u.count * u.weight > MAX_ALIAS_COUNT) {
          over = node;
          return visit.BREAK;
        }
      } else if ('anchor' in node && typeof node.anchor === 'string') {
        anchored.push(node);
        // The anchored value itself is the first use, as yaml counts it.
        uses.set(node, { count: 1, weight: 0 });
      }
      return undefined;
    },
  });
  return over;
}

function describeYamlError(code: string, message: string, text: string, offset: number): string {
  if (code === 'RESOURCE_EXHAUSTION') return 'the YAML is nested too deeply to read (lists or maps inside each other thousands of levels deep)';
  if (code === 'DUPLICATE_KEY') {
    const key = /^[^\s:#]+|^"[^"]*"|^'[^']*'/.exec(text.slice(offset))?.[0];
    return key === undefined ? 'duplicate key' : `duplicate key '${key.replace(/^["']|["']$/g, '')}'`;
  }
  // yaml's own messages are already sentences; keep only the first line and drop the trailing period.
  const first = (message.split('\n')[0] ?? message).replace(/\.$/, '');
  return `YAML syntax error: ${first.charAt(0).toLowerCase()}${first.slice(1)}`;
}

function makePositionMap(doc: Document, file: string, at: (offset: number) => SourcePos): PositionMap {
  const start: SourcePos = { file, line: 1, col: 1 };
  const nodeAt = (path: DataPath): { node: YamlNode | undefined; depth: number } => {
    let node: unknown = doc.contents;
    let depth = 0;
    for (const seg of path) {
      const child = childOf(node, seg);
      if (child === undefined) break;
      node = child;
      depth++;
    }
    return { node: isNode(node) ? node : undefined, depth };
  };
  const posOfNode = (node: YamlNode | undefined): SourcePos => {
    const offset = node?.range?.[0];
    return offset === undefined ? start : at(offset);
  };
  return {
    file,
    posOf(path) {
      return posOfNode(nodeAt(path).node);
    },
    keyPosOf(path) {
      if (path.length === 0) return posOfNode(nodeAt(path).node);
      const parent = nodeAt(path.slice(0, -1));
      const last = path[path.length - 1];
      if (parent.depth === path.length - 1 && isMap(parent.node)) {
        const pair = parent.node.items.find((p) => isPair(p) && keyText(p.key) === String(last));
        if (pair && isNode(pair.key)) return posOfNode(pair.key);
      }
      return posOfNode(nodeAt(path).node);
    },
  };
}

function childOf(node: unknown, seg: string | number): unknown {
  if (isMap(node)) {
    const pair = node.items.find((p) => isPair(p) && keyText(p.key) === String(seg));
    // A key with no value (`key:`) has a null value node; point at the key then.
    return pair ? (pair.value ?? pair.key ?? undefined) : undefined;
  }
  if (isSeq(node) && typeof seg === 'number') return node.items[seg];
  return undefined;
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}
