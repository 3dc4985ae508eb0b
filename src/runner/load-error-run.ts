import { basename, dirname } from 'node:path';
import { scenarioId } from '../scenario/load.js';
import type { Target } from '../target/index.js';
import { suiteRoot, type LoadFailure } from './load-inputs.js';
import type { RunResult, ScenarioResult } from './results.js';

/**
 * The reports of a run refused for its input files. A CI job reads junit.xml
 * after every run; without this it found none, or the previous run's, and
 * could not tell a broken scenario file from a green run. Every file that
 * failed to load becomes an errored case (code: the LoadError's, phase
 * "load", at: its first problem, every problem with its code frame beside
 * it); a problem of no one file (no scenario files found, a --grep that
 * matches nothing) becomes one case of its own. Nothing was run or connected
 * to, so no other case appears, and the exit code stays the usage code (2).
 */
export interface LoadErrorRunOptions {
  readonly runId: string;
  readonly startedAt: number;
  readonly version: string;
  readonly targetFile: string;
  /** The target, when it loaded: the reports name it as a run does. */
  readonly target?: Target;
  readonly failures: readonly LoadFailure[];
  /** Every problem as printed; those that name no failing file get a case of their own. */
  readonly problems: readonly string[];
}

export function loadErrorRun(options: LoadErrorRunOptions): RunResult {
  const cases = options.failures.map((f) => failureCase(f, options.startedAt));
  const covered = new Set(options.failures.flatMap((f) => f.problems));
  const loose = options.problems.filter((p) => !covered.has(p));
  if (loose.length > 0) cases.push(inputsCase(loose, options.startedAt));
  return {
    runId: options.runId,
    startedAt: options.startedAt,
    durationMs: 0,
    target: {
      // Not loaded: the file's name, and a host that says so ("target t.yaml (not loaded)").
      name: options.target?.name ?? basename(options.targetFile),
      host: options.target?.host ?? 'not loaded',
      file: options.targetFile,
      // Nothing was connected to, so no endpoint went unverified.
      insecure: false,
    },
    scenarios: cases,
    interrupted: false,
    cleanupStopped: false,
    mailprobeVersion: options.version,
    peakBufferedBytes: 0,
  };
}

const EMPTY = { tags: [], rfc: [], durationMs: 0, steps: [], cleanup: [], properties: {}, capabilities: {}, leftovers: [] } as const;

function failureCase(f: LoadFailure, startedAt: number): ScenarioResult {
  const first = f.diagnostics[0];
  const more = f.diagnostics.length - 1;
  const what = f.kind === 'target' ? 'target file' : 'scenario file';
  return {
    ...EMPTY,
    state: 'errored',
    // A scenario file's id as it would have read had it loaded (so its JUnit classname is its folder).
    id: f.kind === 'target' ? `target/${scenarioId(f.file, dirname(f.file))}` : scenarioId(f.file, suiteRoot(f.file)),
    name: `${what} ${basename(f.file)} could not be loaded`,
    file: f.file,
    ...(first !== undefined ? { line: first.pos.line } : {}),
    startedAt,
    remarks: [{ label: more > 0 ? 'problems' : 'problem', text: f.problems.join('\n') }],
    error: {
      code: f.code,
      phase: 'load',
      message: `${first?.message ?? f.code}${more > 0 ? ` (and ${more} more problem${more === 1 ? '' : 's'})` : ''}`,
      ...(first !== undefined ? { source: first.pos } : {}),
      transcript: [],
    },
  };
}

function inputsCase(problems: readonly string[], startedAt: number): ScenarioResult {
  return {
    ...EMPTY,
    state: 'errored',
    id: 'inputs',
    name: 'the run inputs could not be loaded',
    startedAt,
    suite: 'inputs',
    remarks: [{ label: 'problem', text: problems.join('\n') }],
    error: { code: 'EINPUTS', phase: 'load', message: problems[0] ?? 'no inputs', transcript: [] },
  };
}
