import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ALL_CASES } from './cases.js';

/** CASES.md is the corpus for people: it must list exactly the cases that run, each once. */
describe('test/hostile/CASES.md', () => {
  it('lists every case of cases.ts once, and no other', async () => {
    const text = await readFile(join(import.meta.dirname, 'CASES.md'), 'utf8');
    const listed = [...text.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
    expect(listed.sort()).toEqual(ALL_CASES.map((c) => c.name).sort());
    expect(new Set(ALL_CASES.map((c) => c.name)).size, 'case names are unique').toBe(ALL_CASES.length);
  });
});
