/**
 * The numbers of IMAP responses, judged by the RFC grammar. imapflow drops a
 * number it cannot parse (UIDVALIDITY 99999999999999999999999, UIDNEXT -5,
 * "* -1 EXISTS" all leave the value undefined), and an undefined value
 * compared with another undefined one looks like "unchanged". So every
 * server line an imapflow session logs is checked here first.
 *
 * The rules, as the RFCs word them:
 * - RFC 9051 §9: number = 1*DIGIT ; Unsigned 32-bit integer (0 <= n < 4,294,967,296)
 * - RFC 9051 §9: nz-number = digit-nz *DIGIT ; Non-zero unsigned 32-bit integer (0 < n < 4,294,967,296)
 * - RFC 9051 §9: uniqueid = nz-number ; Strictly ascending
 * - RFC 7162 §7: mod-sequence-value = 1*DIGIT ; Positive unsigned 63-bit integer
 *   (1 <= n <= 9,223,372,036,854,775,807); mod-sequence-valzer = "0" / mod-sequence-value
 */
export interface NumberViolation {
  /** What was wrong, e.g. `UIDVALIDITY "-5" is not a nz-number`. */
  readonly problem: string;
  /** The rule broken, with its RFC and section. */
  readonly rule: string;
}

type Kind = 'number' | 'nz-number' | 'uniqueid' | 'mod-sequence-value' | 'mod-sequence-valzer';

const RULES: Readonly<Record<Kind, string>> = {
  number: 'RFC 9051 §9: number = 1*DIGIT ; Unsigned 32-bit integer (0 <= n < 4,294,967,296)',
  'nz-number': 'RFC 9051 §9: nz-number = digit-nz *DIGIT ; Non-zero unsigned 32-bit integer (0 < n < 4,294,967,296)',
  uniqueid: 'RFC 9051 §9: uniqueid = nz-number ; nz-number = digit-nz *DIGIT ; Non-zero unsigned 32-bit integer (0 < n < 4,294,967,296)',
  'mod-sequence-value': 'RFC 7162 §7: mod-sequence-value = 1*DIGIT ; Positive unsigned 63-bit integer (1 <= n <= 9,223,372,036,854,775,807)',
  'mod-sequence-valzer': 'RFC 7162 §7: mod-sequence-valzer = "0" / mod-sequence-value ; mod-sequence-value = 1*DIGIT ; Positive unsigned 63-bit integer',
};

const MAX_32 = 4_294_967_295n;
const MAX_63 = 9_223_372_036_854_775_807n;

/** Whether `text` is a `kind` (digits only, no sign, no leading zero where digit-nz is required, in range). */
export function isValid(kind: Kind, text: string): boolean {
  if (!/^\d{1,20}$/.test(text)) return false;
  const value = BigInt(text);
  switch (kind) {
    case 'number':
      return value <= MAX_32;
    case 'nz-number':
    case 'uniqueid':
      return /^[1-9]/.test(text) && value <= MAX_32;
    case 'mod-sequence-value':
      return value >= 1n && value <= MAX_63;
    case 'mod-sequence-valzer':
      return value <= MAX_63;
  }
}

/** Response codes that carry numbers: `[UIDVALIDITY n]` and the like. */
const CODE_ARGUMENTS: ReadonlyArray<readonly [string, readonly Kind[]]> = [
  ['UIDVALIDITY', ['nz-number']],
  ['UIDNEXT', ['nz-number']],
  ['UNSEEN', ['nz-number']],
  ['HIGHESTMODSEQ', ['mod-sequence-value']],
  ['APPENDUID', ['nz-number', 'uniqueid']],
];

/** STATUS items (RFC 9051 §9 status-att-val; RFC 7162 §7 for HIGHESTMODSEQ). */
const STATUS_ITEMS: Readonly<Record<string, Kind>> = {
  MESSAGES: 'number',
  UIDNEXT: 'nz-number',
  UIDVALIDITY: 'nz-number',
  UNSEEN: 'number',
  DELETED: 'number',
  RECENT: 'number',
  HIGHESTMODSEQ: 'mod-sequence-valzer',
};

