import { describe, expect, it } from 'vitest';
import { numberViolation } from '../../src/protocols/imap/number-grammar.js';
import { IMAP_NUMBERS } from '../../src/protocols/imap/raw/numbers.js';
import { type DecimalRule, readDecimal } from '../../src/protocols/wire-numbers.js';

const valid = (rule: DecimalRule, text: string): boolean => readDecimal(text, rule).ok;

/** The RFC ranges themselves, edge by edge (RFC 9051 §9, RFC 7162 §7), as the imapflow session judges them. */
describe('IMAP number grammar', () => {
  it('number: 0 to 2^32-1, digits only', () => {
    expect(valid(IMAP_NUMBERS.number, '0')).toBe(true);
    expect(valid(IMAP_NUMBERS.number, '4294967295')).toBe(true);
    expect(valid(IMAP_NUMBERS.number, '4294967296')).toBe(false);
    for (const bad of ['-1', '+1', '1.0', '1e3', '', ' 1', '0x10', '99999999999999999999999']) expect(valid(IMAP_NUMBERS.number, bad), bad).toBe(false);
  });

  it('nz-number: 1 to 2^32-1, no leading zero (digit-nz *DIGIT)', () => {
    expect(valid(IMAP_NUMBERS.nzNumber, '1')).toBe(true);
    expect(valid(IMAP_NUMBERS.nzNumber, '4294967295')).toBe(true);
    for (const bad of ['0', '01', '4294967296', '-5']) expect(valid(IMAP_NUMBERS.nzNumber, bad), bad).toBe(false);
  });

  it('mod-sequence-value: 1 to 2^63-1; mod-sequence-valzer also 0', () => {
    expect(valid(IMAP_NUMBERS.modSequenceValue, '9223372036854775807')).toBe(true);
    expect(valid(IMAP_NUMBERS.modSequenceValue, '9223372036854775808')).toBe(false);
    expect(valid(IMAP_NUMBERS.modSequenceValue, '0')).toBe(false);
    expect(valid(IMAP_NUMBERS.modSequenceValzer, '0')).toBe(true);
  });

  it('finds the numbers of response codes, untagged data, FETCH, STATUS and SEARCH', () => {
    expect(numberViolation('* OK [UIDVALIDITY 1700000000] ok')).toBeUndefined();
    expect(numberViolation('* OK [UIDVALIDITY 99999999999999999999999] ok')?.rule).toMatch(/nz-number/);
    expect(numberViolation('* OK [UIDNEXT -5] ok')?.problem).toBe('UIDNEXT: "-5" is not a nz-number (decimal digits only)');
    expect(numberViolation('* -1 EXISTS')?.problem).toMatch(/^\* -1 EXISTS: "-1" is not a number/);
    expect(numberViolation('* 0 EXPUNGE')?.rule).toMatch(/nz-number/);
    expect(numberViolation('A3 OK [APPENDUID 1700000000 0] done')?.problem).toMatch(/APPENDUID: 0 is not a nz-number/);
    expect(numberViolation('A4 OK [COPYUID 17 1:3 4,5:x] done')?.problem).toMatch(/COPYUID: "x"/);
    expect(numberViolation('* STATUS "INBOX" (MESSAGES 3 UIDNEXT 0)')?.problem).toMatch(/STATUS UIDNEXT: 0/);
    expect(numberViolation('* STATUS INBOX (HIGHESTMODSEQ 0)')).toBeUndefined();
    expect(numberViolation('* SEARCH 1 2 0')?.problem).toMatch(/SEARCH: 0 is not a nz-number/);
    expect(numberViolation('* SEARCH 1 2 (MODSEQ 9223372036854775808)')?.rule).toMatch(/RFC 7162 §7/);
    expect(numberViolation('* 2 FETCH (UID 9 MODSEQ (12) FLAGS (\\Seen))')).toBeUndefined();
    expect(numberViolation('* 2 FETCH (UID -9 FLAGS ())')?.problem).toMatch(/FETCH UID: "-9"/);
  });

  it('text inside quoted strings is not protocol: a subject saying "UID -5" is fine', () => {
    expect(numberViolation('* 2 FETCH (UID 9 ENVELOPE (NIL "UID -5 [UIDNEXT -1]" NIL))')).toBeUndefined();
  });
});
