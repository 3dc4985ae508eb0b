import { afterEach, describe, expect, it } from 'vitest';
import { ImapSessionError } from '../../src/protocols/imap/errors.js';
import { ImapSession } from '../../src/protocols/imap/session.js';
import { classifyError } from '../../src/runner/classify.js';
import { GREETING, afterCapability, sessionOptions, startHostile, type HostileServer } from './hostile-imap.js';

/**
 * Issue 7 §3 "Numbers": imapflow silently drops a number it cannot parse
 * (UIDVALIDITY 99999999999999999999999, UIDNEXT -5, * -1 EXISTS), so a check
 * comparing UIDVALIDITY before and after compared undefined with undefined
 * and passed. Every number the server sends is judged by the RFC grammar
 * (RFC 9051 §9 number / nz-number, 32-bit; RFC 7162 §7 mod-sequence-value,
 * 63-bit); anything else fails "the server answers in IMAP syntax".
 */
let server: HostileServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const SELECT_OK = ['* FLAGS (\\Seen \\Deleted)', '* 2 EXISTS', '* OK [UIDVALIDITY 1700000000] UIDs valid', '* OK [UIDNEXT 3] Predicted next UID'];

/** A server whose SELECT answer has `replace` in place of the line it matches, and whose NOOP answer adds `noop`. */
async function serve(select: string[], noop: string[] = []): Promise<ImapSession> {
  server = await startHostile(async (c) => {
    c.write(GREETING);
    const login = await afterCapability(c, 'IMAP4rev1 LITERAL+ CONDSTORE');
    c.write(`${login.tag} OK [CAPABILITY IMAP4rev1 LITERAL+ CONDSTORE] logged in\r\n`);
    for (;;) {
      const cmd = await c.command();
      if (cmd.verb === 'SELECT' || cmd.verb === 'EXAMINE') c.write(`${select.join('\r\n')}\r\n${cmd.tag} OK [READ-WRITE] done\r\n`);
      else if (cmd.verb === 'NOOP') c.write(`${noop.map((l) => `${l}\r\n`).join('')}${cmd.tag} OK done\r\n`);
      else c.write(`${cmd.tag} OK done\r\n`);
    }
  });
  return ImapSession.open(sessionOptions(server.port));
}

async function failure(session: ImapSession, run: () => Promise<unknown>) {
  const error = await run().then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error, 'the command must not succeed').toBeInstanceOf(ImapSessionError);
  expect((error as ImapSessionError).code).toBe('EIMAP_MALFORMED');
  const verdict = classifyError(error);
  expect(verdict.kind).toBe('failed');
  if (verdict.kind !== 'failed') throw new Error('not failed');
  expect(verdict.check.description).toBe('the server answers in IMAP syntax');
  session.drop();
  return { error: error as ImapSessionError, check: verdict.check };
}

const select = (session: ImapSession) => () => session.call('SELECT INBOX', (c) => c.mailboxOpen('INBOX'));

describe('imapflow: numbers are judged by the RFC grammar', () => {
  for (const [name, line, rule] of [
    ['an overflowing UIDVALIDITY', '* OK [UIDVALIDITY 99999999999999999999999] UIDs valid', /nz-number/],
    ['UIDVALIDITY 2^32', '* OK [UIDVALIDITY 4294967296] UIDs valid', /nz-number/],
    ['UIDVALIDITY 0', '* OK [UIDVALIDITY 0] UIDs valid', /nz-number/],
    ['a negative UIDNEXT', '* OK [UIDNEXT -5] Predicted next UID', /nz-number/],
    ['a negative EXISTS', '* -1 EXISTS', /number/],
    ['an overflowing HIGHESTMODSEQ', '* OK [HIGHESTMODSEQ 9223372036854775808] Highest', /mod-sequence-value/],
  ] as const) {
    it(`${name} in the SELECT answer fails the IMAP syntax check, citing the rule`, async () => {
      const lines = [...SELECT_OK.filter((l) => !l.includes(line.split(' ')[2]!.replace(/^\[/, '').replace(/\]$/, ''))), line];
      const session = await serve(lines);
      const { error, check } = await failure(session, select(session));
      expect(error.message).toContain(line.split(' ').slice(0, 3).join(' '));
      expect(check.expected).toMatch(rule);
      expect(check.rfc).toBe(check.expected);
      expect(check.rfc).toMatch(/^RFC (9051 §9|7162 §7): /);
    });
  }

  it('a FETCH with message number 0 or a UID above 32 bits fails too', async () => {
    for (const noop of ['* 0 FETCH (UID 5 FLAGS ())', '* 1 FETCH (UID 4294967296 FLAGS ())', '* 1 FETCH (UID 7 MODSEQ (-3) FLAGS ())']) {
      const session = await serve(SELECT_OK, [noop]);
      await session.call('SELECT INBOX', (c) => c.mailboxOpen('INBOX'));
      await failure(session, () => session.call('NOOP', (c) => c.noop()));
      await server!.close();
    }
  });

  it('numbers at the edges of their ranges are accepted', async () => {
    const session = await serve(
      ['* 0 EXISTS', '* OK [UIDVALIDITY 4294967295] ok', '* OK [UIDNEXT 1] ok', '* OK [HIGHESTMODSEQ 9223372036854775807] ok'],
      ['* 4294967295 FETCH (UID 4294967295 MODSEQ (9223372036854775807) FLAGS ())'],
    );
    const box = await session.call('SELECT INBOX', (c) => c.mailboxOpen('INBOX'));
    expect(String(box.uidValidity)).toBe('4294967295');
    await session.call('NOOP', (c) => c.noop());
    session.drop();
  });

  it('a response line with a NUL octet, which imapflow drops without a word, fails the IMAP syntax check', async () => {
    const session = await serve([...SELECT_OK.slice(0, 2), '* \u0000\u00ff\u001b[2J garbage', ...SELECT_OK.slice(2)]);
    const { error, check } = await failure(session, select(session));
    expect(error.message).toMatch(/a response line with a NUL octet/);
    expect(check.rfc).toMatch(/RFC 3501 §9/);
    expect(check.expected).toMatch(/NUL character, %x00, MUST NOT be used at any time/);
  });
});
