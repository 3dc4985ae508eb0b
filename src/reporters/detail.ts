import { isAbsolute, relative, sep } from 'node:path';
import type { DeviationResult, Remark, RunResult, ScenarioResult, StepResult } from '../runner/results.js';
import { formatPos, type SourcePos } from '../core/source.js';
import { formatEntry, type TranscriptEntry } from '../transport/transcript.js';

/**
 * What every format says about one verdict, worked out once so console, JUnit
 * and TAP cannot disagree. Takes an already redacted result (redact-result.ts);
 * escaping is left to each format because each has its own rules.
 */

/** Lines of transcript shown with a failure: enough to see the exchange, short enough to read in CI. */
export const TRANSCRIPT_TAIL_LINES = 15;

export interface VerdictDetail {
  /** One-line summary: the failure message, error message or reason. */
  readonly message: string;
  /** The failed check's full id (`imap/uid-stability#uidnext-in-select`), which a target's deviations list it by. */
  readonly check?: string;
  readonly step?: string;
  readonly at?: string;
  /** `at` as a place (path relative to cwd), for formats that write it as fields. */
  readonly position?: SourcePos;
  readonly expected?: string;
  readonly actual?: string;
  readonly rfc?: string;
  readonly code?: string;
  readonly phase?: string;
  /** The step's other failed checks, after the first (which the fields above describe). */
  readonly more: readonly CheckDetail[];
  readonly transcript: readonly TranscriptEntry[];
  /** The case's own labelled lines (a probe finding's evidence and hint); empty for a scenario. */
  readonly remarks: readonly Remark[];
}

/** One further failed check, as every format shows it. */
export interface CheckDetail {
  readonly message: string;
  readonly check?: string;
  readonly at: string;
  readonly position: SourcePos;
  readonly expected: string;
  readonly actual: string;
  readonly rfc?: string;
}

export function verdictDetail(result: ScenarioResult, cwd: string): VerdictDetail | undefined {
  const detail = verdictDetailOf(result, cwd);
  return detail === undefined ? undefined : { ...detail, remarks: caseRemarks(result) };
}

/**
 * The labelled lines every format shows with a case, whatever its verdict:
 * its own remarks (a probe finding's), then one per known deviation and per
 * fixed one, so a deviation is never hidden behind a pass.
 */
export function caseRemarks(result: ScenarioResult): Remark[] {
  return [...(result.remarks ?? []), ...(result.deviations ?? []).map(deviationRemark)];
}

export const DEVIATION_LABELS = { known: 'known deviation', fixed: 'deviation fixed' } as const;

/** "imap/uid-stability#uidnext-in-select (RFC 9051 §6.3.2): Courier sends … — expected …, actual …". */
export function deviationRemark(d: DeviationResult): Remark {
  return { label: DEVIATION_LABELS[d.status], text: deviationText(d) };
}

export function deviationText(d: DeviationResult): string {
  const head = `${d.check} (${d.rfc}): ${d.reason}`;
  if (d.status === 'fixed') return `${head}; the check passes now (${d.actual}): remove it from the target's deviations`;
  const notes = [
    `step '${d.step}', expected ${d.expected}, actual ${d.actual}`,
    ...(d.notJudged !== undefined ? [`${d.notJudged} check${d.notJudged === 1 ? '' : 's'} needing the missing item not judged`] : []),
    ...(d.stepsNotRun !== undefined
      ? [`the scenario stopped there: the ${d.stepsNotRun} later step${d.stepsNotRun === 1 ? ' was' : 's were'} not run or judged`]
      : []),
  ];
  return `${head}; ${notes.join('; ')}`;
}

/** A one-line note for a case's heading: "1 known deviation, 1 fixed", or undefined without any. */
export function deviationNote(result: ScenarioResult): string | undefined {
  const list = result.deviations ?? [];
  const known = list.filter((d) => d.status === 'known').length;
  const fixed = list.length - known;
  const parts = [
    ...(known > 0 ? [`${known} known deviation${known === 1 ? '' : 's'}`] : []),
    ...(fixed > 0 ? [`${fixed} deviation${fixed === 1 ? '' : 's'} fixed`] : []),
  ];
  return parts.length === 0 ? undefined : parts.join(', ');
}

