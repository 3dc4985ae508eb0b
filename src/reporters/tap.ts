/**
 * TAP 14, for TAP consumers and for people who like plain text.
 *
 *   TAP version 14
 *   # mailprobe run mp-20240501-7f3a9c, target staging-pop (mail.example.test)
 *   1..5
 *   ok 1 - USER/PASS login reaches TRANSACTION state # time=14ms
 *   not ok 2 - RETR of a message marked deleted answers -ERR # time=41ms
 *     ---
 *     message: RETR of a message marked deleted must fail, but the server sent it
 *     severity: fail
 *     at:
 *       file: suites/pop3/dele-marks-deleted.yaml
 *       line: 20
 *       column: 9
 *     expected: -ERR
 *     actual: +OK 312 octets\x07\x1b[2J\ud800
 *     found: +OK 312 octets\x07\x1b[2J\ud800
 *     wanted: -ERR
 *     ...
 *   ok 4 - AUTH CRAM-MD5 login # SKIP requires capability SASL CRAM-MD5 …
 *   not ok 5 - UIDL stays the same across sessions # TODO inconclusive: server said -ERR [IN-USE] …
 *
 * Inconclusive is `not ok … # TODO inconclusive: reason`: it did not pass, so
 * it is not `ok`, and TODO tells TAP harnesses not to count it as a failure,
 * the same "not judged" outcome as JUnit's <skipped>, while the directive
 * keeps the real state readable. Errors are `not ok` with `severity: error`.
 *
 * A scenario that passed with a known deviation of the target's profile is
 * `not ok … # TODO known deviation: check (clause): reason`, which is exactly
 * TAP's TODO: a failure that is expected and not counted. One whose listed
 * check passes now is `ok … # TODO deviation fixed: …`, TAP's "unexpectedly
 * succeeded" (a TODO that passes, a harness's "bonus"), so the entry can go.
 * Every deviation is also in the diagnostics, under `deviations:`, whatever
 * the verdict.
 */
import { stringify } from 'yaml';
import type { SourcePos } from '../core/source.js';
import type { Remark, RunResult, ScenarioResult } from '../runner/results.js';
import { formatDuration, interruptedCleanup, relPos, transcriptTail, verdictDetail } from './detail.js';
import { escapeControls, oneLine } from './escape.js';
import { writeReport } from './output.js';
import { redactRun } from './redact-result.js';
import type { Reporter, ReporterContext } from '../runner/reporter.js';

export interface TapOptions {
  /** Paths are written relative to this directory (ReporterContext.cwd). */
  readonly cwd: string;
}

