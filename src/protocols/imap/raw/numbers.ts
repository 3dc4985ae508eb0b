import { readDecimal, type DecimalRule } from '../../wire-numbers.js';

/**
 * The number rules of IMAP's formal syntax, worded as the RFCs word them, and
 * the one place that judges the numbers of a response: the raw client's
 * parser (response.ts) and the imapflow session (../number-grammar.ts) both
 * ask here. Values beyond 2^53 (mod-sequences) are exact as bigint.
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
  modSequenceValzer: {
    name: 'mod-sequence-valzer',
    min: 0n,
    max: 9_223_372_036_854_775_807n,
    clause: 'RFC 7162 §7: mod-sequence-valzer = "0" / mod-sequence-value ; mod-sequence-value = 1*DIGIT ; Positive unsigned 63-bit integer',
  },
} as const satisfies Record<string, DecimalRule>;

/** Message data whose number is a message sequence number (nz-number); other numbered data take a number (EXISTS, RECENT). */
const SEQUENCE_KINDS = new Set(['EXPUNGE', 'FETCH']);

/** The rule for the number in "* <n> <kind>" (RFC 9051 §9 message-data, mailbox-data). */
export function numberedKindRule(kind: string): DecimalRule {
  return SEQUENCE_KINDS.has(kind) ? IMAP_NUMBERS.nzNumber : IMAP_NUMBERS.number;
}

/** A uid-set (RFC 9051 §9: uid-set = (uniqueid / uid-range) *("," uid-set); uid-range = uniqueid ":" uniqueid; uniqueid = nz-number). */
const UID_SET = 'uid-set';

/**
 * The arguments of the response codes that carry numbers, each with its rule
 * (resp-text-code of RFC 9051 §9: "UIDNEXT" SP nz-number, "UIDVALIDITY" SP
 * nz-number, "UNSEEN" SP nz-number, resp-code-apnd = "APPENDUID" SP nz-number
 * SP append-uid, resp-code-copy = "COPYUID" SP nz-number SP uid-set SP
 * uid-set; RFC 7162 §7 "HIGHESTMODSEQ" SP mod-sequence-value). append-uid is
 * a uniqueid, or a uid-set after MULTIAPPEND (RFC 4315 §4): read as a uid-set,
 * which holds a lone uniqueid too.
 */
const CODE_ARGUMENTS: Readonly<Record<string, ReadonlyArray<DecimalRule | typeof UID_SET>>> = {
  UIDVALIDITY: [IMAP_NUMBERS.nzNumber],
  UIDNEXT: [IMAP_NUMBERS.nzNumber],
  UNSEEN: [IMAP_NUMBERS.nzNumber],
  APPENDUID: [IMAP_NUMBERS.nzNumber, UID_SET],
  COPYUID: [IMAP_NUMBERS.nzNumber, UID_SET, UID_SET],
  HIGHESTMODSEQ: [IMAP_NUMBERS.modSequenceValue],
};

export interface NumberProblem {
  readonly problem: string;
  readonly clause: string;
}

/** A malformed or missing number in a response code ("UIDVALIDITY -5", "COPYUID 17 1:3 4,x"), or undefined. */
export function codeNumberProblem(code: string): NumberProblem | undefined {
  const [word = '', ...args] = code.split(' ');
  const name = word.toUpperCase();
  const rules = CODE_ARGUMENTS[name];
  if (rules === undefined) return undefined;
  for (const [i, rule] of rules.entries()) {
    const found = rule === UID_SET ? uidSetProblem(`${name}: `, args[i] ?? '') : problemOf(`${name}: `, args[i] ?? '', rule);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Each uniqueid of a uid-set ("4,5:7") is a nz-number. */
function uidSetProblem(where: string, set: string): NumberProblem | undefined {
  for (const uid of set.split(/[,:]/)) {
    const found = problemOf(where, uid, IMAP_NUMBERS.nzNumber);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * STATUS items that are numbers (RFC 9051 §9 status-att-val: "MESSAGES" SP
 * number, "UIDNEXT" SP nz-number, "UIDVALIDITY" SP nz-number, "UNSEEN" SP
 * number, "DELETED" SP number, "SIZE" SP number64; RFC 3501 §9 "RECENT" SP
 * number; RFC 7162 §7 "HIGHESTMODSEQ" SP mod-sequence-valzer). Other items
 * (extensions) are left alone.
 */
const STATUS_ITEMS: Readonly<Record<string, DecimalRule>> = {
  MESSAGES: IMAP_NUMBERS.number,
  RECENT: IMAP_NUMBERS.number,
  UIDNEXT: IMAP_NUMBERS.nzNumber,
  UIDVALIDITY: IMAP_NUMBERS.nzNumber,
  UNSEEN: IMAP_NUMBERS.number,
  DELETED: IMAP_NUMBERS.number,
  SIZE: IMAP_NUMBERS.number64,
  HIGHESTMODSEQ: IMAP_NUMBERS.modSequenceValzer,
};

/**
 * A malformed number in "* STATUS mailbox (item value …)", given what
 * follows "STATUS ". The mailbox name may be quoted and hold parentheses, so
 * quoted strings are blanked first; the list is the last parenthesised part.
 */
export function statusNumberProblem(rest: string): NumberProblem | undefined {
  const list = /\(([^()]*)\)\s*$/.exec(rest.replace(/"(?:[^"\\]|\\.)*"/g, '""'));
  if (list === null) return undefined;
  const items = (list[1] as string).split(' ').filter((w) => w !== '');
  for (let i = 0; i + 1 < items.length; i += 2) {
    const name = (items[i] as string).toUpperCase();
    const rule = STATUS_ITEMS[name];
    const found = rule === undefined ? undefined : problemOf(`STATUS ${name}: `, items[i + 1] as string, rule);
    if (found !== undefined) return found;
  }
  return undefined;
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
