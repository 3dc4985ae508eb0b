import { describe, expect, it } from 'vitest';
import { IMAP_NUMBERS } from '../../src/protocols/imap/raw/numbers.js';
import { readDecimal } from '../../src/protocols/wire-numbers.js';

describe('numbers read by their grammar', () => {
  it('an IMAP nz-number (digit-nz *DIGIT) has no leading zero; a number (1*DIGIT) may', () => {
    expect(readDecimal('7', IMAP_NUMBERS.nzNumber)).toEqual({ ok: true, value: 7n });
    expect(readDecimal('007', IMAP_NUMBERS.nzNumber)).toEqual({ ok: false, problem: '007 is not a nz-number (its first digit must not be 0)' });
    expect(readDecimal('0', IMAP_NUMBERS.nzNumber)).toEqual({ ok: false, problem: '0 is not a nz-number (the least is 1)' });
    expect(readDecimal('007', IMAP_NUMBERS.number)).toEqual({ ok: true, value: 7n });
  });
});
