/**
 * `run --shard i/n`: one of n parts of the scenario set, so that n CI jobs
 * each run a part and `report merge` puts their JSON reports back together.
 *
 * The rule (as Playwright splits its test list into contiguous chunks):
 * the scenarios the run would run (after --grep) are sorted by id (code-unit
 * order, the same on every machine, whatever the file system lists first),
 * then shard i of n takes the i-th of n contiguous chunks: indexes
 * floor((i-1)·N/n) up to, not including, floor(i·N/n). Chunk sizes differ by
 * at most one, every scenario is in exactly one shard, and a shard may be
 * empty when n exceeds the number of scenarios.
 */

export interface Shard {
  /** 1-based: 1 ≤ index ≤ total. */
  readonly index: number;
  readonly total: number;
}

/** "2/3" → { index: 2, total: 3 }; throws with the reason for anything else. */
export function parseShard(spec: string): Shard {
  const m = /^([1-9]\d{0,5})\/([1-9]\d{0,5})$/.exec(spec.trim());
  if (m === null) throw new Error(`bad shard "${spec}": use INDEX/TOTAL with whole numbers from 1, e.g. 2/3`);
  const index = Number(m[1]);
  const total = Number(m[2]);
  if (index > total) throw new Error(`bad shard "${spec}": the index ${index} is beyond the total ${total} (1 ≤ INDEX ≤ TOTAL)`);
  return { index, total };
}

export const formatShard = (shard: Shard): string => `${shard.index}/${shard.total}`;

/** The scenarios of one shard, in id order. */
export function pickShard<T extends { readonly id: string }>(items: readonly T[], shard: Shard): T[] {
  const sorted = [...items].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const from = Math.floor(((shard.index - 1) * sorted.length) / shard.total);
  const to = Math.floor((shard.index * sorted.length) / shard.total);
  return sorted.slice(from, to);
}