/** TAP 14: `#` and `\` in a description must be escaped, or a harness reads a directive. */
function description(text: string): string {
  return oneLine(text).replace(/\\/g, '\\\\').replace(/#/g, '\\#');
}

/** Directive reasons run to the end of the line; only keep them on it. */
function reason(text: string): string {
  return oneLine(text);
}

/** The scenario's known and fixed deviations, each with the keys a failed check has. */
function deviationDocs(s: ScenarioResult, cwd: string): Record<string, unknown>[] {
  return (s.deviations ?? []).map((d) => ({
    check: d.check,
    status: d.status === 'known' ? 'known deviation' : 'deviation fixed',
    reason: d.reason,
    rfc: d.rfc,
    step: d.step,
    ...(d.source !== undefined ? { at: atMapping(relPos(d.source, cwd)) } : {}),
    ...comparison(d.expected, d.actual),
    ...(d.notJudged !== undefined ? { not_judged: d.notJudged } : {}),
    ...(d.stepsNotRun !== undefined ? { steps_not_run: d.stepsNotRun } : {}),
  }));
}

function diagnostics(s: ScenarioResult, cwd: string): string[] {
  const detail = verdictDetail(s, cwd);
  const deviations = deviationDocs(s, cwd);
  // A passed or skipped case shows only its remarks (a probe warning) and its deviations, if any.
  if (detail === undefined || s.state === 'skipped') {
    const doc: Record<string, unknown> = remarkDoc(s.remarks ?? []);
    if (deviations.length > 0) Object.assign(doc, { message: tapDeviationSummary(s) ?? '', severity: 'todo', deviations });
    return Object.keys(doc).length === 0 ? [] : yamlBlock(doc);
  }
  const severity = s.state === 'failed' ? 'fail' : s.state === 'errored' ? 'error' : 'todo';
  const doc: Record<string, unknown> = { message: detail.message, severity };
  if (detail.check !== undefined) doc['check'] = detail.check;
  if (s.state === 'inconclusive') doc['verdict'] = 'inconclusive';
  if (detail.code !== undefined) doc['code'] = detail.code;
  if (detail.phase !== undefined) doc['phase'] = detail.phase;
  if (detail.step !== undefined) doc['step'] = detail.step;
  if (detail.position !== undefined) doc['at'] = atMapping(detail.position);
  Object.assign(doc, comparison(detail.expected, detail.actual));
  if (detail.rfc !== undefined) doc['rfc'] = detail.rfc;
  // Deviations have their own list below, not a remark key each.
  for (const [key, value] of Object.entries(remarkDoc(s.remarks ?? []))) if (!(key in doc)) doc[key] = value;
  // The step's further failed checks, each with the same keys as the first.
  if (detail.more.length > 0)
    doc['also'] = detail.more.map((c) => ({
      message: c.message,
      ...(c.check !== undefined ? { check: c.check } : {}),
      at: atMapping(c.position),
      ...comparison(c.expected, c.actual),
      ...(c.rfc !== undefined ? { rfc: c.rfc } : {}),
    }));
  if (detail.transcript.length > 0) doc['transcript'] = transcriptTail(detail.transcript, s.startedAt).join('\n') + '\n';
  if (s.leftovers.length > 0) doc['leftovers'] = [...s.leftovers];
  if (deviations.length > 0) doc['deviations'] = deviations;
  return yamlBlock(doc);
}

/** The directive's text for a passed case with deviations: the first known one (else the first fixed), and how many more. */
function tapDeviationSummary(s: ScenarioResult): string | undefined {
  const list = s.deviations ?? [];
  const first = list.find((d) => d.status === 'known') ?? list[0];
  if (first === undefined) return undefined;
  const label = first.status === 'known' ? 'known deviation' : 'deviation fixed';
  const more = list.length > 1 ? ` (and ${list.length - 1} more deviation${list.length === 2 ? '' : 's'})` : '';
  return `${label}: ${first.check} (${first.rfc}): ${first.reason}${more}`;
}

/**
 * node-tap's form of a place, `at: {file, line, column}` (what its reporters
 * and tap-spec's parser read); a `file:line:col` string makes tap-spec throw.
 */
function atMapping(pos: SourcePos): { file: string; line: number; column: number } {
  return { file: pos.file, line: pos.line, column: pos.col };
}

/**
 * expected/actual as mailprobe names them, and the same values as node-tap's
 * `wanted`/`found`, the keys tap-mocha-reporter and node-tap's reporters show
 * (and diff) for a failed assertion.
 */
function comparison(expected: string | undefined, actual: string | undefined): Record<string, string> {
  return {
    ...(expected !== undefined ? { expected } : {}),
    ...(actual !== undefined ? { actual } : {}),
    ...(actual !== undefined ? { found: actual } : {}),
    ...(expected !== undefined ? { wanted: expected } : {}),
  };
}

/** Remarks as YAML keys; a label the block already uses keeps its first value. */
function remarkDoc(remarks: readonly Remark[]): Record<string, unknown> {
  const doc: Record<string, unknown> = {};
  for (const r of remarks) if (!(r.label in doc)) doc[r.label] = r.text;
  return doc;
}

/** The indented `---` … `...` YAML block TAP 14 reads as a test point's diagnostics. */
function yamlBlock(doc: Record<string, unknown>): string[] {
  // Escape first so the YAML holds visible escapes, not control bytes; the
  // yaml library then does the quoting (a value like "-ERR" or "a: b" needs it).
  const esc = (value: unknown): unknown =>
    typeof value === 'string'
      ? escapeControls(value, { keep: '\n' })
      : Array.isArray(value)
        ? value.map(esc)
        : value !== null && typeof value === 'object'
          ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, esc(v)]))
          : value;
  const clean = Object.fromEntries(Object.entries(doc).map(([key, value]) => [key, esc(value)]));
  const yaml = stringify(clean, { lineWidth: 0 });
  return [
    '  ---',
    ...yaml
      .trimEnd()
      .split('\n')
      .map((line) => `  ${line}`),
    '  ...',
  ];
}

function testPoint(s: ScenarioResult, n: number, cwd: string): string[] {
  const title = `${n} - ${description(s.name)}`;
  const time = `# time=${formatDuration(s.durationMs)}`;
  let head: string;
  switch (s.state) {
    case 'passed': {
      const summary = tapDeviationSummary(s);
      const known = s.deviations?.some((d) => d.status === 'known') === true;
      head = summary === undefined ? `ok ${title} ${time}` : `${known ? 'not ok' : 'ok'} ${title} # TODO ${reason(summary)}`;
      break;
    }
    case 'failed':
    case 'errored':
      head = `not ok ${title} ${time}`;
      break;
    case 'skipped':
      head = `ok ${title} # SKIP ${reason(s.reason)}`;
      break;
    case 'inconclusive':
      head = `not ok ${title} # TODO inconclusive: ${reason(s.reason)}`;
      break;
  }
  return [head, ...diagnostics(s, cwd)];
}

/** Renders an already redacted run. */
export function renderTap(run: RunResult, options: TapOptions): string {
  const cwd = options.cwd;
  const lines = [
    'TAP version 14',
    `# ${oneLine(`mailprobe run ${run.runId}, target ${run.target.name} (${run.target.host})${run.shard === undefined ? '' : `, shard ${run.shard.index}/${run.shard.total}`}`)}`,
  ];
  if (run.target.insecure) lines.push('# insecure: TLS certificate verification was OFF for this run');
  lines.push(`1..${run.scenarios.length}`);
  for (const [i, s] of run.scenarios.entries()) lines.push(...testPoint(s, i + 1, cwd));
  // An interrupted run still has a valid plan (it counts what ran); a harness
  // should still see that the run was cut short.
  if (run.interrupted) lines.push(`# interrupted: the run was stopped early; ${interruptedCleanup(run)}, results are partial`);
  lines.push(`# time=${formatDuration(run.durationMs)}`);
  return lines.join('\n') + '\n';
}

export class TapReporter implements Reporter {
  readonly name = 'tap';
  readonly #ctx: ReporterContext;

  constructor(ctx: ReporterContext) {
    this.#ctx = ctx;
  }

  async onRunEnd(result: RunResult): Promise<void> {
    await writeReport(this.#ctx, renderTap(redactRun(result, this.#ctx.redactor), { cwd: this.#ctx.cwd }));
  }
}
