import { afterEach, describe, expect, it } from 'vitest';
import { folderGone, messageGone } from '../../src/actions/imap-gone.js';
import { ImapRawClient } from '../../src/protocols/imap/raw/index.js';
import { Transcript } from '../../src/transport/transcript.js';
import { startFakeImap, type FakeImap } from './fake-imap.js';

/**
 * Cleanup's checks by name, against a scripted server: only a NO to STATUS
 * together with an empty LIST of the exact name counts as gone. A name that
 * LIST still shows, even as a \NonExistent or \HasChildren placeholder, holds
 * children this session cannot see.
 */
const servers: FakeImap[] = [];
const clients: ImapRawClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.drop();
  for (const s of servers.splice(0)) await s.close();
});

async function connect(status: string, list: string[], search = '* SEARCH'): Promise<ImapRawClient> {
  const server = await startFakeImap({
    capabilities: ['IMAP4rev1'],
    commands: {
      STATUS: (s, tag) => s.write(status.startsWith('OK') ? `* STATUS x (MESSAGES 0)\r\n${tag} ${status}\r\n` : `${tag} ${status}\r\n`),
      LIST: (s, tag) => s.write(`${list.map((l) => `${l}\r\n`).join('')}${tag} OK List completed\r\n`),
      EXAMINE: (s, tag) => s.write(`* 1 EXISTS\r\n${tag} OK [READ-ONLY] Examine completed\r\n`),
      UID: (s, tag) => s.write(`${search}\r\n${tag} OK Search completed\r\n`),
    },
  });
  servers.push(server);
  const client = await ImapRawClient.connect({ host: server.host, port: server.port, security: 'none', transcript: new Transcript(), session: 'check' });
  clients.push(client);
  return client;
}

describe('checks by name that cleanup removed something', () => {
  it.each([
    { case: 'STATUS NO, nothing listed', status: 'NO [NONEXISTENT] No such mailbox', list: [], gone: true, why: undefined },
    { case: 'STATUS OK', status: 'OK Status completed', list: [], gone: false, why: /still there/ },
    {
      case: 'STATUS NO, listed \\HasChildren',
      status: 'NO No such mailbox',
      list: ['* LIST (\\Noselect \\HasChildren) "/" mailprobe-r'],
      gone: false,
      why: /has children that this session cannot see/,
    },
    {
      case: 'STATUS NO, listed \\NonExistent',
      status: 'NO No such mailbox',
      list: ['* LIST (\\NonExistent) "/" "mailprobe-r"'],
      gone: false,
      why: /has children that this session cannot see/,
    },
    { case: 'STATUS NO, another name listed', status: 'NO No such mailbox', list: ['* LIST (\\HasNoChildren) "/" mailprobe-r2'], gone: true, why: undefined },
    { case: 'STATUS BAD', status: 'BAD what?', list: [], gone: false, why: /could not be checked/ },
  ])('folder: $case', async ({ status, list, gone, why }) => {
    const verdict = await folderGone(await connect(status, list), 'mailprobe-r');
    expect(verdict.gone).toBe(gone);
    if (!verdict.gone && why) expect(verdict.why).toMatch(why);
  });

  it.each([
    { case: 'UID still found', search: '* SEARCH 7', gone: false },
    { case: 'UID not found', search: '* SEARCH', gone: true },
    { case: 'another UID found', search: '* SEARCH 17', gone: true },
  ])('message: $case', async ({ search, gone }) => {
    expect((await messageGone(await connect('OK', [], search), 'INBOX', 7)).gone).toBe(gone);
  });
});
