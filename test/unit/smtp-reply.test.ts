import { describe, expect, it } from 'vitest';
import { frameMessageData } from '../../src/protocols/smtp/data.js';
import { SmtpProtocolError } from '../../src/protocols/smtp/errors.js';
import { parseReplyLine, shown } from '../../src/protocols/smtp/reply.js';

/** RFC 5321 §4.2 Reply-line, one line at a time; and the DATA framing of §4.5.2. */
describe('parseReplyLine', () => {
  it.each([
    ['250 OK', { code: 250, continued: false, text: 'OK' }],
    ['250-first', { code: 250, continued: true, text: 'first' }],
    ['250-', { code: 250, continued: true, text: '' }],
    ['250', { code: 250, continued: false, text: '' }],
    ['250 ', { code: 250, continued: false, text: '' }],
    ['554 5.7.1 no\tservice', { code: 554, continued: false, text: '5.7.1 no\tservice' }],
    ['220 grüße', { code: 220, continued: false, text: 'grüße' }],
    ['559 top of the range', { code: 559, continued: false, text: 'top of the range' }],
    [`250 ${'x'.repeat(2_000)}`, { code: 250, continued: false }],
  ])('accepts %j', (line, expected) => {
    expect(parseReplyLine(Buffer.from(line, 'utf8'), 'EHLO')).toMatchObject(expected);
  });

  it.each([
    ['', 'empty'],
    ['25', 'too short'],
    ['150 info', 'first digit below 2'],
    ['650 x', 'first digit above 5'],
    ['260 x', 'second digit above 5'],
    ['2a0 x', 'not a digit'],
    ['2500 x', 'no separator'],
    ['250\tx', 'HT is no separator'],
    ['250 a\x00b', 'NUL in the text'],
    ['250 a\x1b[2Jb', 'ESC in the text'],
    ['250 a\x7fb', 'DEL in the text'],
    ['+OK pop3', 'another protocol'],
  ])('refuses %j (%s) as ESMTP_MALFORMED citing RFC 5321 §4.2', (line) => {
    let error: unknown;
    try {
      parseReplyLine(Buffer.from(line, 'latin1'), 'EHLO');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SmtpProtocolError);
    expect(error).toMatchObject({ code: 'ESMTP_MALFORMED', clause: 'RFC 5321 §4.2', command: 'EHLO' });
  });
});

describe('frameMessageData', () => {
  const framed = (text: string) => frameMessageData(Buffer.from(text, 'latin1'));

  it('doubles a leading "." on every line, first and last included, and ends with CRLF.CRLF', () => {
    const out = framed('.first\r\nmid\r\n.\r\n..two\r\n.last\r\n');
    expect(out.bytes.toString('latin1')).toBe('..first\r\nmid\r\n..\r\n...two\r\n..last\r\n.\r\n');
    expect(out).toMatchObject({ lines: 5, stuffed: 4 });
  });

  it('turns bare LF and bare CR into CRLF and adds a missing final CRLF', () => {
    expect(framed('a\nb\rc\r\nd').bytes.toString('latin1')).toBe('a\r\nb\r\nc\r\nd\r\n.\r\n');
  });

  it('keeps 8-bit octets and dots that do not start a line', () => {
    const raw = Buffer.from([0x61, 0x2e, 0xff, 0x0d, 0x0a]);
    expect([...frameMessageData(raw).bytes]).toEqual([0x61, 0x2e, 0xff, 0x0d, 0x0a, 0x2e, 0x0d, 0x0a]);
  });

  it('an empty message is the terminator alone', () => {
    expect(framed('').bytes.toString('latin1')).toBe('.\r\n');
  });
});

describe('shown', () => {
  it('cuts a long reply for a message without splitting a character: no lone surrogate escape', () => {
    // 119 ASCII characters, then an emoji (two UTF-16 units) across the 120-character cut.
    const text = shown(Buffer.from(`${'x'.repeat(119)}😀 and more`, 'utf8'));
    expect(text).toBe(JSON.stringify(`${'x'.repeat(119)}…`));
    expect(text).not.toMatch(/\\ud83d/i);
  });
});
