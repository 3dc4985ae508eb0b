import { basename, dirname, resolve } from 'node:path';
import { pickShard, type Shard } from './shard.js';
import type { ScenarioFilter } from './scenario-filter.js';
import { actionSignatures } from '../actions/registry.js';
import { discoverScenarioFiles } from '../scenario/discover.js';
import { LoadError, type Diagnostic } from '../core/diagnostics.js';
import { formatDiagnostic, readInputOrThrow } from '../input/errors.js';
import type { InputKind } from '../input/input-file.js';
import { loadScenarioSource } from '../scenario/load.js';
import type { Scenario } from '../scenario/model.js';
import { isTargetText, loadTargetText, type Target } from '../target/index.js';
import { checkDeviationProfile } from './deviation-profile.js';

/**
 * Loading of the user's files, shared by `run` and `validate`. Every problem
 * in every file is collected before anything connects anywhere, and printed
 * as `file:line:col: reason` with a code frame.
 */
export interface LoadOutcome<T> {
  readonly value?: T;
  readonly problems: string[];
  /** The same problems by file, for the reports (see load-error-run.ts); a problem of no one file is only in `problems`. */
  readonly failures?: LoadFailure[];
}

/** A file that could not be loaded: what the reports show as its errored case. */
export interface LoadFailure {
  readonly file: string;
  readonly kind: InputKind;
  readonly code: string;
  /** Every problem in the file, sorted, the first one first. */
  readonly diagnostics: readonly Diagnostic[];
  /** The same problems as printed on stderr: `file:line:col: reason` and a (redacted) code frame. */
  readonly problems: readonly string[];
}

/** The scenario id is relative to the nearest folder named "suites", so ids read "pop3/rset". */
export function suiteRoot(file: string): string {
  const dir = dirname(resolve(file));
  for (let up = dir; dirname(up) !== up; up = dirname(up)) {
    if (basename(up) === 'suites') return up;
  }
  return dir;
}

/**
 * Scenarios, and the target files found among them by content (isTargetText): a
 * folder of scenarios may hold the target it runs against, which is then
 * loaded as a target (its problems apart, for `validate`) and never as a scenario.
 */
export interface ScenarioLoad extends LoadOutcome<Scenario[]> {
  readonly targets: { readonly files: readonly string[]; readonly problems: readonly string[] };
}

export async function loadScenarios(paths: readonly string[]): Promise<ScenarioLoad> {
  const problems: string[] = [];
  const failures: LoadFailure[] = [];
  const targets = { files: [] as string[], problems: [] as string[] };
  let files: string[];
  try {
    files = await discoverScenarioFiles(paths);
  } catch (err) {
    return { problems: describeLoadError(err), failures: failuresOf(err, 'scenario'), targets };
  }
  if (files.length === 0) return { problems: [`no scenario files (*.yaml, *.yml) found in: ${paths.join(', ')}`], targets };
  const scenarios: Scenario[] = [];
  const texts = readAhead(files, (file) => readInputOrThrow(file, 'scenario'));
  for (const file of files) {
    // Told apart on the one text read (with the scenario limits), which is also the text a problem is framed with.
    let isTarget = false;
    const loaded = await loadFile<Scenario | undefined>(file, 'scenario', texts.next(), async (text) => {
      isTarget = isTargetText(text);
      if (!isTarget) return loadScenarioSource(text, file, { root: suiteRoot(file), actions: actionSignatures });
      await loadTargetText(text, file);
      return undefined;
    });
    if (isTarget) {
      targets.files.push(file);
      targets.problems.push(...loaded.problems);
    } else {
      if (loaded.value !== undefined) scenarios.push(loaded.value);
      problems.push(...loaded.problems);
      failures.push(...(loaded.failures ?? []));
    }
  }
  return { value: scenarios, problems, failures, targets };
}

// In its own module so that the CLI can compile --grep without loading the scenario loader and its libraries.
export { scenarioFilter, type ScenarioFilter } from './scenario-filter.js';

