import { afterEach, describe, expect, it } from 'vitest';
import { subscriptionGone, subscriptionReader } from '../../src/actions/imap-gone.js';
import { ImapRawClient } from '../../src/protocols/imap/raw/index.js';
import { Transcript } from '../../src/transport/transcript.js';
import { startFakeImap, type FakeImap } from './fake-imap.js';

/**
 * Cleanup's check that a subscription is gone, against a scripted server: by
 * LSUB of the exact name (RFC 3501 §6.3.9), or, on a server that refuses LSUB,
 * by LIST (SUBSCRIBED) (what RFC 9051 §6.3.7 says returns the subscribed set). A subscription outlives its folder,
 * so only a listing of subscriptions can show it.
 */
const servers: FakeImap[] = [];
const clients: ImapRawClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.drop();
  for (const s of servers.splice(0)) await s.close();
});

/** The verbs the fake server was sent, in order. */
let sent: string[] = [];

async function connect(lsub: string[] | 'BAD', list: string[] | 'BAD' = []): Promise<ImapRawClient> {
  sent = [];
  const answer = (lines: string[] | 'BAD', tag: string, what: string) =>
    lines === 'BAD' ? `${tag} BAD Unknown command\r\n` : `${lines.map((l) => `${l}\r\n`).join('')}${tag} OK ${what} completed\r\n`;
  const server = await startFakeImap({
    capabilities: ['IMAP4rev1'],
    commands: {
      LSUB: (s, tag) => {
        sent.push('LSUB');
        s.write(answer(lsub, tag, 'Lsub'));
      },
      LIST: (s, tag) => {
        sent.push('LIST');
        s.write(answer(list, tag, 'List'));
      },
    },
  });
  servers.push(server);
  const client = await ImapRawClient.connect({ host: server.host, port: server.port, security: 'none', transcript: new Transcript(), session: 'check' });
  clients.push(client);
  return client;
}

const NAME = 'mailprobe-r/projects/archive-2026';

describe('checks by name that cleanup removed a subscription', () => {
  it.each([
    { case: 'LSUB lists it (folder gone, subscription left)', lsub: [`* LSUB (\\Noselect) "/" ${NAME}`], list: [], gone: false, why: /still subscribed/ },
    { case: 'LSUB lists it quoted', lsub: [`* LSUB () "/" "${NAME}"`], list: [], gone: false, why: /still subscribed/ },
    { case: 'LSUB lists nothing', lsub: [], list: [], gone: true, why: undefined },
    { case: 'LSUB lists only another name', lsub: [`* LSUB () "/" ${NAME}-2`], list: [], gone: true, why: undefined },
    {
      case: 'no LSUB; LIST (SUBSCRIBED) shows it \\Subscribed',
      lsub: 'BAD',
      list: [`* LIST (\\NonExistent \\Subscribed) "/" ${NAME}`],
      gone: false,
      why: /still subscribed/,
    },
    { case: 'no LSUB; LIST (SUBSCRIBED) shows nothing', lsub: 'BAD', list: [], gone: true, why: undefined },
    { case: 'neither LSUB nor LIST (SUBSCRIBED)', lsub: 'BAD', list: 'BAD', gone: false, why: /could not be checked/ },
  ] as const)('$case', async ({ lsub, list, gone, why }) => {
    const verdict = await subscriptionGone(await connect(lsub as string[] | 'BAD', list as string[] | 'BAD'), NAME);
    expect(verdict.gone).toBe(gone);
    if (!verdict.gone && why) expect(verdict.why).toMatch(why);
  });
});

describe('cleanup checks many subscriptions on one connection', () => {
  it('asks LSUB once: after a refusal answered by LIST (SUBSCRIBED), the other names go to LIST (SUBSCRIBED) only', async () => {
    const raw = await connect('BAD', [`* LIST (\\Subscribed) "/" ${NAME}`]);
    const read = subscriptionReader(raw);
    expect(await subscriptionGone(raw, NAME, read)).toMatchObject({ gone: false, why: expect.stringMatching(/still subscribed/) });
    expect(await subscriptionGone(raw, `${NAME}-2`, read)).toEqual({ gone: true });
    expect(await subscriptionGone(raw, `${NAME}-3`, read)).toEqual({ gone: true });
    expect(sent).toEqual(['LSUB', 'LIST', 'LIST', 'LIST']);
  });

  it('keeps asking LSUB while the server answers it', async () => {
    const raw = await connect([]);
    const read = subscriptionReader(raw);
    for (const name of [NAME, `${NAME}-2`]) expect(await subscriptionGone(raw, name, read)).toEqual({ gone: true });
    expect(sent).toEqual(['LSUB', 'LSUB']);
  });

  it('says both refusals when LIST (SUBSCRIBED) fails too, later as well', async () => {
    const raw = await connect('BAD', 'BAD');
    const read = subscriptionReader(raw);
    for (const name of [NAME, `${NAME}-2`]) {
      const verdict = await subscriptionGone(raw, name, read);
      expect(verdict).toMatchObject({ gone: false, why: expect.stringMatching(/LSUB answered BAD .*; LIST \(SUBSCRIBED\) answered BAD/) });
    }
    // Nothing learnt from a LIST (SUBSCRIBED) that failed too: LSUB is asked again.
    expect(sent).toEqual(['LSUB', 'LIST', 'LSUB', 'LIST']);
  });
});
