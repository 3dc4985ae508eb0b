/**
 * `mailprobe report diff`: what changed between two JSON reports (json.ts),
 * a baseline run and a current one, e.g. before and after a server upgrade.
 * No CLI here: the command (src/cli/commands/report.ts) and `run --baseline`
 * read the files and print what this module finds and renders.
 *
 * What counts as a regression (the gate, exit 1): a scenario newly failed or
 * newly errored, a capability a session saw before and no longer sees, a
 * latency beyond the threshold. Improvements, newly skipped or inconclusive
 * scenarios, new capabilities, changed check values and scenarios found in
 * one report only are listed but do not gate: a skip follows from the target
 * file or a capability (which gates by itself), inconclusive is a temporary
 * refusal, and added or removed scenarios are a change of the suite, not of
 * the server. Known deviations (a target's `deviations:`) that appeared or
 * went are listed too, never as a regression: a deviation in a report is one
 * its target file lists, and a scenario it turned from failed to passed is
 * already "newly passing"; one that went (fixed, or not reached) is news for
 * whoever keeps the profile.
 */
import { z } from 'zod';
import { DEFAULT_THRESHOLD, type Threshold } from './diff-options.js';
import { JSON_SCHEMA_VERSION, renderJson } from './json.js';
import { redactRun } from './redact-result.js';
import type { Reporter } from '../runner/reporter.js';
import type { RunResult, Verdict } from '../runner/results.js';
import type { Redactor } from '../transport/redact.js';

const VERDICTS = ['passed', 'failed', 'errored', 'skipped', 'inconclusive'] as const satisfies readonly Verdict[];

/** Only the parts of a JSON report the diff reads; everything else is let through unread. */
const checkSchema = z.looseObject({ description: z.string(), passed: z.boolean(), expected: z.string(), actual: z.string() });
const stepSchema = z.looseObject({
  name: z.string(),
  action: z.string(),
  session: z.string().optional(),
  state: z.enum(VERDICTS),
  checks: z.array(checkSchema),
});
const deviationSchema = z.looseObject({ check: z.string(), status: z.enum(['known', 'fixed']), reason: z.string(), rfc: z.string() });
const scenarioSchema = z.looseObject({
  id: z.string(),
  // Absent in reports of scenarios without any (and of mailprobe before deviations existed).
  deviations: z.array(deviationSchema).optional(),
  name: z.string(),
  state: z.enum(VERDICTS),
  durationMs: z.number(),
  steps: z.array(stepSchema),
  properties: z.record(z.string(), z.string()),
  capabilities: z.record(z.string(), z.array(z.string())),
});
const reportSchema = z.looseObject({
  schemaVersion: z.literal(JSON_SCHEMA_VERSION),
  runId: z.string(),
  scenarios: z.array(scenarioSchema),
});

// The light option values live in diff-options.ts so that the CLI can define its options without loading zod.
export { DEFAULT_THRESHOLD, parseThreshold, type Threshold } from './diff-options.js';

export type DiffReport = z.infer<typeof reportSchema>;
type DiffScenario = z.infer<typeof scenarioSchema>;

/** A file that is not a mailprobe JSON report; the message says why, at `line:col` when JSON says where. */
export class DiffInputError extends Error {
  constructor(
    message: string,
    readonly line = 1,
    readonly col = 1,
  ) {
    super(message);
    this.name = 'DiffInputError';
  }
}

