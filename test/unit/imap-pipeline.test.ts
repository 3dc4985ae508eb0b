import { afterEach, describe, expect, it } from 'vitest';
import { ImapRawClient } from '../../src/protocols/imap/raw/index.js';
import { Transcript } from '../../src/transport/transcript.js';
import { FakeLineServer, type FakeSession } from '../support/fake-line-server.js';

/** Waits for `n` pipelined commands, then lets `answer` reply to them all (in any order it likes). */
async function server(n: number, answer: (s: FakeSession, lines: string[]) => Promise<void>): Promise<FakeLineServer> {
  const held: string[] = [];
  return FakeLineServer.start({
    greeting: '* OK [CAPABILITY IMAP4rev1] fake\r\n',
    fallback: async (s, _args, line) => {
      held.push(line);
      if (held.length === n) await answer(s, held.splice(0));
    },
  });
}

let fake: FakeLineServer | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function connect(port: number): Promise<ImapRawClient> {
  return ImapRawClient.connect({ host: '127.0.0.1', port, security: 'none', transcript: new Transcript(), session: 't' });
}

describe('ImapRawClient.pipeline', () => {
  it('writes every command before reading, and matches each tagged answer to its command whatever the order', async () => {
    let seenTogether: string[] = [];
    fake = await server(3, async (s, lines) => {
      seenTogether = lines;
      const tags = lines.map((l) => l.split(' ')[0] as string);
      // Completed last to first; the STORE is refused.
      await s.write(`* 1 FETCH (UID 9 BODY[] {2}\r\nhi)\r\n${tags[2]} OK fetched\r\n`);
      await s.write(`${tags[1]} NO [CANNOT] store refused\r\n`);
      await s.write(`${tags[0]} OK noop\r\n`);
    });
    const client = await connect(fake.port);
    const results = await client.pipeline(['NOOP', 'UID STORE 3 +FLAGS.SILENT (\\Flagged)', 'UID FETCH 9 (BODY.PEEK[])']);
    expect(seenTogether.map((l) => l.split(' ').slice(1).join(' '))).toEqual(['NOOP', 'UID STORE 3 +FLAGS.SILENT (\\Flagged)', 'UID FETCH 9 (BODY.PEEK[])']);
    expect(results.map((r) => [r.response.status, r.response.text])).toEqual([
      ['OK', 'noop'],
      ['NO', 'store refused'],
      ['OK', 'fetched'],
    ]);
    expect(results[1]!.response.code).toBe('CANNOT');
    // The untagged FETCH came while the oldest command (NOOP) was in flight: it is listed there.
    expect(results[0]!.response.untagged.some((u) => u.kind === 'FETCH' && u.literals.length === 1)).toBe(true);
    for (const r of results) expect(r.answeredAt).toBeGreaterThanOrEqual(r.sentAt);
    client.drop();
  });

  it('a tagged answer with a tag no command in flight has is a protocol error, and the connection is dropped', async () => {
    fake = await server(2, async (s, lines) => {
      await s.write(`${lines[0]!.split(' ')[0]} OK one\r\nZ999 OK stray\r\n`);
    });
    const client = await connect(fake.port);
    await expect(client.pipeline(['NOOP', 'NOOP'])).rejects.toMatchObject({ code: 'EIMAP_TAG' });
    expect(client.closed).toBe(true);
  });

  it('refuses a command with CR or LF before writing anything', async () => {
    fake = await server(1, async () => {});
    const client = await connect(fake.port);
    await expect(client.pipeline(['NOOP\r\nA1 LOGOUT'])).rejects.toMatchObject({ code: 'EIMAP_ARGUMENT' });
    expect(fake.sessions[0]!.received).toEqual([]);
    client.drop();
  });
});
