import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';

/**
 * The import graph of src/, read from the source text. TypeScript 7 ships no
 * classic compiler API, and the tools that walk TypeScript imports
 * (dependency-cruiser, madge) parse through it, so this reads the module
 * specifiers itself: every `import … from`, `export … from`, side-effect
 * `import '…'` and dynamic `import('…')` with a literal specifier. Comments are
 * blanked first so an example in a doc comment is not counted as an edge.
 */

export interface ImportEdge {
  /** Importing file, relative to the repository root, with `/` separators. */
  from: string;
  /** Imported file under src/, relative to the repository root. */
  to: string;
  /** The specifier as written. */
  specifier: string;
  /** 1-based line of the specifier in the importing file. */
  line: number;
}

const STATIC = /(?:^|[;}])\s*(?:import|export)\s+(?:type\s+)?(?:[^;'"`]*?\s+from\s*|)(['"])([^'"\n]+)\1/gm;
const DYNAMIC = /\bimport\s*\(\s*(['"])([^'"\n]+)\1\s*\)/g;

/** Replaces comments with spaces, keeping every offset (and so every line) in place. */
export function blankComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (c === '/' && next === '/') {
      const end = text.indexOf('\n', i);
      const stop = end === -1 ? text.length : end;
      out += ' '.repeat(stop - i);
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (c === "'" || c === '"' || c === '`') {
      // Copy a string literal whole, so a `//` inside it is not taken for a comment.
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
}

/** The module specifiers of one file's text, with their lines. */
export function specifiersOf(text: string): { specifier: string; line: number }[] {
  const code = blankComments(text);
  const found: { specifier: string; index: number }[] = [];
  for (const pattern of [STATIC, DYNAMIC]) {
    for (const m of code.matchAll(pattern)) {
      const specifier = m[2] as string;
      found.push({ specifier, index: (m.index ?? 0) + m[0].lastIndexOf(specifier) });
    }
  }
  return found.sort((a, b) => a.index - b.index).map(({ specifier, index }) => ({ specifier, line: code.slice(0, index).split('\n').length }));
}

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) files.push(path);
  }
  return files.sort();
}

const toPosix = (path: string): string => path.split(sep).join(posix.sep);

/** Every relative import between files under `srcDir`; package and `node:` imports are left out. */
export function importEdges(root: string, srcDir = 'src'): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of sourceFiles(resolve(root, srcDir))) {
    for (const { specifier, line } of specifiersOf(readFileSync(file, 'utf8'))) {
      if (!specifier.startsWith('.')) continue;
      // NodeNext ESM: sources import `./x.js` for `./x.ts`.
      const target = resolve(dirname(file), specifier).replace(/\.js$/, '.ts');
      edges.push({
        from: toPosix(relative(root, file)),
        to: toPosix(relative(root, target)),
        specifier,
        line,
      });
    }
  }
  return edges;
}

/** The top-level folder under src/ a file belongs to (`src/protocols/imap/raw/x.ts` → `protocols`). */
export function folderOf(path: string, srcDir = 'src'): string {
  const rest = path.slice(srcDir.length + 1);
  const slash = rest.indexOf('/');
  return slash === -1 ? '.' : rest.slice(0, slash);
}

/** Folder-to-folder edges, each with the file imports that make it. */
export function folderEdges(edges: ImportEdge[]): Map<string, ImportEdge[]> {
  const byEdge = new Map<string, ImportEdge[]>();
  for (const edge of edges) {
    const from = folderOf(edge.from);
    const to = folderOf(edge.to);
    if (from === to) continue;
    const key = `${from} → ${to}`;
    byEdge.set(key, [...(byEdge.get(key) ?? []), edge]);
  }
  return new Map([...byEdge].sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * Folder cycles, as the strongly connected components of the folder graph that
 * hold more than one folder (Tarjan). Each is returned sorted, and the list too.
 */
export function folderCycles(edges: Iterable<string>): string[][] {
  const next = new Map<string, string[]>();
  for (const key of edges) {
    const [from, to] = key.split(' → ') as [string, string];
    next.set(from, [...(next.get(from) ?? []), to]);
    if (!next.has(to)) next.set(to, []);
  }
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);
  return components.sort((a, b) => a.join().localeCompare(b.join()));
}

/** A folder edge against the layer order: `from` sits at or below `to`, or either is not placed. */
export interface LayerViolation {
  readonly edge: string;
  readonly why: string;
  readonly imports: readonly ImportEdge[];
}

/**
 * Checks folder edges against a layer order, top first. Folders in one layer
 * are siblings and may not import each other; a folder may import only from
 * layers below its own. `allowed` names edges tolerated for now.
 */
export function layerViolations(edges: Map<string, ImportEdge[]>, layers: readonly (readonly string[])[], allowed: ReadonlySet<string>): LayerViolation[] {
  const rank = new Map<string, number>();
  layers.forEach((layer, i) => {
    for (const folder of layer) rank.set(folder, i);
  });
  const out: LayerViolation[] = [];
  for (const [edge, imports] of edges) {
    if (allowed.has(edge)) continue;
    const [from, to] = edge.split(' → ') as [string, string];
    const rf = rank.get(from);
    const rt = rank.get(to);
    if (rf === undefined || rt === undefined) {
      out.push({ edge, why: `folder src/${rf === undefined ? from : to} has no place in the layer order`, imports });
    } else if (rf === rt) {
      out.push({ edge, why: 'siblings in one layer may not import each other', imports });
    } else if (rf > rt) {
      out.push({ edge, why: `src/${from} sits below src/${to}: imports go downward only`, imports });
    }
  }
  return out;
}
