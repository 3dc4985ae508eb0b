import { compareDeliveredCopy } from './delivered-copy.js';
import { compareNumeric, describeValue, looselyEqual, numericValue } from './values.js';

/**
 * Each matcher judges one value and says, in words a mail admin reads, what
 * was expected and what the server gave. `expected` is the interpolated value
 * from the scenario; `actual` is read from the step's output.
 */
export interface MatcherVerdict {
  readonly passed: boolean;
  readonly expected: string;
  readonly actual: string;
}

type Matcher = (actual: unknown, expected: unknown) => MatcherVerdict;

const verdict = (passed: boolean, expected: string, actual: unknown): MatcherVerdict => ({
  passed,
  expected,
  actual: describeValue(actual),
});

/** Integers compare exactly (bigint), so 63-bit mod-sequences order correctly; a non-number never passes, and says so. */
function compareNumbers(op: string, test: (order: -1 | 0 | 1) => boolean): Matcher {
  return (actual, expected) => {
    const order = compareNumeric(actual, expected);
    const wanted = `a number ${op} ${describeValue(expected)}`;
    if (order !== undefined) return verdict(test(order), wanted, actual);
    const which = numericValue(expected) === undefined ? 'the expected value is not a number' : 'not a number';
    return { passed: false, expected: wanted, actual: `${describeValue(actual)} (${which})` };
  };
}

function includes(haystack: unknown, needle: unknown): boolean {
  if (typeof haystack === 'string') return haystack.includes(String(needle));
  if (Buffer.isBuffer(haystack)) return haystack.includes(Buffer.isBuffer(needle) ? needle : String(needle));
  if (Array.isArray(haystack)) return haystack.some((item) => looselyEqual(item, needle));
  return false;
}

function lengthOf(value: unknown): number | undefined {
  if (typeof value === 'string' || Buffer.isBuffer(value) || Array.isArray(value)) return value.length;
  return undefined;
}

export const MATCHERS = {
  equals: (actual, expected) => verdict(looselyEqual(actual, expected), describeValue(expected), actual),
  not_equals: (actual, expected) => verdict(!looselyEqual(actual, expected), `anything but ${describeValue(expected)}`, actual),
  contains: (actual, expected) => verdict(includes(actual, expected), `something containing ${describeValue(expected)}`, actual),
  not_contains: (actual, expected) => verdict(!includes(actual, expected), `nothing containing ${describeValue(expected)}`, actual),
  matches: (actual, expected) => verdict(typeof actual === 'string' && new RegExp(String(expected)).test(actual), `a match for /${String(expected)}/`, actual),
  greater_than: compareNumbers('>', (order) => order > 0),
  less_than: compareNumbers('<', (order) => order < 0),
  at_least: compareNumbers('≥', (order) => order >= 0),
  at_most: compareNumbers('≤', (order) => order <= 0),
  exists: (actual, expected) => {
    const present = actual !== undefined && actual !== null;
    return verdict(present === Boolean(expected), expected ? 'a value' : 'no value', actual);
  },
  length: (actual, expected) => {
    const length = lengthOf(actual);
    return {
      passed: length !== undefined && compareNumeric(length, expected) === 0,
      expected: `length ${describeValue(expected)}`,
      actual: length === undefined ? describeValue(actual) : `length ${length}: ${describeValue(actual)}`,
    };
  },
  one_of: (actual, expected) => verdict(Array.isArray(expected) && expected.some((e) => looselyEqual(actual, e)), `one of ${describeValue(expected)}`, actual),
  delivered_copy_of: (actual, expected) => {
    const sent = Buffer.isBuffer(expected) ? expected : typeof expected === 'string' ? Buffer.from(expected, 'utf8') : undefined;
    if (!sent || !Buffer.isBuffer(actual)) {
      return verdict(false, 'the sent message bytes, unchanged', actual);
    }
    const result = compareDeliveredCopy(sent, actual);
    const traces =
      result.addedHeaders.length > 0 ? ` below ${result.addedHeaders.length} trace header(s) (${[...new Set(result.addedHeaders)].join(', ')})` : '';
    return {
      passed: result.identical,
      expected: `the ${sent.length} octets sent, byte for byte, below any trace headers the server adds`,
      actual: result.identical ? `identical${traces}` : (result.difference ?? 'different'),
    };
  },
} satisfies Record<string, Matcher>;

export type MatcherName = keyof typeof MATCHERS;
export const MATCHER_NAMES = Object.keys(MATCHERS) as MatcherName[];
