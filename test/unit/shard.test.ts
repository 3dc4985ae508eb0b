import { describe, expect, it } from 'vitest';
import { parseShard, pickShard } from '../../src/runner/shard.js';

const ids = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `s${String(i).padStart(2, '0')}` }));

describe('--shard i/n', () => {
  it('parses INDEX/TOTAL with 1 ≤ INDEX ≤ TOTAL', () => {
    expect(parseShard('2/3')).toEqual({ index: 2, total: 3 });
    expect(parseShard('1/1')).toEqual({ index: 1, total: 1 });
    for (const bad of ['0/3', '4/3', '3', '1/0', '-1/3', '1.5/3', 'a/b', '', '1/3/4', '01/3']) expect(() => parseShard(bad), bad).toThrow(/bad shard/);
  });

  it('puts every scenario in exactly one shard, in id order, chunk sizes differing by at most one', () => {
    for (const n of [0, 1, 2, 7, 29]) {
      for (const total of [1, 2, 3, 5, 40]) {
        // Given shuffled: the split must not depend on the order the files were found in.
        const items = ids(n).reverse();
        const shards = Array.from({ length: total }, (_, i) => pickShard(items, { index: i + 1, total }));
        expect(
          shards.flat().map((s) => s.id),
          `${n} in ${total}`,
        ).toEqual(ids(n).map((s) => s.id));
        const sizes = shards.map((s) => s.length);
        expect(Math.max(...sizes) - Math.min(...sizes), `${n} in ${total}`).toBeLessThanOrEqual(1);
      }
    }
  });

  it('takes contiguous chunks: 7 scenarios in 3 shards are 2, 2, 3', () => {
    const items = ids(7);
    expect(pickShard(items, { index: 1, total: 3 }).map((s) => s.id)).toEqual(['s00', 's01']);
    expect(pickShard(items, { index: 2, total: 3 }).map((s) => s.id)).toEqual(['s02', 's03']);
    expect(pickShard(items, { index: 3, total: 3 }).map((s) => s.id)).toEqual(['s04', 's05', 's06']);
  });
});
