import type { Pairs, Spread, Timed } from './measure.js';
import { spread } from './measure.js';

/** The goal of a row: the largest ratio subject/reference that meets it, and how the issue words it. */
export interface Goal {
  readonly maxRatio: number;
  readonly text: string;
}

/** One line of the table: a measure against a reference measured in the same run. */
export interface Row {
  readonly id: string;
  readonly measure: string;
  readonly reference: string;
  readonly reps: number;
  readonly subjectMs: Spread;
  readonly referenceMs: Spread;
  /** subject/reference of each interleaved pair: the median is the row's figure, min–max its spread. */
  readonly ratio: Spread;
  readonly goal: Goal;
  readonly met: boolean;
  /** The unit of subjectMs and referenceMs when they are not times (the memory row: MB). */
  readonly unit?: 'MB';
  /** What each side did, where a row compares work (scenarios run, ports tried). */
  readonly work?: { readonly subject: string; readonly reference: string };
}

export function ratioGoal(maxRatio: number): Goal {
  return { maxRatio, text: `≤ ${maxRatio}×` };
}

/** A row from interleaved pairs; the goal may depend on the reference (an additive goal such as "timeout + 1 s"). */
export function rowFrom(
  fields: { id: string; measure: string; reference: string; work?: Row['work'] },
  pairs: Pairs,
  goalFor: (referenceMs: Spread) => Goal,
  /** The figure of one pair: subject/reference unless a row says otherwise (a lag against its allowance). */
  ratioOf: (subjectMs: number, referenceMs: number) => number = (a, b) => a / b,
): Row {
  const ms = (runs: readonly Timed[]) => runs.map((r) => r.ms);
  const subjectMs = spread(ms(pairs.subject));
  const referenceMs = spread(ms(pairs.reference));
  const ratio = spread(pairs.subject.map((s, i) => ratioOf(s.ms, pairs.reference[i]!.ms)));
  const goal = goalFor(referenceMs);
  return { ...fields, reps: pairs.subject.length, subjectMs, referenceMs, ratio, goal, met: ratio.median <= goal.maxRatio };
}

const fixed = (n: number, digits: number) => n.toFixed(digits);

/** The table, as Markdown so that it can be pasted into the README or a pull request as it is. */
export function renderTable(rows: readonly Row[]): string {
  const header = ['measure', 'reference', 'reps', 'median (ms)', 'reference median (ms)', 'ratio', 'ratio min–max', 'goal', 'met'];
  const lines = rows.map((r) => [
    r.measure,
    r.reference,
    String(r.reps),
    `${fixed(r.subjectMs.median, 0)}${r.unit ? ` ${r.unit}` : ''}`,
    `${fixed(r.referenceMs.median, 0)}${r.unit ? ` ${r.unit}` : ''}`,
    `${fixed(r.ratio.median, 2)}×`,
    `${fixed(r.ratio.min, 2)}–${fixed(r.ratio.max, 2)}×`,
    r.goal.text,
    r.met ? 'yes' : 'NO',
  ]);
  const out = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...lines.map((l) => `| ${l.join(' | ')} |`)];
  const work = rows.filter((r) => r.work !== undefined);
  if (work.length > 0) {
    out.push('', 'Work done by each side:');
    for (const r of work) out.push(`- ${r.measure}: ${r.work!.subject}; ${r.reference}: ${r.work!.reference}`);
  }
  return out.join('\n');
}
