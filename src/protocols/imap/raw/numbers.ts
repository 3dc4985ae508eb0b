import { readDecimal, type DecimalRule } from '../../wire-numbers.js';

/**
 * The number rules of IMAP's formal syntax, worded as the RFCs word them.
 * Values beyond 2^53 (mod-sequences) are exact as bigint; the others fit a number.
 */
export const IMAP_NUMBERS = {
  number: {
    name: 'number',
    min: 0n,
    max: 4_294_967_295n,
    clause: 'RFC 9051 §9: number = 1*DIGIT ; Unsigned 32-bit integer (0 <= n < 4,294,967,296)',
  },
  nzNumber: {
    name: 'nz-number',
    min: 1n,
    max: 4_294_967_295n,
    digitNz: true,
    clause: 'RFC 9051 §9: nz-number = digit-nz *DIGIT ; Non-zero unsigned 32-bit integer (0 < n < 4,294,967,296)',
  },
  number64: {
    name: 'number64',
    min: 0n,
    max: 9_223_372_036_854_775_807n,
    clause: 'RFC 9051 §9: number64 = 1*DIGIT ; Unsigned 63-bit integer (0 <= n <= 9,223,372,036,854,775,807)',
  },
  modSequenceValue: {
    name: 'mod-sequence-value',
    min: 1n,
    max: 9_223_372_036_854_775_807n,
    clause: 'RFC 7162 §7: mod-sequence-value = 1*DIGIT ; Positive unsigned 63-bit integer (1 <= n <= 9,223,372,036,854,775,807)',
  },
} as const satisfies Record<string, DecimalRule>;

/** Message data whose number is a message sequence number (nz-number); other numbered data take a number (EXISTS, RECENT). */
const SEQUENCE_KINDS = new Set(['EXPUNGE', 'FETCH']);

/** The rule for the number in "* <n> <kind>" (RFC 9051 §9 message-data, mailbox-data). */
export function numberedKindRule(kind: string): DecimalRule {
  return SEQUENCE_KINDS.has(kind) ? IMAP_NUMBERS.nzNumber : IMAP_NUMBERS.number;
}

/** Response codes whose first argument is a number, and its rule (resp-text-code of RFC 9051 §9; HIGHESTMODSEQ of RFC 7162 §7). */
const CODE_RULES: Readonly<Record<string, DecimalRule>> = {
  UIDVALIDITY: IMAP_NUMBERS.nzNumber,
  UIDNEXT: IMAP_NUMBERS.nzNumber,
  UNSEEN: IMAP_NUMBERS.nzNumber,
  APPENDUID: IMAP_NUMBERS.nzNumber,
  COPYUID: IMAP_NUMBERS.nzNumber,
  HIGHESTMODSEQ: IMAP_NUMBERS.modSequenceValue,
};

export interface NumberProblem {
  readonly problem: string;
  readonly clause: string;
}

/** A malformed number in a response code ("UIDVALIDITY -5"), or undefined. */
export function codeNumberProblem(code: string): NumberProblem | undefined {
  const [name = '', argument = ''] = code.split(' ');
  const rule = CODE_RULES[name.toUpperCase()];
  if (rule === undefined) return undefined;
  return problemOf(`${name.toUpperCase()}: `, argument, rule);
}

/** A malformed number among "* SEARCH" results (nz-number each; a trailing "(MODSEQ n)" of RFC 7162). */
export function searchNumberProblem(rest: string): NumberProblem | undefined {
  const modseq = /\(MODSEQ (\S*)\)$/i.exec(rest);
  const numbers = (modseq === null ? rest : rest.slice(0, modseq.index)).split(' ').filter((n) => n !== '');
  for (const n of numbers) {
    const found = problemOf('SEARCH: ', n, IMAP_NUMBERS.nzNumber);
    if (found !== undefined) return found;
  }
  return modseq === null ? undefined : problemOf('SEARCH MODSEQ: ', modseq[1] as string, IMAP_NUMBERS.modSequenceValue);
}

/** FETCH attributes that are numbers (RFC 9051 §9 msg-att: "UID" SP uniqueid, "RFC822.SIZE" SP number64; RFC 7162 §7 MODSEQ). */
const FETCH_ATTRIBUTES: ReadonlyArray<readonly [RegExp, string, DecimalRule]> = [
  // Only a value that starts like a number is judged: "HEADER.FIELDS (UID X)" names a header, not a UID.
  [/(?:^|[ (])UID ([-+]?[0-9][^ )]*)/i, 'FETCH UID: ', IMAP_NUMBERS.nzNumber],
  [/(?:^|[ (])RFC822\.SIZE ([-+]?[0-9][^ )]*)/i, 'FETCH RFC822.SIZE: ', IMAP_NUMBERS.number64],
  [/(?:^|[ (])MODSEQ \(([-+]?[0-9][^ )]*)\)/i, 'FETCH MODSEQ: ', IMAP_NUMBERS.modSequenceValue],
];

/**
 * A malformed number among a FETCH response's attributes. Quoted strings
 * (an ENVELOPE subject) are blanked first: their text is not an attribute.
 * Literals never reach here, the framer left only their "{n}" markers.
 */
export function fetchNumberProblem(attributes: string): NumberProblem | undefined {
  const text = attributes.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  for (const [pattern, where, rule] of FETCH_ATTRIBUTES) {
    const match = pattern.exec(text);
    if (match === null) continue;
    const found = problemOf(where, match[1] as string, rule);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Checks one number; a problem names where it was, what is wrong and the clause. */
export function problemOf(where: string, text: string, rule: DecimalRule): NumberProblem | undefined {
  const reading = readDecimal(text, rule);
  return reading.ok ? undefined : { problem: `${where}${reading.problem}`, clause: rule.clause };
}
