import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { LoadError } from '../core/diagnostics.js';
import type { Diagnostic } from '../core/diagnostics.js';
import { InputFileError, inputStat } from '../input/input-file.js';

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
    const info = await inputStat(p, 'scenario', { folders: true }).catch((err: unknown) => refusal(err, 'no such file or folder'));
    if (typeof info === 'string') problems.push(at(p, info));
    else if (info.isDirectory()) found.push(...(await walk(p, problems)));
    else if (YAML_RE.test(p)) found.push(p);
    else problems.push(at(p, 'not a scenario file: expected a .yaml or .yml file, or a folder'));
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
    else {
      // A link to a scenario file counts. A broken link, a FIFO, socket or device named *.yaml (which would
      // hang or flood a reader) is named with what it is, not skipped unseen and never read.
      const info = await inputStat(full, 'scenario').catch((err: unknown) => refusal(err, 'symbolic link to nothing (its target does not exist)'));
      if (typeof info === 'string') problems.push(at(full, info));
      else out.push(full);
    }
  }
  return out;
}

/** Why a path was refused; `missing` words a path that is not there where it was found (named, or listed by its folder). */
function refusal(err: unknown, missing: string): string {
  if (!(err instanceof InputFileError)) throw err;
  return err.problem === 'ENOENT' ? missing : err.message;
}

function at(file: string, message: string): Diagnostic {
  return { pos: { file, line: 1, col: 1 }, message };
}
