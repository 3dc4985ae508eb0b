import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defaultLabDir } from '../../lab/index.js';
import { escapeControls } from '../../reporters/escape.js';
import { createReporter, parseReporterSpec, type ReporterSpec } from '../../reporters/index.js';
import { actionSignatures } from '../../actions/registry.js';
import { dryRun } from '../../runner/dry-run.js';
import { execute, newRunId } from '../../runner/execute.js';
import { RunLedger } from '../../runner/creation-record.js';
import { exitCodeFor, EXIT } from '../exit-codes.js';
import { readInputOrThrow } from '../../input/errors.js';
import { parseEnvFile } from '../../target/index.js';
import { installInterrupts, sayLeftovers } from '../interrupts.js';
import { outputCollision } from '../report-outputs.js';
import { baselineGate, readJsonReport } from './report.js';
import { DEFAULT_THRESHOLD, DiffCapture, diffReports, type DiffReport, type Threshold } from '../../reporters/diff.js';
import { renderDiff } from '../../reporters/diff-render.js';
import { dropWhenClosed } from '../closed-pipes.js';
import type { CliContext } from '../run-context.js';
import { PRIVATE_MODES, setOutputModes, type OutputModes } from '../../transport/private-files.js';
import type { ScenarioFilter } from '../../runner/load-inputs.js';
import type { Shard } from '../../runner/shard.js';
import type { Redactor } from '../../transport/redact.js';
import { progressLine } from '../../reporters/progress.js';
import { formatLiveEntry, type TranscriptEntry } from '../../transport/transcript.js';
import type { ScheduleEntry } from '../../runner/schedule.js';

export interface RunCommandOptions {
  readonly target?: string;
  /** --secrets-file: KEY=value lines added to the environment (the passwords of a CI job). */
  readonly secretsFile?: string;
  /** --env-from, the old name of --secrets-file. */
  readonly envFrom?: string;
  readonly reporter: readonly string[];
  /** Compiled by the option parser (scenarioFilter). */
  readonly grep?: ScenarioFilter;
  /** Parsed by the option parser (parseShard). */
  readonly shard?: Shard;
  readonly timeout?: number;
  readonly outDir: string;
  /** --report-mode, parsed; reports and saved messages are 0600 (folders 0700) without it. */
  readonly reportMode?: OutputModes;
  readonly quiet: boolean;
  /** --verbose: the live, redacted wire transcript on stderr. */
  readonly verbose?: boolean;
  readonly dryRun?: boolean;
  /** --baseline: a JSON report to diff this run against once it ends. */
  readonly baseline?: string;
  readonly threshold?: Threshold;
  /** --concurrency, parsed (1..16). */
  readonly concurrency?: number;
  /** --max-connections-per-host, parsed. */
  readonly maxConnectionsPerHost?: number;
  /** --connect-rate, parsed (new connections per second). */
  readonly connectRate?: number;
}

