import { describe, expect, it } from 'vitest';
import { numberViolation } from '../../src/protocols/imap/number-grammar.js';
import { ImapRawProtocolError } from '../../src/protocols/imap/raw/errors.js';
import { parseResponse } from '../../src/protocols/imap/raw/response.js';

/**
 * The raw IMAP client and the imapflow session judge the numbers a server
 * sends by one grammar (RFC 9051 §9 number, nz-number, number64, uniqueid,
 * uid-set, status-att-val, resp-text-code; RFC 7162 §7 mod-sequence-value and
 * mod-sequence-valzer). Each line below is judged by both, and both must give
 * the same verdict, naming the same problem and clause.
 */
function rawVerdict(line: string): { problem: string; clause: string } | undefined {
  try {
    parseResponse({ text: line, literals: [], octets: line.length });
    return undefined;
  } catch (err) {
    if (!(err instanceof ImapRawProtocolError) || err.clause === undefined) throw err;
    return { problem: err.message.replace(/^malformed IMAP response: /, ''), clause: err.clause };
  }
}

function imapflowVerdict(line: string): { problem: string; clause: string } | undefined {
  const found = numberViolation(line);
  return found === undefined ? undefined : { problem: found.problem, clause: found.rule };
}

describe('one IMAP number grammar for the raw client and the imapflow session', () => {
  it.each([
    // RFC 9051 §9 msg-att-static: "RFC822.SIZE" SP number64.
    ['* 1 FETCH (RFC822.SIZE -1)', /RFC822\.SIZE: "-1" is not a number64/, /^RFC 9051 §9: number64/],
    // resp-code-apnd = "APPENDUID" SP nz-number SP append-uid; append-uid = uniqueid.
    ['A1 OK [APPENDUID 1700000000 0] done', /APPENDUID: 0 is not a nz-number/, /nz-number/],
    // resp-code-copy = "COPYUID" SP nz-number SP uid-set SP uid-set.
    ['A2 OK [COPYUID 17 1:3 4,5:x] done', /COPYUID: "x" is not a nz-number/, /nz-number/],
    // status-att-val: "UIDNEXT" SP nz-number; "SIZE" SP number64 (RFC 9051 §9).
    ['* STATUS INBOX (MESSAGES 3 UIDNEXT 0)', /STATUS UIDNEXT: 0 is not a nz-number/, /nz-number/],
    ['* STATUS "a (b)" (SIZE -1)', /STATUS SIZE: "-1" is not a number64/, /number64/],
    // RFC 7162 §7: status-att-val =/ "HIGHESTMODSEQ" SP mod-sequence-valzer.
    ['* STATUS INBOX (HIGHESTMODSEQ 9223372036854775808)', /STATUS HIGHESTMODSEQ: 9223372036854775808 is not a mod-sequence-valzer/, /^RFC 7162 §7/],
  ])('both fail %j', (line, problem, clause) => {
    const raw = rawVerdict(line);
    const imapflow = imapflowVerdict(line);
    expect(raw?.problem, 'raw client').toMatch(problem);
    expect(raw?.clause, 'raw client').toMatch(clause);
    expect(imapflow, 'imapflow session').toEqual(raw);
  });

  it.each([
    // number = 1*DIGIT: leading zeros are digits too, the value is 3.
    '* 000000000000000000000003 EXISTS',
    // "UID X" inside a header-field list names a header, not a UID.
    '* 1 FETCH (BODY[HEADER.FIELDS (UID X)] "" UID 5)',
    // resp-text = ["[" resp-text-code "]" SP] [text]: a bracket later on is text.
    'A3 NO mailbox [UIDNEXT -1] is gone',
    '* STATUS INBOX (HIGHESTMODSEQ 0 SIZE 9223372036854775807 DELETED 0)',
    'A4 OK [APPENDUID 1700000000 4:6] done',
  ])('both accept %j', (line) => {
    expect(rawVerdict(line), 'raw client').toBeUndefined();
    expect(imapflowVerdict(line), 'imapflow session').toBeUndefined();
  });
});
