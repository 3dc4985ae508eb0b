import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { LoadError } from '../core/diagnostics.js';
import type { Diagnostic } from '../core/diagnostics.js';

const YAML_RE = /\.ya?ml$/i;

/**
 * Expands the paths given on the command line into scenario files: files are
 * taken as given; folders are walked recursively for *.yaml / *.yml in sorted
 * order (so runs and reports are stable), skipping names that start with `_`
 * (partials, drafts) or `.`. Every missing path, and every *.yaml entry that
 * is not a regular file (FIFO, socket, device, broken link), is reported at once.
 */
export async function discoverScenarioFiles(paths: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  const problems: Diagnostic[] = [];
  for (const p of paths) {
    let info;
    try {
      info = await stat(p);
    } catch (err) {
      const loop = (err as NodeJS.ErrnoException).code === 'ELOOP';
      problems.push({ pos: { file: p, line: 1, col: 1 }, message: loop ? 'symbolic link loop' : 'no such file or folder' });
      continue;
    }
    if (info.isDirectory()) found.push(...(await walk(p, problems)));
    else if (YAML_RE.test(p)) found.push(p);
    else problems.push({ pos: { file: p, line: 1, col: 1 }, message: 'not a scenario file: expected a .yaml or .yml file, or a folder' });
  }
  if (problems.length > 0) throw new LoadError('EPATH_NOT_FOUND', problems);
  return [...new Set(found)];
}

async function walk(dir: string, problems: Diagnostic[]): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: string[] = [];
  for (const e of entries) {
    if (e.name.startsWith('_') || e.name.startsWith('.')) continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(full, problems)));
    else if (!YAML_RE.test(e.name)) continue;
    else if (e.isFile()) out.push(full);
    else if (e.isSymbolicLink()) {
      // A link to a scenario file counts; a broken or looping link is named, not skipped unseen.
      const target = await stat(full).catch((err: NodeJS.ErrnoException) => err);
      if (target instanceof Error)
        problems.push({
          pos: { file: full, line: 1, col: 1 },
          message: target.code === 'ELOOP' ? 'symbolic link loop' : 'symbolic link to nothing (its target does not exist)',
        });
      else if (target.isFile()) out.push(full);
      else
        problems.push({ pos: { file: full, line: 1, col: 1 }, message: 'links to something that is not a regular file; scenario files must be regular files' });
    } else {
      // A FIFO, socket or device named *.yaml would hang or flood the reader: say so instead of reading it.
      problems.push({ pos: { file: full, line: 1, col: 1 }, message: 'not a regular file (a FIFO, socket or device); scenario files must be regular files' });
    }
  }
  return out;
}
