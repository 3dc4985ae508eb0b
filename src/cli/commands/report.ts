import { resolve } from 'node:path';
import { InputFileError, readInputText } from '../../input/input-file.js';
import { DiffInputError, diffReports, parseJsonReport, type DiffReport, type Threshold } from '../../reporters/diff.js';
import { renderDiff, type DiffFormat } from '../../reporters/diff-render.js';
import { escapeControls } from '../../reporters/escape.js';
import { mergeReports, type NamedReport } from '../../reporters/merge.js';
import { createReporter, parseReporterSpec, ReporterMultiplexer, type ReporterSpec } from '../../reporters/index.js';
import type { RunResult } from '../../runner/results.js';
import { Redactor } from '../../transport/redact.js';
import { PRIVATE_MODES, setOutputModes } from '../../transport/private-files.js';
import { dropWhenClosed } from '../closed-pipes.js';
import { outputCollision } from '../report-outputs.js';
import { EXIT, exitCodeFor } from '../exit-codes.js';
import type { CliContext } from '../run-context.js';

export interface ReportDiffOptions {
  /** Parsed by the option parser (parseThreshold). */
  readonly threshold: Threshold;
  readonly format: DiffFormat;
}

/** A JSON report the user named, or `file:line:col: reason` for one that is unreadable or not a mailprobe JSON report. */
export async function readJsonReport(file: string, shownAs: string = file): Promise<DiffReport> {
  try {
    return parseJsonReport(await readInputText(file, 'report'));
  } catch (err) {
    if (err instanceof InputFileError || err instanceof DiffInputError) throw new Error(`${shownAs}:${err.line}:${err.col}: ${err.message}`);
    throw err;
  }
}

/** The diff's gate: 1 when something regressed, 0 otherwise (improvements alone included). */
export function diffExitCode(regressed: boolean): number {
  return regressed ? EXIT.FAILED : EXIT.OK;
}

/** `mailprobe report diff BASELINE.json CURRENT.json`: 0 no regression, 1 regressed, 2 a file is not a usable report. */
export async function reportDiffCommand(baseline: string, current: string, options: ReportDiffOptions, ctx: CliContext): Promise<number> {
  let reports: [DiffReport, DiffReport];
  try {
    reports = [await readJsonReport(resolve(ctx.cwd, baseline), baseline), await readJsonReport(resolve(ctx.cwd, current), current)];
  } catch (err) {
    ctx.stderr.write(`mailprobe: ${escapeControls((err as Error).message)}\n`);
    return EXIT.USAGE;
  }
  const diff = diffReports(reports[0], reports[1], options.threshold);
  ctx.stdout.write(renderDiff(diff, options.format));
  return diffExitCode(diff.regressed);
}

/** Worst first, in the order exitCodeFor decides a run's code: interrupted, failed, errored, inconclusive, passed. */
const SEVERITY: readonly number[] = [EXIT.INTERRUPTED, EXIT.FAILED, EXIT.ERRORED, EXIT.INCONCLUSIVE, EXIT.OK];

/**
 * `run --baseline`: the worse of the run's own code and the diff's gate (a
 * regression counts as a failure, 1). So an interrupted run stays 130, a
 * failing one 1; an errored or inconclusive run that also regressed exits 1;
 * a run that passed exits as the gate says.
 */
export function baselineGate(runCode: number, regressed: boolean): number {
  const gate = diffExitCode(regressed);
  const rank = (code: number) => (SEVERITY.includes(code) ? SEVERITY.indexOf(code) : -1);
  return rank(runCode) <= rank(gate) ? runCode : gate;
}

export interface ReportMergeOptions {
  readonly reporter: readonly string[];
}

/**
 * `mailprobe report merge A.json B.json …`: the shards' JSON reports as one run, written by every
 * `--reporter` as `run` writes them (console by default). Exit: as `run` would exit for the merged
 * result (exitCodeFor), 3 when a report could not be written, 2 for unusable or unmergeable reports.
 */
export async function reportMergeCommand(files: readonly string[], options: ReportMergeOptions, ctx: CliContext): Promise<number> {
  const say = (line: string) => ctx.stderr.write(`mailprobe: ${escapeControls(line)}\n`);
  let specs: ReporterSpec[];
  try {
    specs = options.reporter.map(parseReporterSpec);
  } catch (err) {
    say((err as Error).message);
    return EXIT.USAGE;
  }
  const collision = outputCollision(specs, ctx.cwd);
  if (collision !== undefined) {
    say(collision);
    return EXIT.USAGE;
  }
  let merged: RunResult;
  try {
    const reports: NamedReport[] = [];
    for (const file of files) reports.push({ file, report: await readJsonReport(resolve(ctx.cwd, file), file) });
    merged = mergeReports(reports);
  } catch (err) {
    say((err as Error).message);
    return EXIT.USAGE;
  }
  setOutputModes(PRIVATE_MODES);
  // The reports were redacted when written; the merge knows no secrets and scrubs nothing more.
  const redactor = new Redactor([]);
  const stdout = dropWhenClosed(ctx.stdout);
  const wanted = specs.length === 0 ? [{ name: 'console' } as ReporterSpec] : specs;
  const reporters = wanted.map((spec) =>
    createReporter(spec.file === undefined ? spec : { ...spec, file: resolve(ctx.cwd, spec.file) }, {
      redactor,
      color: ctx.color,
      stderr: ctx.stderr,
      stdout,
      cwd: ctx.cwd,
    }),
  );
  // Replayed as the run emitted them, so the console prints its rows and summary as it did for one run.
  const reporter = new ReporterMultiplexer(reporters, { stderr: ctx.stderr, redactor });
  await reporter.onRunStart({
    runId: merged.runId,
    target: merged.target,
    scenarioCount: merged.scenarios.length,
    startedAt: merged.startedAt,
    version: merged.mailprobeVersion,
  });
  for (const scenario of merged.scenarios) await reporter.onScenarioEnd(scenario);
  await reporter.onRunEnd(merged);
  const ran = exitCodeFor(merged);
  return reporter.crashed && (ran === EXIT.OK || ran === EXIT.INCONCLUSIVE) ? EXIT.ERRORED : ran;
}
