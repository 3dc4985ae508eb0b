import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defaultLabDir } from '../../lab/index.js';
import { escapeControls } from '../../reporters/escape.js';
import { createReporter, type ReporterSpec } from '../../reporters/index.js';
import { actionSignatures } from '../../actions/registry.js';
import { dryRun } from '../../runner/dry-run.js';
import { execute, newRunId } from '../../runner/execute.js';
import { RunLedger } from '../../runner/creation-record.js';
import { exitCodeFor, worstExit, EXIT } from '../exit-codes.js';
import { readInputOrThrow } from '../../input/errors.js';
import { parseEnvFile } from '../../target/index.js';
import { installInterrupts, sayLeftovers, type Interrupts } from '../interrupts.js';
import { outputCollision, writesToStdout } from '../report-outputs.js';
import { fileTargets, labTargets, specsForTarget, TargetChoiceError, type RunTarget } from '../run-targets.js';
import { parseRunOutputs, writeMatrix, type RunOutputs } from '../run-matrix.js';
import { buildMatrix, type MatrixInput } from '../../reporters/matrix.js';
import { redactRun } from '../../reporters/redact-result.js';
import type { Reporter } from '../../runner/reporter.js';
import type { RunResult } from '../../runner/results.js';
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
  /** --target, repeatable: each file is run in turn, and together they make the matrix. */
  readonly target?: readonly string[];
  /** --servers: the built-in lab's servers to run against, e.g. "dovecot,cyrus,courier". */
  readonly servers?: string;
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

  // Which targets, and where their passwords come from.
  const targets = chooseTargets(options, ctx, say);
  if (targets === undefined) return EXIT.USAGE;
  const several = targets.length > 1;
  const env: Record<string, string | undefined> = { ...ctx.env };
  try {
    if (targets.some((t) => t.fromLab)) Object.assign(env, await readEnvFile(join(defaultLabDir(ctx.env), 'lab.env')));
    const secretsFile = options.secretsFile ?? options.envFrom;
    if (secretsFile !== undefined) Object.assign(env, await readEnvFile(resolve(ctx.cwd, secretsFile)));
  } catch (err) {
    say(`mailprobe: ${(err as Error).message}`);
    return EXIT.USAGE;
  }
  const scenarioPaths = paths.length > 0 ? paths : [join(ctx.packageRoot, 'suites')];
  const plan = async (target: RunTarget) =>
    dryRun({
      targetFile: target.file,
      paths: scenarioPaths,
      ...(options.grep !== undefined ? { grep: options.grep } : {}),
      ...(options.shard !== undefined ? { shard: options.shard } : {}),
      actions: actionSignatures,
      runId: newRunId(),
      env,
      concurrency: options.concurrency ?? 1,
    });
  if (options.dryRun === true) {
    let problems = 0;
    for (const target of targets) {
      const listed = await plan(target);
      for (const p of [...(listed.warnings ?? []), ...listed.problems]) say(p);
      problems += listed.problems.length;
      if (several) ctx.stdout.write(`${escapeControls(`== target ${target.label}: ${target.file}`)}\n`);
      if (listed.listing !== undefined) ctx.stdout.write(escapeControls(listed.listing, { keep: '\n' }));
    }
    return problems > 0 ? EXIT.USAGE : EXIT.OK;
  }
  let outputs: RunOutputs;
  try {
    outputs = parseRunOutputs(options.reporter);
  } catch (err) {
    say(`mailprobe: ${(err as Error).message}`);
    return EXIT.USAGE;
  }
  const { specs, matrix } = outputs;
  const problem = outputsProblem(outputs, targets, options, ctx.cwd);
  if (problem !== undefined) {
    say(`mailprobe: ${problem}`);
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
  // With several targets every input is checked before the first connection: a broken second target file
  // must not be found after the first target's run touched its host.
  if (several) {
    let problems = 0;
    for (const target of targets) {
      const listed = await plan(target);
      for (const p of listed.problems) say(p);
      problems += listed.problems.length;
    }
    if (problems > 0) {
      say(`mailprobe: ${problems} problem(s) in the input files; nothing was run.`);
      return EXIT.USAGE;
    }
  }
  setOutputModes(options.reportMode ?? PRIVATE_MODES);

  // Ctrl-C stops the steps (cleanup runs, reports are written); a second stops cleanup; a third leaves.
  // With several targets, the targets not started yet are not started.
  const ledger = new RunLedger();
  const interrupts = installInterrupts(say, ledger);
  const ran: MatrixInput[] = [];
  const codes: number[] = [];
  try {
    for (const target of targets) {
      if (interrupts.signal.aborted) break;
      if (several && !options.quiet) say(`=== target ${target.label}: ${target.file}`);
      const one = await runOneTarget(target, targets.length, { options, ctx, say, env, specs, baseline, interrupts, ledger, scenarioPaths: paths });
      if (one.kind === 'invalid') return EXIT.USAGE;
      codes.push(one.code);
      if (one.run !== undefined) ran.push({ label: target.label, run: one.run });
    }
    const notRun = targets.slice(ran.length).map((t) => t.label);
    if (several && notRun.length > 0) say(`mailprobe: not run, since the run was interrupted: ${notRun.join(', ')}`);
    if (ran.length > 0 && (several || matrix.length > 0)) {
      const wrote = await writeMatrix(buildMatrix(ran), matrix, { say, ctx, stdout: dropWhenClosed(ctx.stdout), console: several && !options.quiet });
      if (!wrote) codes.push(EXIT.ERRORED);
    }
    return worstExit(codes);
  } finally {
    interrupts.dispose();
  }
}