export async function runCommand(paths: readonly string[], options: RunCommandOptions, ctx: CliContext): Promise<number> {
  // Lines here quote the user's files and the lab's state: control and bidi characters are shown escaped.
  const say = (line: string) => ctx.stderr.write(`${escapeControls(line, { keep: '\n' })}\n`);

  // Which target, and where its passwords come from.
  let targetFile = options.target;
  const env: Record<string, string | undefined> = { ...ctx.env };
  if (targetFile === undefined) {
    const labDir = defaultLabDir(ctx.env);
    targetFile = join(labDir, 'target.yaml');
    if (!existsSync(targetFile)) {
      say(`mailprobe: no --target given and no lab is running (looked for ${targetFile}).`);
      say('Start the built-in lab with `mailprobe lab up`, or pass --target FILE for a real host.');
      return EXIT.USAGE;
    }
    say(`mailprobe: no --target given; running against the built-in lab (${targetFile})`);
  }
  try {
    if (options.target === undefined) Object.assign(env, await readEnvFile(join(defaultLabDir(ctx.env), 'lab.env')));
    const secretsFile = options.secretsFile ?? options.envFrom;
    if (secretsFile !== undefined) Object.assign(env, await readEnvFile(resolve(ctx.cwd, secretsFile)));
  } catch (err) {
    say(`mailprobe: ${(err as Error).message}`);
    return EXIT.USAGE;
  }
  if (options.dryRun === true) {
    const listed = await dryRun({
      targetFile: resolve(ctx.cwd, targetFile),
      paths: paths.length > 0 ? paths : [join(ctx.packageRoot, 'suites')],
      ...(options.grep !== undefined ? { grep: options.grep } : {}),
      ...(options.shard !== undefined ? { shard: options.shard } : {}),
      actions: actionSignatures,
      runId: newRunId(),
      env,
    });
    for (const p of [...(listed.warnings ?? []), ...listed.problems]) say(p);
    if (listed.listing !== undefined) ctx.stdout.write(escapeControls(listed.listing, { keep: '\n' }));
    return listed.problems.length > 0 ? EXIT.USAGE : EXIT.OK;
  }
  let specs: ReporterSpec[];
  try {
    specs = options.reporter.map(parseReporterSpec);
  } catch (err) {
    say(`mailprobe: ${(err as Error).message}`);
    return EXIT.USAGE;
  }
  const collision = outputCollision(specs, ctx.cwd);
  if (collision !== undefined) {
    say(`mailprobe: ${collision}`);
    return EXIT.USAGE;
  }
  // A baseline that is not a usable report is bad input: found before anything is connected to.
  let baseline: DiffReport | undefined;
  try {
    if (options.baseline !== undefined) baseline = await readJsonReport(resolve(ctx.cwd, options.baseline), options.baseline);
  } catch (err) {
    say(`mailprobe: ${(err as Error).message}`);
    return EXIT.USAGE;
  }
  let capture: DiffCapture | undefined;
  setOutputModes(options.reportMode ?? PRIVATE_MODES);
  // Console progress unless --quiet; the console reporter is never added twice.
  const wanted = options.quiet ? specs : [{ name: 'console' } as ReporterSpec, ...specs.filter((s) => s.name !== 'console')];

  // Report files name scenario files relative to this folder (mikepenz's annotations and GitLab read them so).
  // The shipped suites are named from the package root, `suites/pop3/rset.yaml`, as in a checkout, wherever
  // the package is installed and wherever the user stands; a user's own scenarios relative to the working
  // folder, their repository in CI. Report files are resolved against the working folder first.
  const reportRoot = paths.length === 0 ? ctx.packageRoot : ctx.cwd;
  const stdout = dropWhenClosed(ctx.stdout);
  const reporterFor = (spec: ReporterSpec, redactor: Redactor) =>
    spec.name === 'console'
      ? createReporter(spec, { redactor, color: ctx.color, stderr: ctx.stderr, stdout, cwd: ctx.cwd })
      : createReporter(spec.file === undefined ? spec : { ...spec, file: resolve(ctx.cwd, spec.file) }, {
          redactor,
          color: ctx.color,
          stderr: ctx.stderr,
          stdout,
          cwd: reportRoot,
        });

  // Ctrl-C stops the steps (cleanup runs, reports are written); a second stops cleanup; a third leaves.
  const ledger = new RunLedger();
  const concurrency = options.concurrency ?? 1;
  const budget = {
    ...(options.maxConnectionsPerHost !== undefined ? { maxPerHost: options.maxConnectionsPerHost } : {}),
    ...(options.connectRate !== undefined ? { connectsPerSecond: options.connectRate } : {}),
  };
  const schedule: ScheduleEntry[] = [];
  const interrupts = installInterrupts(say, ledger);
  try {
    const outcome = await execute({
      targetFile: resolve(ctx.cwd, targetFile),
      paths: paths.length > 0 ? paths : [join(ctx.packageRoot, 'suites')],
      env,
      ...(options.grep !== undefined ? { grep: options.grep } : {}),
      ...(options.shard !== undefined ? { shard: options.shard } : {}),
      ...(options.timeout !== undefined ? { commandTimeout: options.timeout } : {}),
      reporters: (redactor) => {
        capture = baseline === undefined ? undefined : new DiffCapture(redactor);
        return [...wanted.map((spec) => reporterFor(spec, redactor)), ...(capture === undefined ? [] : [capture])];
      },
      // Input files that do not load still get the file reports (the console lists the problems below).
      loadErrorReporters: (redactor) => specs.filter((s) => s.name !== 'console').map((spec) => reporterFor(spec, redactor)),
      stderr: ctx.stderr,
      signal: interrupts.signal,
      stopCleanup: interrupts.stopCleanup,
      ledger,
      messagesDir: resolve(ctx.cwd, options.outDir, 'messages'),
      version: ctx.version,
      // The live waiting line belongs with the console output: not with --quiet, nothing off a terminal, not
      // with --verbose, whose lines would land on the half-drawn line (the transcript shows the wait anyway), and
      // not with scenarios at once, whose waits would fight over the one line and whose blocks would land on it.
      ...(options.quiet || options.verbose === true || concurrency > 1 ? {} : { waiting: progressLine(ctx.stderr) }),
      ...(options.verbose === true ? { onTranscript: (redactor: Redactor) => liveTranscript(ctx.stderr, redactor, concurrency > 1) } : {}),
      concurrency,
      ...(Object.keys(budget).length > 0 ? { budget } : {}),
      onScheduled: (entry, id) => {
        schedule.push(entry);
        if (options.verbose === true && concurrency > 1)
          say(`=== [${id}] starts${entry.alongside.length > 0 ? ` alongside ${entry.alongside.length} other scenario(s)` : ''}`);
      },
    });
    if (outcome.kind === 'invalid') {
      for (const p of outcome.problems) say(p);
      say(`mailprobe: ${outcome.problems.length} problem(s) in the input files; nothing was run.`);
      return EXIT.USAGE;
    }
    if (interrupts.hurried)
      sayLeftovers(
        say,
        outcome.result.scenarios.flatMap((s) => s.leftovers.map((item) => `${s.id}: ${item}`)),
      );
    if (concurrency > 1 && !options.quiet) say(scheduleSummary(schedule, concurrency));
    const ran = exitCodeFor(outcome.result);
    // A report that could not be written is a run that could not fully happen.
    const code = outcome.reporterCrashed && (ran === EXIT.OK || ran === EXIT.INCONCLUSIVE) ? EXIT.ERRORED : ran;
    if (baseline === undefined || capture?.report === undefined) return code;
    const diff = diffReports(baseline, capture.report, options.threshold ?? DEFAULT_THRESHOLD);
    // After the reports; on stderr when a report already takes stdout (tap or json without a file).
    (specs.some((s) => s.name !== 'console' && s.file === undefined) ? ctx.stderr : stdout).write(renderDiff(diff, 'console'));
    return baselineGate(code, diff.regressed);
  } finally {
    interrupts.dispose();
  }
}

