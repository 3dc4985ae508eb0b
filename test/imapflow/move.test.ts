import { afterEach, describe, expect, it } from 'vitest';
import { ImapSessionError } from '../../src/protocols/imap/errors.js';
import { ImapSession } from '../../src/protocols/imap/session.js';
import { GREETING, afterCapability, sessionOptions, startHostile, type HostileServer } from './hostile-imap.js';

/**
 * imapflow emulates MOVE on a server without it (COPY, STORE \Deleted,
 * EXPUNGE). A conformance tool must ask the server's own MOVE or nothing, so
 * the session's move() refuses before a byte is sent when MOVE is not
 * announced, and sends UID MOVE itself when it is.
 */
let server: HostileServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A server announcing `capabilities`, with INBOX holding UID 7; records every verb it is sent after LOGIN. */
async function serve(capabilities: string, verbs: string[]): Promise<HostileServer> {
  return startHostile(async (c) => {
    c.write(GREETING.replace('IMAP4rev1 LITERAL+', capabilities));
    const login = await afterCapability(c, capabilities);
    c.write(`${login.tag} OK [CAPABILITY ${capabilities}] logged in\r\n`);
    for (;;) {
      const cmd = await c.command().catch(() => undefined);
      if (cmd === undefined) return;
      verbs.push(cmd.line.replace(/^\S+ /, ''));
      if (cmd.verb === 'SELECT') c.write(`* 1 EXISTS\r\n* OK [UIDVALIDITY 1] ok\r\n* OK [UIDNEXT 8] ok\r\n${cmd.tag} OK [READ-WRITE] done\r\n`);
      else if (cmd.verb === 'UID' && /^UID MOVE/i.test(cmd.line.replace(/^\S+ /, ''))) {
        c.write(`* OK [COPYUID 1 7 3] moved\r\n* 1 EXPUNGE\r\n${cmd.tag} OK done\r\n`);
      } else c.write(`${cmd.tag} OK done\r\n`);
    }
  });
}

describe('ImapSession.move never emulates MOVE', () => {
  it('without MOVE announced: EMOVE_MISSING, and no COPY, STORE or EXPUNGE goes out', async () => {
    const verbs: string[] = [];
    server = await serve('IMAP4rev1 LITERAL+ UIDPLUS', verbs);
    const session = await ImapSession.open(sessionOptions(server.port));
    await session.open('INBOX', false);
    const error = await session.move(7, 'Archive').then(
      () => undefined,
      (err: unknown) => err,
    );
    await session.noop();
    // Every command after LOGIN was seen (the NOOP after the refusal shows the server was still asked).
    expect(verbs.at(-1)).toBe('NOOP');
    expect(verbs.filter((v) => /^(UID )?(MOVE|COPY|STORE|EXPUNGE)\b/i.test(v))).toEqual([]);
    expect(error).toBeInstanceOf(ImapSessionError);
    expect(error).toMatchObject({ code: 'EMOVE_MISSING' });
    await session.logout();
  });

  it('with MOVE announced: one UID MOVE, and the UID COPYUID names', async () => {
    const verbs: string[] = [];
    server = await serve('IMAP4rev1 LITERAL+ UIDPLUS MOVE', verbs);
    const session = await ImapSession.open(sessionOptions(server.port));
    await session.open('INBOX', false);
    const moved = await session.move(7, 'Archive');
    expect(moved.uidMap?.get(7)).toBe(3);
    expect(verbs.filter((v) => /^(UID )?(MOVE|COPY|STORE|EXPUNGE)\b/i.test(v))).toEqual(['UID MOVE 7 Archive']);
    await session.logout();
  });
});