/** --target FILE…, --servers LIST, or (neither) the lab's Dovecot; undefined after a usage error was said. */
function chooseTargets(options: RunCommandOptions, ctx: CliContext, say: (line: string) => void): RunTarget[] | undefined {
  const files = options.target ?? [];
  try {
    if (options.servers !== undefined && files.length > 0) {
      throw new TargetChoiceError("--servers runs the lab's servers and --target names target files: give one or the other");
    }
    if (options.servers !== undefined) return labTargets(options.servers, defaultLabDir(ctx.env));
    if (files.length > 0) return fileTargets(files, ctx.cwd);
  } catch (err) {
    if (!(err instanceof TargetChoiceError)) throw err;
    say(`mailprobe: ${err.message}`);
    return undefined;
  }
  const file = join(defaultLabDir(ctx.env), 'target.yaml');
  if (!existsSync(file)) {
    say(`mailprobe: no --target given and no lab is running (looked for ${file}).`);
    say('Start the built-in lab with `mailprobe lab up`, or pass --target FILE for a real host.');
    return undefined;
  }
  say(`mailprobe: no --target given; running against the built-in lab (${file})`);
  return [{ label: 'dovecot', file, fromLab: true }];
}

/** What stops the outputs being written as asked, as a usage error to print, or undefined. */
function outputsProblem(outputs: RunOutputs, targets: readonly RunTarget[], options: RunCommandOptions, cwd: string): string | undefined {
  if (targets.length > 1) {
    const onStdout = outputs.specs.find(writesToStdout);
    if (onStdout !== undefined) {
      return `with several targets each target writes its own ${onStdout.name} report: give it a file, --reporter ${onStdout.name}=FILE (FILE-<target> per target, or put {target} in FILE)`;
    }
    if (options.baseline !== undefined) return '--baseline compares one run with one report: give one --target (or one of --servers) with it';
  }
  const perTarget = targets.flatMap((t) => specsForTarget(outputs.specs, t.label, targets.length));
  return outputCollision([...perTarget, ...outputs.matrix], cwd);
}

