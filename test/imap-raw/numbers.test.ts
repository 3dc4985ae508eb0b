import { afterEach, describe, expect, it } from 'vitest';
import { ImapRawClient } from '../../src/protocols/imap/raw/client.js';
import { ImapRawProtocolError } from '../../src/protocols/imap/raw/errors.js';
import { classifyError } from '../../src/runner/classify.js';
import { Transcript } from '../../src/transport/transcript.js';
import { rejection } from '../support/expect-helpers.js';
import { startFakeImap, type FakeImap } from './fake-imap.js';

/**
 * RFC 9051 §9: number = 1*DIGIT (unsigned 32-bit), nz-number (non-zero);
 * RFC 7162 §7: mod-sequence-value (positive 63-bit). A number outside its
 * rule is a malformed response: a failed check citing the rule.
 */
const servers: FakeImap[] = [];
const clients: ImapRawClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.drop();
  for (const s of servers.splice(0)) await s.close();
});

async function examineAnswering(untagged: string): Promise<ImapRawClient> {
  const imap = await startFakeImap({
    greeting: '* OK [CAPABILITY IMAP4rev1] ready\r\n',
    commands: { EXAMINE: (s, tag) => s.write(`${untagged}\r\n${tag} OK [READ-ONLY] done\r\n`) },
  });
  servers.push(imap);
  const client = await ImapRawClient.connect({ host: imap.host, port: imap.port, security: 'none', transcript: new Transcript(), session: 'laptop' });
  clients.push(client);
  return client;
}

describe('raw IMAP numbers follow RFC 9051 §9 and RFC 7162 §7', () => {
  it.each([
    ['* 99999999999 EXISTS', /99999999999 is not a number/, /^RFC 9051 §9: number = 1\*DIGIT/],
    ['* -1 EXISTS', /"-1" is not a number/, /^RFC 9051 §9: number/],
    ['* 0 EXPUNGE', /0 is not a nz-number/, /^RFC 9051 §9: nz-number/],
    ['* OK [UIDVALIDITY 99999999999999999999999] UIDs valid', /UIDVALIDITY: 99999999999999999999999 is not a nz-number/, /nz-number/],
    ['* OK [UIDNEXT -5] next', /UIDNEXT: "-5" is not a nz-number/, /nz-number/],
    ['* OK [HIGHESTMODSEQ 9223372036854775808] modseq', /HIGHESTMODSEQ: 9223372036854775808 is not a mod-sequence-value/, /^RFC 7162 §7: mod-sequence-value/],
    ['* SEARCH 3 0', /SEARCH: 0 is not a nz-number/, /nz-number/],
    ['* 1 FETCH (UID 0 FLAGS (\\Seen))', /FETCH UID: 0 is not a nz-number/, /^RFC 9051 §9: nz-number/],
    ['* 1 FETCH (RFC822.SIZE 1e9)', /FETCH RFC822.SIZE: "1e9" is not a number64/, /^RFC 9051 §9: number64/],
    ['* 1 FETCH (UID 7 MODSEQ (-3))', /FETCH MODSEQ: "-3" is not a mod-sequence-value/, /^RFC 7162 §7/],
  ])('%s is a failed malformed-response check', async (line, problem, clause) => {
    const client = await examineAnswering(line);
    const error = await rejection(client.command('EXAMINE INBOX'), ImapRawProtocolError);
    expect(error.code).toBe('EIMAP_MALFORMED');
    expect(error.message).toMatch(problem);
    expect(error.clause).toMatch(clause);
    expect(classifyError(error)).toMatchObject({ kind: 'failed', check: { passed: false, rfc: error.clause } });
    expect(client.closed).toBe(true);
  });

  it('numbers at the edges of their ranges are accepted', async () => {
    const client = await examineAnswering(
      '* 4294967295 EXISTS\r\n* 0 RECENT\r\n* OK [UIDVALIDITY 4294967295] ok\r\n* OK [HIGHESTMODSEQ 9223372036854775807] ok\r\n* SEARCH 1 4294967295',
    );
    const response = await client.command('EXAMINE INBOX');
    expect(response.status).toBe('OK');
    expect(response.untagged.map((u) => u.number)).toEqual([4294967295, 0, undefined, undefined, undefined]);
  });

  it('FETCH numbers inside quoted strings are text, not numbers', async () => {
    const client = await examineAnswering(
      '* 1 FETCH (UID 4294967295 RFC822.SIZE 9223372036854775807 MODSEQ (1) ENVELOPE (NIL "UID -5 (MODSEQ (0))" NIL NIL NIL NIL NIL NIL NIL NIL) BODY[HEADER.FIELDS (UID DATE)] {0})',
    );
    const response = await client.command('EXAMINE INBOX');
    expect(response.status).toBe('OK');
  });
});
