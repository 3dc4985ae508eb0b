import { responseNumberProblem } from './raw/response.js';

/**
 * The numbers of IMAP responses on an imapflow session, judged by the RFC
 * grammar. imapflow drops a number it cannot parse (UIDVALIDITY
 * 99999999999999999999999, UIDNEXT -5, "* -1 EXISTS" all leave the value
 * undefined), and an undefined value compared with another undefined one
 * looks like "unchanged". So every server line an imapflow session logs is
 * checked first, by the same rules and the same reading as the raw client's
 * parser (raw/numbers.ts, raw/response.ts): the two stacks cannot disagree on
 * what a valid number is.
 */
export interface NumberViolation {
  /** What was wrong, e.g. `UIDVALIDITY: "-5" is not a nz-number (decimal digits only)`. */
  readonly problem: string;
  /** The rule broken, with its RFC and section. */
  readonly rule: string;
}

/** The first number in `line` that breaks its rule, or undefined. */
export function numberViolation(line: string): NumberViolation | undefined {
  const found = responseNumberProblem(line);
  return found === undefined ? undefined : { problem: found.problem, rule: found.clause };
}
