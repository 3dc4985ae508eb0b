import { allDomainFindings, type DomainReport } from '../probe/domain-probe.js';
import { worstSeverity, type Finding } from '../probe/findings.js';
import type { HostReport } from '../probe/host-probe.js';
import { renderProbe } from '../probe/render.js';
import { renderDomain } from '../probe/render-domain.js';
import { escapeDisguisingInJson, oneLine } from '../reporters/escape.js';
import { createReporter, parseReporterSpec, ReporterMultiplexer, type ReporterSpec } from '../reporters/index.js';
import { newRunId } from '../core/run-identity.js';
import { bufferedBytes } from '../transport/index.js';
import { Redactor } from '../transport/redact.js';
import { EXIT } from './exit-codes.js';
import { outputCollision, writesToStdout } from './report-outputs.js';
import { dropWhenClosed } from './closed-pipes.js';
import { probeRunResult, unprobedRunResult } from './probe-results.js';
import type { RunResult } from '../runner/results.js';
import type { CliContext } from './run-context.js';

/**
 * Where `mailprobe probe` writes: the table (default) or --json on stdout,
 * and any `--reporter NAME[=FILE]` (the same specs as `run`) through the
 * shared reporters, from the probe's results in their model (probe-results.ts).
 */
export interface ProbeOutputs {
  readonly json: boolean;
  readonly specs: readonly ReporterSpec[];
  /** The terminal table goes to stdout unless --json or a reporter without a file writes there. */
  readonly table: boolean;
  /** Knows the --login password: the reporters scrub it again as they write. */
  readonly redactor?: Redactor;
}

/**
 * --json and --reporter, checked before anything is connected to: an unknown
 * reporter, or two outputs that would share stdout, are usage errors (a
 * string to print); `watch` allows only file reporters, since the rounds'
 * changes are what stdout carries then.
 */
export function probeOutputs(
  options: { readonly json: boolean; readonly reporter?: readonly string[]; readonly watch?: number },
  cwd: string,
): ProbeOutputs | string {
  let specs: ReporterSpec[];
  try {
    specs = (options.reporter ?? []).map(parseReporterSpec);
  } catch (err) {
    return (err as Error).message;
  }
  const stdoutWriters = [...(options.json ? ['--json'] : []), ...specs.filter(writesToStdout).map((s) => `--reporter ${s.name}`)];
  const collision = outputCollision(specs, cwd, options.json ? ['--json'] : []);
  if (collision !== undefined) return collision;
  if (options.watch !== undefined && stdoutWriters.length > 0)
    return `--watch prints what changed on stdout; ${stdoutWriters[0]} cannot share it (give the reporter a file: --reporter NAME=FILE, rewritten every round)`;
  return { json: options.json, specs, table: stdoutWriters.length === 0 };
}

/**
 * What one round of `mailprobe probe` found: the hosts probed and, for a
 * domain, its DNS records, discovery and plan (whose hosts are `hosts`).
 */
export interface ProbeOutcome {
  readonly hosts: readonly HostReport[];
  readonly domain?: DomainReport;
}

/** Every finding of the round: for a domain also its DNS, discovery and disagreement findings. */
export function outcomeFindings(outcome: ProbeOutcome): Finding[] {
  return outcome.domain === undefined ? outcome.hosts.flatMap((r) => r.findings) : allDomainFindings(outcome.domain);
}

export interface ProbeTiming {
  readonly startedAt: number;
  readonly durationMs: number;
}

/** The worst finding decides: fail → 1, anything else → 0 (as in `run`, a failure is non-compliance). */
export function probeExitCode(outcome: ProbeOutcome): number {
  return worstSeverity(outcomeFindings(outcome)) === 'fail' ? EXIT.FAILED : EXIT.OK;
}

/** Stdout (the table or JSON, unless `quiet`), then every reporter; a reporter that could not write turns a 0 into 3, as in `run`. */
export async function writeProbeOutputs(
  outcome: ProbeOutcome,
  outputs: ProbeOutputs,
  timing: ProbeTiming,
  ctx: CliContext,
  options: { readonly quiet?: boolean } = {},
): Promise<number> {
  if (options.quiet !== true) {
    // A host probe prints its list of host reports; a domain probe its one report (records, discovery, plan, hosts, findings).
    const json = outcome.domain ?? outcome.hosts;
    const render = { color: stdoutColor(ctx), oneLine };
    if (outputs.json) ctx.stdout.write(`${escapeDisguisingInJson(JSON.stringify(json, null, 2))}\n`);
    else if (outputs.table) ctx.stdout.write(outcome.domain === undefined ? renderProbe(outcome.hosts, render) : renderDomain(outcome.domain, render));
  }
  const code = probeExitCode(outcome);
  if (outputs.specs.length === 0) return code;
  const crashed = await writeProbeReports(outcome, outputs, timing, ctx);
  return crashed && code === EXIT.OK ? EXIT.ERRORED : code;
}

/** A probe that could not run (no address): the reporters still write, one errored case saying why. */
export async function writeUnprobedReports(host: string, message: string, outputs: ProbeOutputs, timing: ProbeTiming, ctx: CliContext): Promise<void> {
  if (outputs.specs.length === 0) return;
  await runReporters(
    unprobedRunResult(host, message, { runId: newRunId(new Date(timing.startedAt)), ...timing, version: ctx.version }),
    outputs.specs,
    ctx,
    outputs.redactor,
  );
}

async function writeProbeReports(outcome: ProbeOutcome, outputs: ProbeOutputs, timing: ProbeTiming, ctx: CliContext): Promise<boolean> {
  const meta = { runId: newRunId(new Date(timing.startedAt)), ...timing, version: ctx.version, peakBufferedBytes: bufferedBytes.peak };
  return runReporters(probeRunResult(outcome.hosts, meta, outcome.domain), outputs.specs, ctx, outputs.redactor);
}

/** The reporters get the run's events in the runner's order: start, each case, end. True when one crashed. */
async function runReporters(run: RunResult, specs: readonly ReporterSpec[], ctx: CliContext, redactor = new Redactor()): Promise<boolean> {
  const reporters = specs.map((spec) =>
    createReporter(spec, { redactor, color: ctx.color, stderr: ctx.stderr, stdout: dropWhenClosed(ctx.stdout), cwd: ctx.cwd }),
  );
  const mux = new ReporterMultiplexer(reporters, { stderr: ctx.stderr, redactor });
  await mux.onRunStart({ runId: run.runId, target: run.target, scenarioCount: run.scenarios.length, startedAt: run.startedAt, version: ctx.version });
  for (const scenario of run.scenarios) await mux.onScenarioEnd(scenario);
  await mux.onRunEnd(run);
  return mux.crashed;
}

/** The table goes to stdout: colour only when stdout is a terminal and NO_COLOR is unset (or FORCE_COLOR asks). */
export function stdoutColor(ctx: CliContext): boolean {
  return (Boolean(ctx.stdout.isTTY) && ctx.env.NO_COLOR === undefined) || ctx.env.FORCE_COLOR !== undefined;
}
