import { resolve } from 'node:path';

/** An output as `--reporter NAME[=FILE]` names it: a reporter, or a matrix of several runs. */
export interface OutputSpec {
  readonly name: string;
  readonly file?: string;
}

/** A reporter that writes to stdout when no file is given (console writes to stderr). */
export const writesToStdout = (spec: OutputSpec): boolean => spec.file === undefined && spec.name !== 'console';

/**
 * Two outputs that would share one sink, as a usage error to print, or
 * undefined. Two reporters writing one file, or two writers interleaving on
 * stdout, leave one corrupted report that a CI job then parses as if it were
 * whole; refusing before the run is the only safe answer. `otherStdout`
 * names writers of stdout that are not reporters (probe's --json).
 */
export function outputCollision(specs: readonly OutputSpec[], cwd: string, otherStdout: readonly string[] = []): string | undefined {
  const stdoutWriters = [...otherStdout, ...specs.filter(writesToStdout).map((s) => `--reporter ${s.name}`)];
  if (stdoutWriters.length > 1) return `${stdoutWriters.join(' and ')} cannot share stdout; give the reporters a file (--reporter NAME=FILE)`;
  const byFile = new Map<string, OutputSpec>();
  for (const spec of specs) {
    if (spec.file === undefined) continue;
    const path = resolve(cwd, spec.file);
    const first = byFile.get(path);
    if (first !== undefined)
      return `--reporter ${first.name}=${first.file} and --reporter ${spec.name}=${spec.file} would both write ${path}; give each reporter its own file`;
    byFile.set(path, spec);
  }
  return undefined;
}
