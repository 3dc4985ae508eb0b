import { ImapRawProtocolError } from './errors.js';
import type { FramedResponse } from './framer.js';
import { codeNumberProblem, fetchNumberProblem, numberedKindRule, problemOf, searchNumberProblem, statusNumberProblem, type NumberProblem } from './numbers.js';
import { quoted } from '../../../core/text.js';

export type ImapStatus = 'OK' | 'NO' | 'BAD';

export interface UntaggedResponse {
  /** The response as received, each literal summarised as its "{n}" marker. */
  readonly raw: string;
  /** Upper-cased: 'EXISTS', 'EXPUNGE', 'FETCH', 'CAPABILITY', 'FLAGS', 'OK', 'BYE', 'LIST', … */
  readonly kind: string;
  /** The message number or count before the kind: `* 3 EXISTS` → 3. */
  readonly number?: number;
  /** For OK/NO/BAD/BYE/PREAUTH: the response code inside [ ], without the brackets. */
  readonly code?: string;
  /** For OK/NO/BAD/BYE/PREAUTH: the human-readable text after the code. */
  readonly text?: string;
  readonly literals: Buffer[];
}

export interface ImapResponse {
  readonly tag: string;
  readonly status: ImapStatus;
  /** The response code without brackets: "TRYCREATE", "CAPABILITY IMAP4rev1 …". */
  readonly code?: string;
  readonly text: string;
  /** Every untagged response read while this command ran, in order. */
  readonly untagged: UntaggedResponse[];
}

/** One parsed response, before it is attributed to a command. */
export type ParsedResponse =
  | { readonly type: 'continuation'; readonly text: string; readonly raw: string }
  | { readonly type: 'untagged'; readonly response: UntaggedResponse }
  | {
      readonly type: 'tagged';
      readonly tag: string;
      readonly status: ImapStatus;
      readonly code?: string;
      readonly text: string;
      readonly raw: string;
    };

const STATUS_KINDS = new Set(['OK', 'NO', 'BAD', 'BYE', 'PREAUTH']);

/**
 * Classify a framed response (RFC 3501 §7 / RFC 9051 §7). Atoms are matched
 * case-insensitively, as the RFCs require, and reported upper-cased.
 * Throws EIMAP_MALFORMED for anything that is not "+", "*" or "tag status",
 * and for a number that breaks its rule (numbers.ts), naming the clause.
 */
export function parseResponse(framed: FramedResponse, command?: string): ParsedResponse {
  const malformed = (why: string, clause?: string): ImapRawProtocolError =>
    new ImapRawProtocolError('EIMAP_MALFORMED', `malformed IMAP response${command === undefined ? '' : ` to ${command}`}: ${why}`, {
      response: framed.text,
      ...(command === undefined ? {} : { command }),
      ...(clause === undefined ? {} : { clause }),
    });
  const { parsed, numberProblem } = readResponse(framed, (why) => malformed(why));
  if (numberProblem !== undefined) throw malformed(numberProblem.problem, numberProblem.clause);
  return parsed;
}

/**
 * The first number in one response line that breaks its rule, judged as
 * parseResponse judges it; undefined when every number keeps its rule, and
 * for a line that is no IMAP response at all (its client judges the rest).
 * For a session whose library parses the line itself: imapflow drops a
 * number it cannot read, so its session asks here first (number-grammar.ts).
 */
export function responseNumberProblem(line: string): NumberProblem | undefined {
  try {
    return readResponse({ text: line, literals: [], octets: line.length }, (why) => new Error(why)).numberProblem;
  } catch {
    return undefined;
  }
}

