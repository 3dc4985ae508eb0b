import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { LoadError } from './errors.js';
import type { Diagnostic } from './errors.js';

const YAML_RE = /\.ya?ml$/i;

/**
 * Expands the paths given on the command line into scenario files: files are
 * taken as given; folders are walked recursively for *.yaml / *.yml in sorted
 * order (so runs and reports are stable), skipping names that start with `_`
 * (partials, drafts) or `.`. Every missing path is reported at once.
 */
export async function discoverScenarioFiles(paths: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  const problems: Diagnostic[] = [];
  for (const p of paths) {
    let info;
    try {
      info = await stat(p);
    } catch {
      problems.push({ pos: { file: p, line: 1, col: 1 }, message: 'no such file or folder' });
      continue;
    }
    if (info.isDirectory()) found.push(...(await walk(p)));
    else if (YAML_RE.test(p)) found.push(p);
    else problems.push({ pos: { file: p, line: 1, col: 1 }, message: 'not a scenario file: expected a .yaml or .yml file, or a folder' });
  }
  if (problems.length > 0) throw new LoadError('EPATH_NOT_FOUND', problems);
  return [...new Set(found)];
}

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('_') || e.name.startsWith('.')) continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(full)));
    else if (e.isFile() && YAML_RE.test(e.name)) out.push(full);
  }
  return out;
}
