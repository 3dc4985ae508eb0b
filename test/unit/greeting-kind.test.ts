import { describe, expect, it } from 'vitest';
import { isReadyGreeting } from '../../src/lab/greeting.js';
import { greetingKind, imapGreetingStatus } from '../../src/transport/greeting-kind.js';

/**
 * One definition of an IMAP greeting line (RFC 9051 §9 greeting: "*" SP
 * (resp-cond-auth / resp-cond-bye)), shared by the protocol sniffing, the
 * imapflow session and the lab's readiness check. ABNF strings are
 * case-insensitive (RFC 5234 §2.3), so "* ok" greets as "* OK" does.
 */
describe('imapGreetingStatus', () => {
  it.each([
    ['* OK [CAPABILITY IMAP4rev2] ready', 'OK'],
    ['* ok Dovecot ready.', 'OK'],
    ['* PREAUTH logged in', 'PREAUTH'],
    ['* BYE too busy', 'BYE'],
    ['* OK', 'OK'],
    ['* OK[CAPABILITY IMAP4rev1] no space', 'OK'],
  ])('reads %j as %s', (line, status) => {
    expect(imapGreetingStatus(line)).toBe(status);
    expect(greetingKind(line)).toBe('imap');
  });

  it.each(['* OKAY ready', '* HELLO', '+OK POP3 ready', '220 smtp ESMTP', '', 'A1 OK done'])('finds no IMAP greeting in %j', (line) => {
    expect(imapGreetingStatus(line)).toBeUndefined();
  });
});

describe("the lab's readiness check uses the same definition", () => {
  it('is ready on an OK greeting in any case, not on a BYE, PREAUTH or a longer word', () => {
    expect(isReadyGreeting('imap', '* OK [CAPABILITY IMAP4rev1] ready\r\n')).toBe(true);
    expect(isReadyGreeting('imap', '* ok ready\r\n')).toBe(true);
    expect(isReadyGreeting('imap', '* OKAY ready\r\n')).toBe(false);
    expect(isReadyGreeting('imap', '* BYE shutting down\r\n')).toBe(false);
  });
});
