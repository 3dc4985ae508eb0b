/**
 * `mailprobe report merge`: the JSON reports of the shards of one suite
 * (`run --shard i/n`) put back together into one run, which every reporter
 * then renders as if one process had run it all. The reports are read by
 * diff.ts's reader (parseJsonReport); no CLI here (src/cli/commands/report.ts).
 *
 * What is refused, because the merged report would then claim something that
 * did not happen:
 * - a scenario id in two reports (a suite run twice, or overlapping shards);
 * - reports of different targets (name and host) or mailprobe versions;
 * - shard reports that do not make one whole: mixed totals, a shard twice or
 *   missing, or shard reports mixed with unsharded ones.
 * Different run ids are expected (each shard is its own process): the merged
 * run keeps the first shard's id; the others are listed in `mergedRunIds`.
 */
import { z } from 'zod';
import type { DiffReport } from './diff.js';
import type { RunResult, ScenarioResult } from '../runner/results.js';

/** A set of reports that cannot be merged; the message names the files. */
export class MergeInputError extends Error {
  override readonly name = 'MergeInputError';
}

/** The run-level fields the merge needs beyond what the diff reader checks. */
const runFields = z.looseObject({
  startedAt: z.number(),
  durationMs: z.number(),
  target: z.looseObject({ name: z.string(), host: z.string(), file: z.string(), insecure: z.boolean() }),
  interrupted: z.boolean(),
  cleanupStopped: z.boolean(),
  mailprobeVersion: z.string(),
  peakBufferedBytes: z.number(),
  shard: z.object({ index: z.number().int().min(1), total: z.number().int().min(1) }).optional(),
});

export interface NamedReport {
  /** The file as the user named it, for messages. */
  readonly file: string;
  readonly report: DiffReport;
}

type Checked = NamedReport & { readonly run: z.infer<typeof runFields> };

function check(named: NamedReport): Checked {
  const parsed = runFields.safeParse(named.report);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new MergeInputError(`${named.file}: not a mailprobe run report: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return { ...named, run: parsed.data };
}

/** Shard reports must be exactly shards 1..n of one n; returns them in shard order. */
function inShardOrder(reports: readonly Checked[]): Checked[] {
  const sharded = reports.filter((r) => r.run.shard !== undefined);
  if (sharded.length === 0) return [...reports];
  if (sharded.length !== reports.length) {
    const plain = reports.find((r) => r.run.shard === undefined)!;
    throw new MergeInputError(`${plain.file} is not a shard report but ${sharded[0]!.file} is; merge the reports of one sharded run`);
  }
  const total = sharded[0]!.run.shard!.total;
  const seen = new Map<number, string>();
  for (const r of sharded) {
    const shard = r.run.shard!;
    if (shard.total !== total) throw new MergeInputError(`${r.file} is shard ${shard.index}/${shard.total} but ${sharded[0]!.file} is of ${total} shards`);
    const other = seen.get(shard.index);
    if (other !== undefined) throw new MergeInputError(`${other} and ${r.file} are both shard ${shard.index}/${total}`);
    seen.set(shard.index, r.file);
  }
  const missing = Array.from({ length: total }, (_, i) => i + 1).filter((i) => !seen.has(i));
  if (missing.length > 0)
    throw new MergeInputError(`shard ${missing.map((i) => `${i}/${total}`).join(', ')} missing: a merged report would leave its scenarios out`);
  return [...sharded].sort((a, b) => a.run.shard!.index - b.run.shard!.index);
}

/** One run from the reports of its shards (or of separate runs of one target and one mailprobe). */
export function mergeReports(reports: readonly NamedReport[]): RunResult & { readonly mergedRunIds: readonly string[] } {
  if (reports.length === 0) throw new MergeInputError('no reports to merge');
  const ordered = inShardOrder(reports.map(check));
  const first = ordered[0]!;
  for (const r of ordered.slice(1)) {
    if (r.run.target.name !== first.run.target.name || r.run.target.host !== first.run.target.host)
      throw new MergeInputError(
        `${r.file} ran against ${r.run.target.name} (${r.run.target.host}) but ${first.file} against ${first.run.target.name} (${first.run.target.host})`,
      );
    if (r.run.mailprobeVersion !== first.run.mailprobeVersion)
      throw new MergeInputError(`${r.file} was written by mailprobe ${r.run.mailprobeVersion} but ${first.file} by ${first.run.mailprobeVersion}`);
  }
  const owner = new Map<string, string>();
  for (const r of ordered)
    for (const s of r.report.scenarios) {
      const other = owner.get(s.id);
      if (other !== undefined) throw new MergeInputError(`scenario ${s.id} is in both ${other} and ${r.file}; each scenario must be in one report only`);
      owner.set(s.id, r.file);
    }
  const startedAt = Math.min(...ordered.map((r) => r.run.startedAt));
  const endedAt = Math.max(...ordered.map((r) => r.run.startedAt + r.run.durationMs));
  return {
    runId: first.report.runId,
    mergedRunIds: ordered.map((r) => r.report.runId),
    startedAt,
    // Wall time from the first shard's start to the last shard's end (shards run side by side in CI).
    durationMs: endedAt - startedAt,
    target: { ...first.run.target, insecure: ordered.some((r) => r.run.target.insecure) },
    // The JSON report is the whole result model (json.ts); the reader checked the parts the reports are built from.
    scenarios: ordered.flatMap((r) => r.report.scenarios as unknown as ScenarioResult[]),
    interrupted: ordered.some((r) => r.run.interrupted),
    cleanupStopped: ordered.some((r) => r.run.cleanupStopped),
    mailprobeVersion: first.run.mailprobeVersion,
    peakBufferedBytes: Math.max(...ordered.map((r) => r.run.peakBufferedBytes)),
  };
}
