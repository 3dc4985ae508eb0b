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
  if (!DIGITS.test(text)) {
    const what = text === '' ? 'nothing' : quoted(text, 40);
    return { ok: false, problem: `${what} is not a ${rule.name} (decimal digits only)` };
  }
  if (rule.digitNz === true && text.startsWith('0') && text !== '0') {
    return { ok: false, problem: `${text} is not a ${rule.name} (its first digit must not be 0)` };
  }
  const value = BigInt(text);
  if (value < rule.min) return { ok: false, problem: `${text} is not a ${rule.name} (the least is ${rule.min})` };
  if (value > rule.max) return { ok: false, problem: `${text} is not a ${rule.name} (the largest is ${rule.max})` };
  return { ok: true, value };
}

/** The largest value that is still exact as a JavaScript number. */
export const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);