function verdictDetailOf(result: ScenarioResult, cwd: string): Omit<VerdictDetail, 'remarks'> | undefined {
  switch (result.state) {
    case 'passed':
      return undefined;
    case 'failed': {
      const f = result.failure;
      // `checks` is absent in results written before it existed.
      const more = (f.checks ?? []).slice(1).map((c) => ({
        message: c.message,
        ...(c.check !== undefined ? { check: c.check } : {}),
        at: formatPos(relPos(c.source, cwd)),
        position: relPos(c.source, cwd),
        expected: c.expected,
        actual: c.actual,
        ...(c.rfc !== undefined ? { rfc: c.rfc } : {}),
      }));
      const check = f.checks?.[0]?.check;
      return {
        message: f.message,
        ...(check !== undefined ? { check } : {}),
        ...(f.step !== undefined ? { step: f.step } : {}),
        ...(f.source !== undefined ? { at: formatPos(relPos(f.source, cwd)), position: relPos(f.source, cwd) } : {}),
        ...(f.expected !== undefined ? { expected: f.expected } : {}),
        ...(f.actual !== undefined ? { actual: f.actual } : {}),
        ...(f.rfc !== undefined ? { rfc: f.rfc } : {}),
        more,
        transcript: f.transcript,
      };
    }
    case 'errored': {
      const e = result.error;
      return {
        message: e.message,
        code: e.code,
        ...(e.phase !== undefined ? { phase: e.phase } : {}),
        ...(e.step !== undefined ? { step: e.step } : {}),
        ...(e.source !== undefined ? { at: formatPos(relPos(e.source, cwd)), position: relPos(e.source, cwd) } : {}),
        more: [],
        transcript: e.transcript,
      };
    }
    case 'inconclusive':
      return { message: result.reason, more: [], transcript: result.transcript };
    case 'skipped':
      return { message: result.reason, more: [], transcript: [] };
  }
}

/** "also failed (2 of 3)": the heading of a further failed check, the same in every format. */
export function furtherCheckHeading(index: number, detail: VerdictDetail): string {
  return `also failed (${index + 2} of ${detail.more.length + 1})`;
}

/** Transcript lines with a clock relative to the scenario start, newest last, at most `max`. */
export function transcriptTail(entries: readonly TranscriptEntry[], startedAt: number, max = TRANSCRIPT_TAIL_LINES): string[] {
  const shown = entries.slice(-max).map((e) => formatEntry(e, startedAt));
  const hidden = entries.length - shown.length;
  return hidden > 0 ? [`(${hidden} earlier line${hidden === 1 ? '' : 's'} not shown)`, ...shown] : shown;
}

/** The whole transcript of a scenario, step by step, for JUnit <system-out>. */
export function fullTranscript(result: ScenarioResult): string[] {
  const lines: string[] = [];
  const section = (label: string, steps: readonly StepResult[]) => {
    for (const step of steps) {
      if (step.transcript.length === 0) continue;
      lines.push(`== ${label}${step.name} [${step.state}]`);
      for (const entry of step.transcript) lines.push(formatEntry(entry, result.startedAt));
    }
  };
  section('', result.steps);
  section('cleanup: ', result.cleanup);
  return lines;
}

/** "12ms" under a second, "1.23s" above: what a person reads on a console. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  return `${(ms / 1000).toFixed(2)}s`;
}

/** Seconds as a plain decimal ("0.012"), the form JUnit's SUREFIRE_TIME pattern accepts. */
export function formatSeconds(ms: number): string {
  const safe = Number.isFinite(ms) && ms > 0 ? ms : 0;
  return (safe / 1000).toFixed(3);
}

/** "pop3/dele/after-quit" → "mailprobe.pop3.dele": the folder of the id, as a dotted class. */
export function classnameFor(id: string): string {
  const folders = id
    .split('/')
    .slice(0, -1)
    .filter((part) => part.length > 0);
  return ['mailprobe', ...folders].join('.');
}

/** Paths in reports are relative to the working directory, with forward slashes, as CI annotations expect. */
export function relPath(file: string, cwd: string): string {
  if (!isAbsolute(file)) return file.split(sep).join('/');
  return relative(cwd, file).split(sep).join('/');
}

export function relPos(pos: SourcePos, cwd: string): SourcePos {
  return { ...pos, file: relPath(pos.file, cwd) };
}

/** What an interrupted run's summary says about cleanup: a second interrupt cuts it short. */
export function interruptedCleanup(run: RunResult): string {
  return run.cleanupStopped ? 'cleanup was cut short by a second interrupt (see the leftovers)' : 'cleanup ran';
}