/** The response, and the first of its numbers that breaks its rule. Throws `malformed(why)` for a line of no response shape. */
function readResponse(framed: FramedResponse, malformed: (why: string) => Error): { parsed: ParsedResponse; numberProblem?: NumberProblem } {
  const raw = framed.text;
  const judged = (parsed: ParsedResponse, numberProblem: NumberProblem | undefined) => ({
    parsed,
    ...(numberProblem === undefined ? {} : { numberProblem }),
  });

  if (raw === '+' || raw.startsWith('+ ')) return { parsed: { type: 'continuation', text: raw.slice(2), raw } };
  if (raw.startsWith('* ')) {
    const rest = raw.slice(2);
    // A leading sign or digit starts numbered data: "* 3 EXISTS", "* -1 EXISTS" (malformed).
    const numbered = /^([-+]?[0-9][^ ]*) ([A-Za-z][A-Za-z0-9.-]*)(?:[ (]|$)/.exec(rest);
    if (numbered !== null) {
      const kind = (numbered[2] as string).toUpperCase();
      const digits = numbered[1] as string;
      const parsed: ParsedResponse = { type: 'untagged', response: { raw, kind, number: Number(digits), literals: framed.literals } };
      return judged(
        parsed,
        problemOf(`* ${digits} ${kind}: `, digits, numberedKindRule(kind)) ??
          (kind === 'FETCH' ? fetchNumberProblem(rest.slice(numbered[0].length)) : undefined),
      );
    }
    const named = /^([A-Za-z][A-Za-z0-9.-]*)(?: (.*))?$/s.exec(rest);
    if (named === null) throw malformed(`expected "* <kind>" or "* <number> <kind>", got ${quoted(raw, 120)}`);
    const kind = (named[1] as string).toUpperCase();
    if (!STATUS_KINDS.has(kind)) {
      const parsed: ParsedResponse = { type: 'untagged', response: { raw, kind, literals: framed.literals } };
      if (kind === 'SEARCH') return judged(parsed, searchNumberProblem(named[2] ?? ''));
      if (kind === 'STATUS') return judged(parsed, statusNumberProblem(named[2] ?? ''));
      return { parsed };
    }
    const { code, text } = splitCode(named[2] ?? '');
    return judged(
      { type: 'untagged', response: { raw, kind, ...(code === undefined ? {} : { code }), text, literals: framed.literals } },
      code === undefined ? undefined : codeNumberProblem(code),
    );
  }
  // tag = 1*<any ASTRING-CHAR except "+">; a status response follows (RFC 3501 §7.1).
  const tagged = /^([^\s()*%{"\\\]+]+) ([A-Za-z]+)(?: (.*))?$/s.exec(raw);
  if (tagged === null) throw malformed(`expected "+", "*" or a tagged status, got ${quoted(raw, 120)}`);
  const status = (tagged[2] as string).toUpperCase();
  if (status !== 'OK' && status !== 'NO' && status !== 'BAD') {
    throw malformed(`tagged status must be OK, NO or BAD, got ${JSON.stringify(tagged[2])}`);
  }
  const { code, text } = splitCode(tagged[3] ?? '');
  return judged(
    { type: 'tagged', tag: tagged[1] as string, status, ...(code === undefined ? {} : { code }), text, raw },
    code === undefined ? undefined : codeNumberProblem(code),
  );
}

/** "[TRYCREATE] No such mailbox" → code "TRYCREATE", text "No such mailbox". */
export function splitCode(rest: string): { code?: string; text: string } {
  if (!rest.startsWith('[')) return { text: rest };
  const close = rest.indexOf(']');
  if (close === -1) return { text: rest };
  const code = rest.slice(1, close);
  return { code, text: rest.slice(close + 1).replace(/^ /, '') };
}

/** Capability names from a CAPABILITY response or response code ("CAPABILITY IMAP4rev1 IDLE"). */
export function capabilityList(text: string): string[] {
  return text
    .replace(/^CAPABILITY\b/i, '')
    .split(' ')
    .filter((word) => word !== '');
}

/** The numbers of every `* SEARCH` response among `untagged` (UIDs, after a UID SEARCH). */
export function searchResults(untagged: readonly UntaggedResponse[]): number[] {
  return untagged
    .filter((u) => u.kind === 'SEARCH')
    .flatMap((u) =>
      u.raw
        .split(' ')
        .slice(2)
        .filter((n) => n !== '')
        .map(Number),
    );
}
