import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJsonReport, type DiffReport } from '../../src/reporters/diff.js';
import { MergeInputError, mergeReports } from '../../src/reporters/merge.js';
import { exitCodeFor } from '../../src/cli/exit-codes.js';

/** A recorded run (see report-diff.test.ts), cut into shard reports as `run --shard` would write them. */
const WHOLE = parseJsonReport(readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'reports', 'baseline.json'), 'utf8'));

function shardOf(index: number, total: number, scenarios: DiffReport['scenarios'], runId = `run-${index}`): DiffReport {
  return { ...WHOLE, runId, shard: { index, total }, scenarios };
}

function split(total: number): DiffReport[] {
  const all = WHOLE.scenarios;
  return Array.from({ length: total }, (_, i) =>
    shardOf(i + 1, total, all.slice(Math.floor((i * all.length) / total), Math.floor(((i + 1) * all.length) / total))),
  );
}

const named = (reports: DiffReport[]) => reports.map((report, i) => ({ file: `shard-${i + 1}.json`, report }));

describe('report merge', () => {
  it('puts the shards back in shard order, whatever order they are given in, with every verdict', () => {
    const shards = split(3);
    const merged = mergeReports(named([shards[2]!, shards[0]!, shards[1]!]));
    expect(merged.scenarios.map((s) => `${s.id} ${s.state}`)).toEqual(WHOLE.scenarios.map((s) => `${s.id} ${s.state}`));
    expect(merged.runId).toBe('run-1');
    expect(merged.mergedRunIds).toEqual(['run-1', 'run-2', 'run-3']);
    expect('shard' in merged).toBe(false);
    expect(exitCodeFor(merged)).toBe(exitCodeFor({ ...merged, scenarios: WHOLE.scenarios as never }));
  });

  it('refuses a scenario in two reports', () => {
    const [a, b] = split(2);
    const dup = { ...b!, scenarios: [...b!.scenarios, a!.scenarios[0]!] };
    expect(() => mergeReports(named([a!, dup]))).toThrow(
      new MergeInputError(`scenario ${a!.scenarios[0]!.id} is in both shard-1.json and shard-2.json; each scenario must be in one report only`),
    );
  });

  it('refuses a missing shard, a shard twice, mixed totals and shard reports mixed with whole runs', () => {
    const s = split(3);
    expect(() => mergeReports(named([s[0]!, s[2]!]))).toThrow(/shard 2\/3 missing/);
    expect(() => mergeReports(named([s[0]!, s[1]!, s[1]!]))).toThrow(/shard-2\.json and shard-3\.json are both shard 2\/3/);
    expect(() => mergeReports(named([s[0]!, shardOf(2, 2, s[1]!.scenarios)]))).toThrow(/is shard 2\/2 but shard-1\.json is of 3 shards/);
    const { shard: _unused, ...whole } = s[1]!;
    expect(() => mergeReports(named([s[0]!, whole as DiffReport, s[2]!]))).toThrow(/shard-2\.json is not a shard report/);
  });

  it('refuses reports of different targets or mailprobe versions', () => {
    const [a, b] = split(2);
    const target = (WHOLE as unknown as { target: Record<string, unknown> }).target;
    expect(() => mergeReports(named([a!, { ...b!, target: { ...target, host: 'other.example' } }]))).toThrow(/shard-2\.json ran against .* \(other\.example\)/);
    expect(() => mergeReports(named([a!, { ...b!, mailprobeVersion: '0.0.1' }]))).toThrow(/written by mailprobe 0\.0\.1/);
  });

  it('a merged run is interrupted when a shard was, and its exit code says so', () => {
    const [a, b] = split(2);
    expect(exitCodeFor(mergeReports(named([a!, { ...b!, interrupted: true }])))).toBe(130);
  });
});
