import { quoted } from '../core/text.js';

/**
 * Numbers a server sends, read by the grammar of the protocol that defines
 * them, never by Number() or parseInt(): those take "1e23", "+5", " 7" and
 * "0x1F", and silently round what does not fit. Every mail protocol here
 * writes its numbers as plain decimal digits (ABNF 1*DIGIT) with a range;
 * each protocol names its rules and clauses (pop3/numbers.ts,
 * imap/raw/numbers.ts) and this module only checks text against a rule.
 */
export interface DecimalRule {
  /** The grammar's name for it: "nz-number", "message-number", "mod-sequence-value". */
  readonly name: string;
  readonly min: bigint;
  /** Inclusive. */
  readonly max: bigint;
  /** The first digit must not be 0 (ABNF `digit-nz *DIGIT`, as IMAP's nz-number): "007" breaks it. */
  readonly digitNz?: boolean;
  /** The clause that defines the rule, with its wording, for the failed check. */
  readonly clause: string;
}

export type DecimalReading = { readonly ok: true; readonly value: bigint } | { readonly ok: false; readonly problem: string };

const DIGITS = /^[0-9]+$/;

/** Checks `text` against `rule`: only ASCII digits, and within the rule's range. */
export function readDecimal(text: string, rule: DecimalRule): DecimalReading {
  if (text.length > EXACT_DIGITS) return readBigDecimal(text, rule);
  const small = readSmallDecimal(text, rule);
  return small.ok ? { ok: true, value: BigInt(small.value) } : small;
}

/** Below 10^15 every digit string is exact as a JavaScript number, so no BigInt is needed to read or range-check it. */
const EXACT_DIGITS = 15;

/**
 * The same check, giving a number: for rules whose range is exact as one (POP3's message numbers and sizes).
 * A listing of a 50,000-message maildrop holds 100,000 numbers, and a BigInt per number was most of reading it.
 */
export function readSmallDecimal(text: string, rule: DecimalRule): SmallDecimalReading {
  if (text.length > EXACT_DIGITS) {
    const big = readBigDecimal(text, rule);
    if (!big.ok) return big;
    // The rule's own bound decides first; a rule that reaches past 2^53-1 cannot be read as a number.
    if (big.value > MAX_EXACT) throw new RangeError(`${rule.name} ${text} is beyond what a JavaScript number holds exactly; read it with readDecimal`);
    return { ok: true, value: Number(big.value) };
  }
  // One pass over the digits, building the value as it checks them; anything else goes to formWords for its words.
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return { ok: false, problem: formWords(text, rule) };
    value = value * 10 + digit;
  }
  if (text.length === 0 || (rule.digitNz === true && text.length > 1 && value < 10 ** (text.length - 1))) {
    return { ok: false, problem: formWords(text, rule) };
  }
  // Exact: a rule's bound above 10^15 rounds, but stays above every value that reaches this comparison.
  if (value < Number(rule.min)) return { ok: false, problem: `${text} is not a ${rule.name} (the least is ${rule.min})` };
  if (value > Number(rule.max)) return { ok: false, problem: `${text} is not a ${rule.name} (the largest is ${rule.max})` };
  return { ok: true, value };
}

export type SmallDecimalReading = { readonly ok: true; readonly value: number } | { readonly ok: false; readonly problem: string };

/** What is wrong with the digits themselves, whatever their value. */
function formProblem(text: string, rule: DecimalRule): string | undefined {
  const wellFormed = DIGITS.test(text) && !(rule.digitNz === true && text.startsWith('0') && text !== '0');
  return wellFormed ? undefined : formWords(text, rule);
}

/** The words for digits already known to be malformed: a non-digit, nothing at all, or a leading 0 where the rule forbids it. */
function formWords(text: string, rule: DecimalRule): string {
  if (DIGITS.test(text)) return `${text} is not a ${rule.name} (its first digit must not be 0)`;
  const what = text === '' ? 'nothing' : quoted(text, 40);
  return `${what} is not a ${rule.name} (decimal digits only)`;
}

function readBigDecimal(text: string, rule: DecimalRule): DecimalReading {
  const problem = formProblem(text, rule);
  if (problem !== undefined) return { ok: false, problem };
  const value = BigInt(text);
  if (value < rule.min) return { ok: false, problem: `${text} is not a ${rule.name} (the least is ${rule.min})` };
  if (value > rule.max) return { ok: false, problem: `${text} is not a ${rule.name} (the largest is ${rule.max})` };
  return { ok: true, value };
}

/** The largest value that is still exact as a JavaScript number. */
export const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);