/** Parses and checks the text of a `--reporter json=FILE` report. */
export function parseJsonReport(text: string): DiffReport {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const at = /position (\d+)/.exec(message);
    const offset = at === null ? 0 : Number(at[1]);
    const before = text.slice(0, offset);
    throw new DiffInputError(`not JSON: ${message}`, before.split('\n').length, offset - (before.lastIndexOf('\n') + 1) + 1);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new DiffInputError('not a mailprobe JSON report: the top level is not an object');
  const version = (data as Record<string, unknown>).schemaVersion;
  if (version === undefined) throw new DiffInputError('not a mailprobe JSON report: it has no schemaVersion (write one with --reporter json=FILE)');
  if (version !== JSON_SCHEMA_VERSION) {
    throw new DiffInputError(`unsupported report schemaVersion ${JSON.stringify(version)}; this mailprobe reads schemaVersion ${JSON_SCHEMA_VERSION}`);
  }
  const parsed = reportSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new DiffInputError(`not a mailprobe JSON report: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return parsed.data;
}

export type StateChangeKind = 'newly-failing' | 'newly-errored' | 'newly-inconclusive' | 'newly-skipped' | 'newly-passing';

export interface StateChange {
  readonly id: string;
  readonly kind: StateChangeKind;
  readonly from: Verdict;
  readonly to: Verdict;
}

export interface CapabilityChange {
  readonly id: string;
  readonly session: string;
  /** "imap", "pop3", "smtp": from the actions of the session's steps; "" when no step names it. */
  readonly protocol: string;
  readonly gone: readonly string[];
  readonly added: readonly string[];
}

export interface LatencyChange {
  readonly id: string;
  /** "duration" (the scenario's protocol time) or the property, e.g. "delivery_ms", "idle_push_latency_ms". */
  readonly measure: string;
  readonly baselineMs: number;
  readonly currentMs: number;
}

export interface CheckChange {
  readonly id: string;
  readonly step: string;
  readonly check: string;
  readonly baseline: string;
  readonly current: string;
}

/**
 * A known deviation that is new in the current run (`appeared`), or that was
 * known in the baseline and is not now (`gone`: its check passes, `fixed`, or
 * was not judged, `not judged`).
 */
export interface DeviationChange {
  readonly id: string;
  readonly check: string;
  readonly kind: 'appeared' | 'gone';
  /** What the check was in the baseline (appeared) or is now (gone): 'fixed' or 'not judged' or 'failed or passed unlisted'. */
  readonly other: string;
  readonly rfc: string;
  readonly reason: string;
}

export interface ReportDiff {
  readonly baselineRunId: string;
  readonly currentRunId: string;
  readonly threshold: Threshold;
  readonly states: readonly StateChange[];
  readonly capabilities: readonly CapabilityChange[];
  /** Only latencies beyond the threshold; improvements are not listed (noise on a shared machine). */
  readonly latency: readonly LatencyChange[];
  readonly checks: readonly CheckChange[];
  readonly deviations: readonly DeviationChange[];
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly regressed: boolean;
}

function stateChangeKind(to: Verdict): StateChangeKind {
  switch (to) {
    case 'failed':
      return 'newly-failing';
    case 'errored':
      return 'newly-errored';
    case 'inconclusive':
      return 'newly-inconclusive';
    case 'skipped':
      return 'newly-skipped';
    case 'passed':
      return 'newly-passing';
  }
}

export const REGRESSING_STATES: ReadonlySet<StateChangeKind> = new Set(['newly-failing', 'newly-errored']);

/** Capabilities compare case-insensitively (IMAP atoms and EHLO keywords are); the current spelling is shown. */
function capabilityDiff(before: readonly string[], after: readonly string[]): { gone: string[]; added: string[] } {
  const had = new Set(before.map((c) => c.toUpperCase()));
  const has = new Set(after.map((c) => c.toUpperCase()));
  return {
    gone: before.filter((c) => !has.has(c.toUpperCase())),
    added: after.filter((c) => !had.has(c.toUpperCase())),
  };
}

function protocolOf(scenario: DiffScenario, session: string): string {
  const step = scenario.steps.find((s) => s.session === session);
  return step === undefined ? '' : (step.action.split('.')[0] ?? '');
}

/**
 * Millisecond measures a scenario records: its `duration`, and the properties delivery_ms, delivery_ms.SESSION,
 * idle_push_latency_ms, and the p50_ms, p95_ms, p99_ms and max_ms of a `mailprobe load` report (src/load/render.ts):
 * every property named `…_ms` or `…_ms.SESSION`. The one reading of latencies: the HTML report shows what this finds.
 */
export function latencies(scenario: { readonly durationMs: number; readonly properties: Readonly<Record<string, string>> }): Map<string, number> {
  const out = new Map<string, number>([['duration', scenario.durationMs]]);
  for (const [key, value] of Object.entries(scenario.properties)) {
    if (!/(^|_)ms($|\.)/.test(key)) continue;
    const n = Number(value);
    if (value.trim() !== '' && Number.isFinite(n)) out.set(key, n);
  }
  return out;
}

function beyond(threshold: Threshold, baselineMs: number, currentMs: number): boolean {
  const grew = currentMs - baselineMs;
  return grew > threshold.ms && grew > (baselineMs * threshold.percent) / 100;
}

function withoutRunId(text: string, runId: string): string {
  return runId === '' ? text : text.split(runId).join('{run id}');
}

function byId(report: DiffReport): Map<string, DiffScenario> {
  return new Map(report.scenarios.map((s) => [s.id, s]));
}

export function diffReports(baseline: DiffReport, current: DiffReport, threshold: Threshold = DEFAULT_THRESHOLD): ReportDiff {
  const before = byId(baseline);
  const after = byId(current);
  const states: StateChange[] = [];
  const capabilities: CapabilityChange[] = [];
  const latency: LatencyChange[] = [];
  const checks: CheckChange[] = [];
  const deviations: DeviationChange[] = [];

  for (const [id, now] of after) {
    const then = before.get(id);
    if (then === undefined) continue;
    deviations.push(...deviationChanges(id, then, now));
    if (then.state !== now.state) states.push({ id, kind: stateChangeKind(now.state), from: then.state, to: now.state });

    // A session only one run opened (a step skipped, or errored before it) says nothing about what the server offers.
    for (const [session, list] of Object.entries(now.capabilities)) {
      const old = then.capabilities[session];
      if (old === undefined) continue;
      const { gone, added } = capabilityDiff(old, list);
      if (gone.length > 0 || added.length > 0) capabilities.push({ id, session, protocol: protocolOf(now, session), gone, added });
    }

    // Times of a run that failed or stopped early measure something else; compare runs that both passed.
    if (then.state === 'passed' && now.state === 'passed') {
      const old = latencies(then);
      for (const [measure, currentMs] of latencies(now)) {
        const baselineMs = old.get(measure);
        if (baselineMs !== undefined && beyond(threshold, baselineMs, currentMs)) latency.push({ id, measure, baselineMs, currentMs });
      }
    }

    // Steps and checks are matched by position and name: an edited scenario whose steps moved is not compared.
    // Each run names what it creates after its run id (addresses, subjects): that part is not a change.
    const asBefore = (actual: string) => withoutRunId(actual, baseline.runId);
    const asNow = (actual: string) => withoutRunId(actual, current.runId);
    now.steps.forEach((step, i) => {
      const oldStep = then.steps[i];
      if (oldStep?.name !== step.name) return;
      step.checks.forEach((check, j) => {
        const oldCheck = oldStep.checks[j];
        if (oldCheck?.description !== check.description || asBefore(oldCheck.actual) === asNow(check.actual)) return;
        checks.push({ id, step: step.name, check: check.description, baseline: oldCheck.actual, current: check.actual });
      });
    });
  }

  const added = [...after.keys()].filter((id) => !before.has(id));
  const removed = [...before.keys()].filter((id) => !after.has(id));
  const regressed = states.some((s) => REGRESSING_STATES.has(s.kind)) || capabilities.some((c) => c.gone.length > 0) || latency.length > 0;
  return {
    baselineRunId: baseline.runId,
    currentRunId: current.runId,
    threshold,
    states,
    capabilities,
    latency,
    checks,
    deviations,
    added,
    removed,
    regressed,
  };
}

/** Known deviations new in `now`, and those of `then` no longer known; a deviation fixed in both runs is no change. */
function deviationChanges(id: string, then: DiffScenario, now: DiffScenario): DeviationChange[] {
  const knownIn = (s: DiffScenario) => new Map((s.deviations ?? []).filter((d) => d.status === 'known').map((d) => [d.check, d]));
  const statusIn = (s: DiffScenario, check: string) => {
    const d = (s.deviations ?? []).find((x) => x.check === check);
    return d?.status === 'fixed' ? 'fixed' : d === undefined ? 'not listed or not judged' : 'known';
  };
  const was = knownIn(then);
  const is = knownIn(now);
  const out: DeviationChange[] = [];
  for (const [check, d] of is) if (!was.has(check)) out.push({ id, check, kind: 'appeared', other: statusIn(then, check), rfc: d.rfc, reason: d.reason });
  for (const [check, d] of was) if (!is.has(check)) out.push({ id, check, kind: 'gone', other: statusIn(now, check), rfc: d.rfc, reason: d.reason });
  return out;
}

/**
 * For `run --baseline`: keeps the run as its JSON report would hold it
 * (redacted, then written and read back), so the diff of a run and the diff
 * of its report file can never differ.
 */
export class DiffCapture implements Reporter {
  readonly name = 'diff-capture';
  report: DiffReport | undefined;
  readonly #redactor: Redactor;

  constructor(redactor: Redactor) {
    this.#redactor = redactor;
  }

  onRunEnd(result: RunResult): void {
    this.report = parseJsonReport(renderJson(redactRun(result, this.#redactor)));
  }
}