/**
 * --verbose: each line scrubbed again (a server may echo a secret) and shown with its control characters escaped.
 * With scenarios at once, each line starts with its scenario's id, since the lines of several interleave.
 */
function liveTranscript(stderr: NodeJS.WritableStream, redactor: Redactor, prefixed: boolean): (entry: TranscriptEntry, scenarioId: string) => void {
  return (entry, id) => stderr.write(`${prefixed ? `[${escapeControls(id)}] ` : ''}${escapeControls(redactor.text(formatLiveEntry(entry)))}\n`);
}

/** "concurrency 4: 9 of 29 scenarios started while others ran (at most 3 at once)". */
function scheduleSummary(schedule: readonly ScheduleEntry[], concurrency: number): string {
  const overlapped = schedule.filter((e) => e.alongside.length > 0).length;
  const most = schedule.reduce((m, e) => Math.max(m, e.alongside.length + 1), 0);
  return `concurrency ${concurrency}: ${overlapped} of ${schedule.length} scenarios started while others ran (at most ${most} at once)`;
}

/** An env file holds passwords: read bounded, refusing special files and non-UTF-8, and never echo its lines. */
async function readEnvFile(file: string): Promise<Record<string, string>> {
  return parseEnvFile(await readInputOrThrow(file, 'env'), file);
}
