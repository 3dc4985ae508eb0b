import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { folderCycles, folderEdges, type ImportEdge, importEdges, layerViolations, specifiersOf } from '../support/import-graph.js';

/**
 * Layers depend downward only (README "Layout"). Top first; the folders of one
 * row are siblings and may not import each other.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['cli'],
  // The CLI builds the reporters and runs the lab and the probe (DNS, ports, TLS facts, findings; never the
  // runner); reporters render the runner's result model.
  ['reporters', 'lab', 'probe'],
  // `load` runs commands on the protocols' raw clients beside the runner, never through it.
  ['runner', 'load'],
  // Loading and checking the YAML: a scenario names a target's endpoints, both use interpolation.
  ['scenario'],
  ['target'],
  ['interpolate', 'expectations'],
  // Reading user files: bounded reads, YAML with positions, zod issues to diagnostics.
  ['input'],
  ['actions'],
  ['protocols'],
  ['transport'],
  // Names used everywhere; depends on nothing else in src.
  ['core'],
];

/**
 * Edges allowed against the order, each with its reason. None are left: the
 * last (actions → runner) went when the outcomes and the runner's target view
 * moved into src/actions. An entry whose edge is gone fails the test below.
 */
const KNOWN_EXCEPTIONS: ReadonlySet<string> = new Set<string>([]);

const root = fileURLToPath(new URL('../..', import.meta.url));
const edges = importEdges(root);
const byFolder = folderEdges(edges);

const where = (imports: readonly ImportEdge[]): string => imports.map((e) => `  ${e.from}:${e.line} imports ${e.specifier}`).join('\n');

describe('import graph of src/', () => {
  it('reads the imports of every source file, and each resolves to a file', () => {
    // A reader that found nothing would make every check below pass.
    expect(edges.length).toBeGreaterThan(300);
    const dangling = edges.filter((e) => !existsSync(`${root}/${e.to}`));
    expect(dangling.map((e) => `${e.from}:${e.line} ${e.specifier}`)).toEqual([]);
  });

  it('has no folder edge against the layer order', () => {
    const violations = layerViolations(byFolder, LAYERS, KNOWN_EXCEPTIONS);
    expect(violations.map((v) => `${v.edge}: ${v.why}\n${where(v.imports)}`)).toEqual([]);
  });

  it('has no folder cycle', () => {
    const rest = [...byFolder.keys()].filter((edge) => !KNOWN_EXCEPTIONS.has(edge));
    expect(folderCycles(rest)).toEqual([]);
  });

  it('keeps src/core free of packages: it imports only node: built-ins and itself', () => {
    const outside = edges.filter((e) => e.from.startsWith('src/core/') && !e.to.startsWith('src/core/'));
    expect(where(outside)).toBe('');
    const packages = readdirSync(`${root}/src/core`)
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) => specifiersOf(readFileSync(`${root}/src/core/${f}`, 'utf8')).map((s) => ({ ...s, file: f })))
      .filter((s) => !s.specifier.startsWith('.') && !s.specifier.startsWith('node:'));
    expect(packages.map((s) => `src/core/${s.file}:${s.line} imports ${s.specifier}`)).toEqual([]);
  });

  it('still needs each known exception (remove an entry once its edge is gone)', () => {
    for (const edge of KNOWN_EXCEPTIONS) expect(byFolder.has(edge), `${edge} no longer occurs: delete it from KNOWN_EXCEPTIONS`).toBe(true);
  });
});

describe('import graph reader and checks', () => {
  it('finds static, re-export, side-effect, type-only and dynamic imports, and skips comments', () => {
    const text = [
      'import { a,',
      "  b } from './a.js';",
      "import type { T } from '../t.js';",
      "export { c } from './c.js';",
      "export * from './d.js';",
      "import './side.js';",
      "// import { x } from './commented.js';",
      "/* export { y } from './block.js'; */",
      "const m = await import('./dynamic.js');",
      "const s = 'from \\'./not-an-import.js\\'';",
      "import { readFile } from 'node:fs/promises';",
    ].join('\n');
    expect(specifiersOf(text)).toEqual([
      { specifier: './a.js', line: 2 },
      { specifier: '../t.js', line: 3 },
      { specifier: './c.js', line: 4 },
      { specifier: './d.js', line: 5 },
      { specifier: './side.js', line: 6 },
      { specifier: './dynamic.js', line: 9 },
      { specifier: 'node:fs/promises', line: 11 },
    ]);
  });

  const edge = (from: string, to: string): ImportEdge => ({ from: `src/${from}/x.ts`, to: `src/${to}/y.ts`, specifier: `../${to}/y.js`, line: 1 });

  it('reports an upward edge, a sibling edge and an unplaced folder', () => {
    const graph = folderEdges([edge('transport', 'runner'), edge('interpolate', 'expectations'), edge('runner', 'nowhere'), edge('runner', 'core')]);
    expect(layerViolations(graph, LAYERS, new Set()).map((v) => v.edge)).toEqual(['interpolate → expectations', 'runner → nowhere', 'transport → runner']);
  });

  it('finds folder cycles, however long', () => {
    expect(folderCycles(['a → b', 'b → c', 'c → a', 'c → d', 'd → e', 'e → d'])).toEqual([
      ['a', 'b', 'c'],
      ['d', 'e'],
    ]);
    expect(folderCycles(['a → b', 'b → c'])).toEqual([]);
  });
});