/** The first number in `line` that breaks its rule, or undefined. */
export function numberViolation(line: string): NumberViolation | undefined {
  // Quoted strings carry text (a subject, a mailbox name), never protocol numbers.
  const text = line.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return responseCodeViolation(text) ?? untaggedViolation(text);
}

function violation(what: string, value: string, kind: Kind): NumberViolation {
  return { problem: `${what} ${JSON.stringify(value)} is not a ${kind}`, rule: RULES[kind] };
}

function check(what: string, value: string | undefined, kind: Kind): NumberViolation | undefined {
  if (value === undefined || isValid(kind, value)) return undefined;
  return violation(what, value, kind);
}

function responseCodeViolation(text: string): NumberViolation | undefined {
  for (const match of text.matchAll(/\[([A-Za-z-]+)(?: ([^\]]*))?\]/g)) {
    const name = match[1]!.toUpperCase();
    const args = (match[2] ?? '').split(' ').filter((a) => a !== '');
    const kinds = CODE_ARGUMENTS.find(([code]) => code === name)?.[1];
    if (kinds !== undefined) {
      if (args.length < kinds.length) return { problem: `[${name}] lacks its number`, rule: RULES[kinds[args.length]!] };
      for (const [i, kind] of kinds.entries()) {
        const bad = check(name, args[i], kind);
        if (bad) return bad;
      }
    }
    if (name === 'COPYUID') {
      const bad = check('COPYUID', args[0], 'nz-number') ?? uidSetViolation('COPYUID', args[1]) ?? uidSetViolation('COPYUID', args[2]);
      if (bad) return bad;
    }
  }
  return undefined;
}

/** uid-set = (uniqueid / uid-range) *("," uid-set); uid-range = uniqueid ":" uniqueid. */
function uidSetViolation(what: string, set: string | undefined): NumberViolation | undefined {
  if (set === undefined) return { problem: `${what} lacks a uid-set`, rule: RULES.uniqueid };
  for (const part of set.split(/[,:]/)) {
    const bad = check(what, part, 'uniqueid');
    if (bad) return bad;
  }
  return undefined;
}

function untaggedViolation(text: string): NumberViolation | undefined {
  // message-data = nz-number SP ("EXPUNGE" / ("FETCH" SP msg-att)); mailbox-data =/ number SP "EXISTS"
  const data = /^\* (\S+) (EXISTS|RECENT|EXPUNGE|FETCH)\b/i.exec(text);
  if (data) {
    const verb = data[2]!.toUpperCase();
    const bad = check(`${verb} message number`, data[1], verb === 'EXISTS' || verb === 'RECENT' ? 'number' : 'nz-number');
    if (bad) return bad;
    if (verb === 'FETCH') return fetchViolation(text);
    return undefined;
  }
  const status = /^\* STATUS .*\(([^()]*)\)\s*$/i.exec(text);
  if (status) {
    const items = status[1]!.split(' ').filter((w) => w !== '');
    for (let i = 0; i + 1 < items.length; i += 2) {
      const kind = STATUS_ITEMS[items[i]!.toUpperCase()];
      const bad = kind === undefined ? undefined : check(`STATUS ${items[i]!.toUpperCase()}`, items[i + 1], kind);
      if (bad) return bad;
    }
    return undefined;
  }
  const search = /^\* SEARCH((?: [^ (]+)*)(?: \(MODSEQ (\S+)\))?\s*$/i.exec(text);
  if (search) {
    for (const n of (search[1] ?? '').split(' ').filter((w) => w !== '')) {
      const bad = check('SEARCH result', n, 'nz-number');
      if (bad) return bad;
    }
    return check('SEARCH MODSEQ', search[2], 'mod-sequence-value');
  }
  return undefined;
}

function fetchViolation(text: string): NumberViolation | undefined {
  const uid = /[( ]UID (\S+?)[ )]/i.exec(text);
  const bad = check('FETCH UID', uid?.[1], 'uniqueid');
  if (bad) return bad;
  const modseq = /[( ]MODSEQ \((\S+?)\)/i.exec(text);
  return check('FETCH MODSEQ', modseq?.[1], 'mod-sequence-value');
}