interface TargetRunContext {
  readonly options: RunCommandOptions;
  readonly ctx: CliContext;
  readonly say: (line: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly specs: readonly ReporterSpec[];
  readonly baseline: DiffReport | undefined;
  readonly interrupts: Interrupts;
  readonly ledger: RunLedger;
  /** The paths as the user gave them (none: the shipped suites). */
  readonly scenarioPaths: readonly string[];
}

type TargetOutcome = { readonly kind: 'invalid' } | { readonly kind: 'ran'; readonly code: number; readonly run?: RunResult };

/** One target's run: its reporters and files, the console, the baseline diff; its exit code and its redacted result. */
async function runOneTarget(target: RunTarget, targetCount: number, run: TargetRunContext): Promise<TargetOutcome> {
  const { options, ctx, say, interrupts } = run;
  const paths = run.scenarioPaths;
  const specs = specsForTarget(run.specs, target.label, targetCount);
  let capture: DiffCapture | undefined;
  let result: RunResult | undefined;
  const keepResult = (redactor: Redactor): Reporter => ({
    name: 'matrix-capture',
    onRunEnd: (r: RunResult) => {
      result = redactRun(r, redactor);
    },
  });
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

  const concurrency = options.concurrency ?? 1;
  const budget = {
    ...(options.maxConnectionsPerHost !== undefined ? { maxPerHost: options.maxConnectionsPerHost } : {}),
    ...(options.connectRate !== undefined ? { connectsPerSecond: options.connectRate } : {}),
  };
  const schedule: ScheduleEntry[] = [];
  const outcome = await execute({
    targetFile: target.file,
    paths: paths.length > 0 ? paths : [join(ctx.packageRoot, 'suites')],
    env: run.env,
    ...(options.grep !== undefined ? { grep: options.grep } : {}),
    ...(options.shard !== undefined ? { shard: options.shard } : {}),
    ...(options.timeout !== undefined ? { commandTimeout: options.timeout } : {}),
    reporters: (redactor) => {
      capture = run.baseline === undefined ? undefined : new DiffCapture(redactor);
      return [...wanted.map((spec) => reporterFor(spec, redactor)), keepResult(redactor), ...(capture === undefined ? [] : [capture])];
    },
    // Input files that do not load still get the file reports (the console lists the problems below).
    loadErrorReporters: (redactor) => specs.filter((s) => s.name !== 'console').map((spec) => reporterFor(spec, redactor)),
    stderr: ctx.stderr,
    signal: interrupts.signal,
    stopCleanup: interrupts.stopCleanup,
    ledger: run.ledger,
    // Saved copies of several targets' messages in one folder each: their names carry the run id, kept apart anyway.
    messagesDir: resolve(ctx.cwd, options.outDir, targetCount > 1 ? join('messages', target.label) : 'messages'),
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
    return { kind: 'invalid' };
  }
  if (interrupts.hurried)
    sayLeftovers(
      say,
      outcome.result.scenarios.flatMap((s) => s.leftovers.map((item) => `${s.id}: ${item}`)),
    );
  if (concurrency > 1 && !options.quiet) say(scheduleSummary(schedule, concurrency));
  const ranCode = exitCodeFor(outcome.result);
  // A report that could not be written is a run that could not fully happen.
  const code = outcome.reporterCrashed && (ranCode === EXIT.OK || ranCode === EXIT.INCONCLUSIVE) ? EXIT.ERRORED : ranCode;
  const kept = result === undefined ? {} : { run: result };
  if (run.baseline === undefined || capture?.report === undefined) return { kind: 'ran', code, ...kept };
  const diff = diffReports(run.baseline, capture.report, options.threshold ?? DEFAULT_THRESHOLD);
  // After the reports; on stderr when a report already takes stdout (tap or json without a file).
  (specs.some((s) => s.name !== 'console' && s.file === undefined) ? ctx.stderr : stdout).write(renderDiff(diff, 'console'));
  return { kind: 'ran', code: baselineGate(code, diff.regressed), ...kept };
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
