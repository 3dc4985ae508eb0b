import type { RunCounts, RunResult, ScenarioResult, Verdict } from '../runner/results.js';
import { countResults } from '../runner/results.js';
import { SYMBOLS } from './console.js';
import { deviationNote, formatDuration, verdictDetail } from './detail.js';
import { oneLine } from './escape.js';

/**
 * The cross-server matrix (issue 11 §3): scenario × target, from one already
 * redacted RunResult per target. Every renderer (matrix-render.ts,
 * matrix-html.ts) reads this model, so the console, Markdown, JSON and HTML
 * matrices cannot disagree about a cell. The wording of verdicts and
 * deviations is detail.ts's, as in every per-run report.
 */

export interface MatrixInput {
  readonly label: string;
  /** Already redacted (redact-result.ts). */
  readonly run: RunResult;
}

export interface MatrixCell {
  /** 'not-run': the scenario is not in that target's run (interrupted, filtered out). */
  readonly state: Verdict | 'not-run';
  readonly durationMs?: number;
  /** One line, control characters escaped: why it was skipped, the failed check and its clause, the deviations. */
  readonly note?: string;
  readonly deviations: { readonly known: number; readonly fixed: number };
}

export interface MatrixRow {
  readonly id: string;
  readonly name: string;
  readonly cells: readonly MatrixCell[];
}

export interface MatrixColumn {
  readonly label: string;
  readonly targetName: string;
  readonly host: string;
  readonly file: string;
  readonly runId: string;
  readonly startedAt: number;
  readonly durationMs: number;
  readonly interrupted: boolean;
  readonly counts: RunCounts;
  readonly knownDeviations: number;
  readonly fixedDeviations: number;
}

export interface Matrix {
  readonly columns: readonly MatrixColumn[];
  readonly rows: readonly MatrixRow[];
  /** mailprobe's version, as the runs give it ("0.1.0"; "0.1.0, 0.2.0" if they differ). */
  readonly version: string;
}

/** Every cell state in the order a reader scans for trouble, not-run last. */
export const MATRIX_STATES: readonly MatrixCell['state'][] = ['failed', 'errored', 'inconclusive', 'skipped', 'passed', 'not-run'];

export function buildMatrix(inputs: readonly MatrixInput[]): Matrix {
  const ids = rowOrder(inputs.map((input) => input.run.scenarios.map((s) => s.id)));
  const byTarget = inputs.map((input) => new Map(input.run.scenarios.map((s) => [s.id, s] as const)));
  const rows = ids.map((id): MatrixRow => {
    const results = byTarget.map((map) => map.get(id));
    const name = results.find((r) => r !== undefined)?.name ?? id;
    return { id, name, cells: results.map((r, i) => (r === undefined ? notRunCell(inputs[i]!.run) : cellOf(r))) };
  });
  return { columns: inputs.map(columnOf), rows, version: [...new Set(inputs.map((i) => i.run.mailprobeVersion))].join(', ') };
}

/**
 * The union of the runs' scenario ids in plan order. An id first seen in a
 * later run goes right after the id it follows in that run (or first, if it
 * is that run's first), so a scenario one target alone ran keeps its place
 * in the plan instead of trailing at the bottom.
 */
export function rowOrder(plans: readonly (readonly string[])[]): string[] {
  const order: string[] = [];
  const seen = new Set<string>();
  for (const plan of plans) {
    let after = -1;
    for (const id of plan) {
      if (seen.has(id)) {
        after = order.indexOf(id);
        continue;
      }
      order.splice(after + 1, 0, id);
      seen.add(id);
      after++;
    }
  }
  return order;
}

function columnOf(input: MatrixInput): MatrixColumn {
  const { run } = input;
  const deviations = run.scenarios.flatMap((s) => s.deviations ?? []);
  const known = deviations.filter((d) => d.status === 'known').length;
  return {
    label: input.label,
    targetName: run.target.name,
    host: run.target.host,
    file: run.target.file,
    runId: run.runId,
    startedAt: run.startedAt,
    durationMs: run.durationMs,
    interrupted: run.interrupted,
    counts: countResults(run.scenarios),
    knownDeviations: known,
    fixedDeviations: deviations.length - known,
  };
}

function notRunCell(run: RunResult): MatrixCell {
  return {
    state: 'not-run',
    note: run.interrupted ? 'the run was interrupted first' : "not in this target's run",
    deviations: { known: 0, fixed: 0 },
  };
}

function cellOf(result: ScenarioResult): MatrixCell {
  const list = result.deviations ?? [];
  const known = list.filter((d) => d.status === 'known').length;
  const note = [verdictNote(result), deviationsNote(result)].filter((part) => part !== undefined).join('; ');
  return {
    state: result.state,
    durationMs: result.durationMs,
    ...(note !== '' ? { note: oneLine(note) } : {}),
    deviations: { known, fixed: list.length - known },
  };
}

