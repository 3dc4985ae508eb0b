import { resolve } from 'node:path';
import { InputFileError, readInputText } from '../../input/input-file.js';
import { DiffInputError, diffReports, parseJsonReport, type DiffReport, type Threshold } from '../../reporters/diff.js';
import { renderDiff, type DiffFormat } from '../../reporters/diff-render.js';
import { escapeControls } from '../../reporters/escape.js';
import { EXIT } from '../exit-codes.js';
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
