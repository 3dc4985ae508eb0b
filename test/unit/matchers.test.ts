import { describe, expect, it } from 'vitest';
import { MATCHERS, MATCHER_NAMES } from '../../src/expectations/matchers.js';
import { MATCHER_NAMES as SCHEMA_MATCHER_NAMES } from '../../src/scenario/matchers.js';

/**
 * Every matcher, table-driven: [actual, expected, passed]. The cases above
 * 2^53 are RFC 7162 mod-sequences (63-bit), which Number() cannot tell apart.
 */
type Row = readonly [actual: unknown, expected: unknown, passed: boolean];

const MAX_MODSEQ = '9223372036854775807'; // 2^63 - 1
const BELOW_MAX = '9223372036854775806';

const TABLE: Record<string, readonly Row[]> = {
  equals: [
    [1, 1, true],
    [1, '1', true],
    ['1', 1, true],
    [' 2 ', 2, true],
    ['a', 'a', true],
    ['a', 'b', false],
    [1, 2, false],
    [[1, 2], [1, 2], true],
    [{ a: 1 }, { a: 1 }, true],
    [Buffer.from('x'), Buffer.from('x'), true],
    [Buffer.from('x'), Buffer.from('y'), false],
    [undefined, null, false],
    ['', 0, false],
    // Beyond 2^53: Number() makes these equal; they are not.
    ['9007199254740993', 9007199254740992, false],
    [MAX_MODSEQ, BELOW_MAX, false],
    [MAX_MODSEQ, MAX_MODSEQ, true],
    [9223372036854775807n, MAX_MODSEQ, true],
    [9223372036854775806n, MAX_MODSEQ, false],
    [5n, 5, true],
  ],
  not_equals: [
    [1, 2, true],
    [1, '1', false],
    ['9007199254740993', 9007199254740992, true],
    [MAX_MODSEQ, BELOW_MAX, true],
  ],
  contains: [
    ['hello world', 'world', true],
    ['hello', 'xyz', false],
    [Buffer.from('abc'), 'b', true],
    [Buffer.from('abc'), Buffer.from('bc'), true],
    [Buffer.from('abc'), 'z', false],
    [['\\Seen', '\\Flagged'], '\\Seen', true],
    [[1, 2, 3], '2', true],
    [['a'], 'b', false],
    [42, 4, false],
    [undefined, 'x', false],
  ],
  not_contains: [
    ['hello', 'xyz', true],
    ['hello', 'ell', false],
    [['\\Seen'], '\\Deleted', true],
    [['\\Seen'], '\\Seen', false],
  ],
  matches: [
    ['+OK ready', '^\\+OK', true],
    ['-ERR', '^\\+OK', false],
    [42, '4', false],
    [undefined, '.*', false],
  ],
  greater_than: [
    [3, 2, true],
    [2, 2, false],
    ['3', 2, true],
    [2.5, 2, true],
    ['2.5', '2.25', true],
    [MAX_MODSEQ, BELOW_MAX, true],
    [BELOW_MAX, MAX_MODSEQ, false],
    [9223372036854775807n, BELOW_MAX, true],
    ['abc', 1, false],
    [undefined, 1, false],
    [3, 'abc', false],
    ['', 0, false],
  ],
  less_than: [
    [1, 2, true],
    [2, 2, false],
    [BELOW_MAX, MAX_MODSEQ, true],
    [MAX_MODSEQ, BELOW_MAX, false],
    [null, 1, false],
  ],
  at_least: [
    [2, 2, true],
    [1, 2, false],
    [MAX_MODSEQ, MAX_MODSEQ, true],
    [BELOW_MAX, MAX_MODSEQ, false],
    [[1], 1, false],
  ],
  at_most: [
    [2, 2, true],
    [3, 2, false],
    [MAX_MODSEQ, BELOW_MAX, false],
    [BELOW_MAX, MAX_MODSEQ, true],
    [true, 1, false],
  ],
  exists: [
    ['x', true, true],
    [0, true, true],
    ['', true, true],
    [undefined, true, false],
    [null, true, false],
    [undefined, false, true],
    ['x', false, false],
  ],
  length: [
    ['abc', 3, true],
    ['abc', 2, false],
    [[1, 2], 2, true],
    [[1, 2], '2', true],
    [Buffer.alloc(4), 4, true],
    [[], 0, true],
    [5, 1, false],
    [undefined, 0, false],
  ],
  one_of: [
    ['b', ['a', 'b'], true],
    [2, ['1', '2'], true],
    ['c', ['a', 'b'], false],
    ['a', 'a', false],
    [MAX_MODSEQ, [BELOW_MAX], false],
  ],
  delivered_copy_of: [
    [Buffer.from('Subject: x\r\n\r\nbody\r\n'), Buffer.from('Subject: x\r\n\r\nbody\r\n'), true],
    [Buffer.from('Received: from a\r\nSubject: x\r\n\r\nbody\r\n'), 'Subject: x\r\n\r\nbody\r\n', true],
    [Buffer.from('Subject: x\r\n\r\nBODY\r\n'), 'Subject: x\r\n\r\nbody\r\n', false],
    [Buffer.from('Subject: x\r\n\r\nbody\r\n'), 42, false],
    ['Subject: x\r\n\r\nbody\r\n', 'Subject: x\r\n\r\nbody\r\n', false],
    [Buffer.from('short'), 'Subject: x\r\n\r\nbody\r\n', false],
  ],
};

describe('matchers', () => {
  it('the table covers every matcher the scenario schema accepts, and no other', () => {
    expect(Object.keys(TABLE).sort()).toEqual([...MATCHER_NAMES].sort());
    expect([...SCHEMA_MATCHER_NAMES].sort()).toEqual([...MATCHER_NAMES].sort());
  });

  for (const [name, rows] of Object.entries(TABLE)) {
    describe(name, () => {
      it.each(rows.map((row, i) => [i, ...row] as const))('row %i: %o vs %o → %s', (_i, actual, expected, passed) => {
        const verdict = MATCHERS[name as keyof typeof MATCHERS](actual, expected);
        expect(verdict.passed).toBe(passed);
        expect(typeof verdict.expected).toBe('string');
        expect(verdict.expected.length).toBeGreaterThan(0);
        expect(typeof verdict.actual).toBe('string');
      });
    });
  }

  it('a numeric comparison against a non-number says so, rather than failing silently', () => {
    const verdict = MATCHERS.greater_than('abc', 1);
    expect(verdict.passed).toBe(false);
    expect(verdict.actual).toContain('not a number');
  });

  it('mod-sequences are shown exactly, not rounded', () => {
    const verdict = MATCHERS.greater_than(BELOW_MAX, MAX_MODSEQ);
    expect(verdict.expected).toContain(MAX_MODSEQ);
    expect(verdict.actual).toContain(BELOW_MAX);
    expect(MATCHERS.equals(9223372036854775807n, 1).actual).toBe(MAX_MODSEQ);
  });

  it('length says what it measured', () => {
    expect(MATCHERS.length('abc', 2).actual).toBe('length 3: "abc"');
    expect(MATCHERS.length(5, 1).actual).toBe('5');
  });

  it('delivered_copy_of names the added trace headers', () => {
    const verdict = MATCHERS.delivered_copy_of(Buffer.from('Received: from a\r\nSubject: x\r\n\r\nb\r\n'), 'Subject: x\r\n\r\nb\r\n');
    expect(verdict.actual).toContain('Received');
  });
});