/** "3 known deviations (RFC 3501 §6.3.1)": detail.ts's count, with the clauses they depart from. */
function deviationsNote(result: ScenarioResult): string | undefined {
  const count = deviationNote(result);
  if (count === undefined) return undefined;
  const clauses = [...new Set((result.deviations ?? []).map((d) => d.rfc))];
  return `${count} (${clauses.join(', ')})`;
}

/** Why the cell is not a plain pass: the failed check and its clause, the error, the reason. Undefined for a pass. */
function verdictNote(result: ScenarioResult): string | undefined {
  // Paths are not shown in a cell, so the working directory does not matter.
  const detail = verdictDetail(result, '/');
  if (detail === undefined) return undefined;
  switch (result.state) {
    case 'failed': {
      // Within the scenario's own row, its check id without the "<scenario id>#" prefix.
      const check = detail.check?.startsWith(`${result.id}#`) ? detail.check.slice(result.id.length + 1) : detail.check;
      const what = check ?? detail.message;
      const clause = detail.rfc !== undefined ? ` (${clauseOf(detail.rfc)})` : '';
      const more = detail.more.length > 0 ? ` and ${detail.more.length} more failed check${detail.more.length === 1 ? '' : 's'}` : '';
      return `${what}${clause}${more}`;
    }
    case 'errored':
      return detail.code !== undefined ? `${detail.code}: ${detail.message}` : detail.message;
    default:
      return detail.message;
  }
}

/**
 * The clause a check cites, without its quotation: "RFC 6531 §3.4: with the
 * SMTPUTF8 parameter …" → "RFC 6531 §3.4". The per-target reports keep the
 * whole text; a cell has room for the reference.
 */
export function clauseOf(rfc: string): string {
  const colon = rfc.indexOf(': ');
  return colon === -1 ? rfc : rfc.slice(0, colon);
}

// ------------------------------------------------ the wording every matrix format shares

/** The console reporter's symbols, and one for a scenario a target did not run. */
export const CELL_SYMBOLS: Record<MatrixCell['state'], string> = { ...SYMBOLS, 'not-run': '–' };

/** The verdict as a word: "not run" for a cell without one. */
export function cellWord(state: MatrixCell['state']): string {
  return state === 'not-run' ? 'not run' : state;
}

/** "✓ passed", "↓ skipped": word and symbol, never colour alone. */
export function cellHead(cell: MatrixCell): string {
  return `${CELL_SYMBOLS[cell.state]} ${cellWord(cell.state)}`;
}

/**
 * "✓ passed, 3 known deviations (RFC 3501 §6.3.1)", "↓ skipped: requires …":
 * a pass keeps its word and its deviations follow it; any other verdict is
 * followed by why. Not yet escaped for any format.
 */
export function cellPhrase(cell: MatrixCell): string {
  if (cell.note === undefined) return cellHead(cell);
  return `${cellHead(cell)}${cell.state === 'passed' ? ', ' : ': '}${cell.note}`;
}

/** The scenario's time as the console reporter writes it; empty for a cell that did not run. */
export function cellTime(cell: MatrixCell): string {
  return cell.durationMs === undefined ? '' : formatDuration(cell.durationMs);
}

/** "29 passed, 0 failed, 0 errored, 0 skipped, 0 inconclusive (29 scenarios)", in the console summary's order. */
export function countsText(c: RunCounts): string {
  return `${c.passed} passed, ${c.failed} failed, ${c.errored} errored, ${c.skipped} skipped, ${c.inconclusive} inconclusive (${c.total} scenario${c.total === 1 ? '' : 's'})`;
}

/**
 * What a column's run came to, in one line: counts, time, deviations, run id
 * and target. Not the target file's path: the Markdown lands in READMEs and
 * tickets, where a local path says nothing (the JSON and HTML keep it).
 * Not yet escaped.
 */
export function columnSummary(col: MatrixColumn): string {
  const parts = [
    `${countsText(col.counts)} in ${formatDuration(col.durationMs)}`,
    ...(col.knownDeviations > 0 ? [`${col.knownDeviations} known deviation${col.knownDeviations === 1 ? '' : 's'}`] : []),
    ...(col.fixedDeviations > 0 ? [`${col.fixedDeviations} deviation${col.fixedDeviations === 1 ? '' : 's'} fixed`] : []),
    ...(col.interrupted ? ['interrupted, results are partial'] : []),
  ];
  return `${parts.join(', ')}; run ${col.runId}, target ${col.targetName} (${col.host})`;
}

export const LEGEND =
  'failed: the server broke the promise; errored: the check could not happen; inconclusive: a temporary refusal, try again; ' +
  "skipped: the target lacks what the scenario requires; not run: the scenario is not in that target's run. " +
  'Known deviations are listed in the target file and never fail the run; a fixed one passes now and can be removed.';
