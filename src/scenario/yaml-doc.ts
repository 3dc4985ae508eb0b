import { isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import type { Diagnostic } from './errors.js';
import type { SourcePos } from './source.js';

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
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): SourcePos => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col };
  };
  const diagnostics: Diagnostic[] = doc.errors.map((e) => ({
    pos: at(e.pos[0]),
    message: describeYamlError(e.code, e.message, text, e.pos[0]),
  }));
  const positions = makePositionMap(doc, file, at);
  let data: unknown = null;
  if (diagnostics.length === 0) data = doc.toJS({ maxAliasCount: 100 });
  return { data, positions, diagnostics };
}

function describeYamlError(code: string, message: string, text: string, offset: number): string {
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