/** Target and scenarios, every problem of both collected; `grep` keeps the scenarios it matches, `shard` its part of them (shard.ts). */
export async function loadRunInputs(
  targetFile: string,
  paths: readonly string[],
  grep?: ScenarioFilter,
  shard?: Shard,
): Promise<{ problems: string[]; failures: LoadFailure[]; warnings?: string[]; target?: Target; scenarios?: Scenario[] }> {
  const target = await loadTarget(targetFile);
  const loaded = await loadScenarios(paths);
  const problems = [...target.problems, ...loaded.problems];
  const failures = [...(target.failures ?? []), ...(loaded.failures ?? [])];
  // The target, when it loaded, is kept for the load-error reports (its name and host, its passwords for redaction).
  if (problems.length > 0 || !target.value || !loaded.value) return { problems, failures, ...(target.value ? { target: target.value } : {}) };
  let scenarios = loaded.value;
  // The profile is checked against every scenario loaded, before --grep and --shard pick some (deviation-profile.ts).
  const profile = profileProblems(target.value, scenarios);
  if (profile.problems.length > 0) return { problems: profile.problems, failures: profile.failures, target: target.value };
  const warnings = profile.warnings;
  if (scenarios.length === 0)
    return { problems: [`no scenario files in: ${paths.join(', ')} (only target files: ${loaded.targets.files.join(', ')})`], failures, target: target.value };
  if (grep !== undefined) {
    scenarios = scenarios.filter(grep.matches);
    if (scenarios.length === 0) return { problems: [`--grep ${grep.pattern} matches no scenario`], failures, target: target.value };
  }
  // After --grep: the shards split what the whole run would run. An empty shard (more shards than scenarios) runs nothing.
  if (shard !== undefined) scenarios = pickShard(scenarios, shard);
  return { problems, failures, ...(warnings.length > 0 ? { warnings } : {}), target: target.value, scenarios };
}

/** A target's deviations checked against loaded scenarios: errors as problems (and the target's load failure), warnings as `file:line:col: warning: …`. */
export function profileProblems(target: Target, scenarios: readonly Scenario[]): { problems: string[]; failures: LoadFailure[]; warnings: string[] } {
  const { errors, warnings } = checkDeviationProfile(target, scenarios);
  const problems = errors.map((d) => formatDiagnostic(d));
  const failures: LoadFailure[] = errors.length === 0 ? [] : [{ file: target.file, kind: 'target', code: 'ETARGET_INVALID', diagnostics: errors, problems }];
  return { problems, failures, warnings: warnings.map((d) => formatDiagnostic({ ...d, message: `warning: ${d.message}` })) };
}

export function loadTarget(file: string): Promise<LoadOutcome<Target>> {
  return loadFile(file, 'target', readInputOrThrow(file, 'target'), (text) => loadTargetText(text, file));
}

/**
 * Reads files a few ahead of the one being parsed, in order: each file takes a handful of file-system calls, each a
 * trip to libuv's thread pool, and one after another they left the CPU idle for a tenth of `validate suites/`
 * (issue 12, cold start). A bounded window, so a folder of thousands of files never holds them all.
 */
function readAhead<T>(files: readonly string[], read: (file: string) => Promise<T>, window = 8): { next(): Promise<T> } {
  const pending: Promise<T>[] = [];
  let started = 0;
  let taken = 0;
  const fill = () => {
    while (started < files.length && started - taken < window) {
      const p = read(files[started++]!);
      // Awaited in turn by next(); until then its rejection is not unhandled.
      p.catch(() => undefined);
      pending.push(p);
    }
  };
  return {
    next() {
      fill();
      const p = pending.shift();
      if (p === undefined) throw new Error('readAhead: read past the last file');
      taken++;
      fill();
      return p;
    },
  };
}

/**
 * Reads a user's file once, with the limits of its kind, and loads it from
 * that text; a problem is framed with the same text, never a second read
 * (which could see another file, or the wrong limit).
 */
async function loadFile<T>(file: string, kind: InputKind, read: Promise<string>, load: (text: string) => T | Promise<T>): Promise<LoadOutcome<T>> {
  let text: string;
  try {
    text = await read;
  } catch (err) {
    return { problems: describeLoadError(err), failures: failuresOf(err, kind) };
  }
  try {
    return { value: await load(text), problems: [] };
  } catch (err) {
    return { problems: describeLoadError(err, { file, text }), failures: failuresOf(err, kind, { file, text }) };
  }
}

/** A LoadError's diagnostics grouped by the file they are in (a load names one file; discovery may name several paths). */
function failuresOf(err: unknown, kind: InputKind, source?: { readonly file: string; readonly text: string }): LoadFailure[] {
  if (!(err instanceof LoadError)) throw err;
  const byFile = new Map<string, Diagnostic[]>();
  for (const d of err.diagnostics) byFile.set(d.pos.file, [...(byFile.get(d.pos.file) ?? []), d]);
  return [...byFile].map(([file, diagnostics]) => ({
    file,
    kind,
    code: err.code,
    diagnostics,
    problems: diagnostics.map((d) => formatDiagnostic(d, file === source?.file ? source.text : undefined)),
  }));
}

/** Diagnostics, one string each, with a code frame for those in `source` (the text the file was loaded from). */
export function describeLoadError(err: unknown, source?: { readonly file: string; readonly text: string }): string[] {
  if (!(err instanceof LoadError)) throw err;
  return err.diagnostics.map((d) => formatDiagnostic(d, d.pos.file === source?.file ? source.text : undefined));
}
