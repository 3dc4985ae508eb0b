import { afterEach, describe, expect, it } from 'vitest';
import { Pop3Client } from '../../src/protocols/pop3/client.js';
import { MaildropMemory } from '../../src/protocols/pop3/maildrop-memory.js';
import { Pop3Session } from '../../src/protocols/pop3/session.js';
import { Transcript } from '../../src/transport/transcript.js';
import type { FakeLineServer } from '../support/fake-line-server.js';
import { startFakePop3 } from './fake-pop3.js';

/**
 * How Pop3Session looks for the run's own message in a maildrop full of other
 * mail: newest first, a bounded number of new looks per delivery poll, and
 * never the headers of a message the run has already read (by UIDL).
 */
const RUN = 'run-find-own';
const PASSWORD = 'pw-find-own';
const servers: FakeLineServer[] = [];
const clients: Pop3Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.drop();
  for (const s of servers.splice(0)) await s.close();
});

const foreign = (i: number) => Buffer.from(`Message-ID: <f${i}@elsewhere.test>\r\nSubject: other ${i}\r\n\r\nbody\r\n`);
const own = (id: string) => Buffer.from(`Message-ID: ${id}\r\nX-Mailprobe-Run: ${RUN}\r\nSubject: mine\r\n\r\nbody\r\n`);

async function session(s: FakeLineServer, memory: MaildropMemory): Promise<{ pop3: Pop3Session; tops: () => number }> {
  const transcript = new Transcript();
  const c = await Pop3Client.connect({ host: s.host, port: s.port, security: 'none', transcript, session: 'laptop' });
  clients.push(c);
  await c.login('alice', PASSWORD, 'user');
  const tops = () => transcript.entries.filter((e) => e.direction === 'client' && e.text.startsWith('TOP ')).length;
  return { pop3: new Pop3Session('laptop', c, RUN, () => {}, memory), tops };
}

describe('Pop3Session.findOwn on a big maildrop', () => {
  it('a delivery poll reads a few new messages, newest first; the next poll goes deeper; an arrival costs one TOP', async () => {
    const messages = Array.from({ length: 200 }, (_, i) => foreign(i + 1));
    const s = await startFakePop3({ password: PASSWORD, messages });
    servers.push(s);
    const memory = new MaildropMemory();
    const first = await session(s, memory);
    expect(await first.pop3.findOwn('<mine@run>', { newLooks: 8 })).toBeUndefined();
    expect(first.tops()).toBe(8);
    expect(s.received.filter((l) => l.startsWith('TOP ')).slice(0, 2)).toEqual(['TOP 200 0', 'TOP 199 0']);
    const second = await session(s, memory);
    expect(await second.pop3.findOwn('<mine@run>', { newLooks: 8 })).toBeUndefined();
    expect(second.tops()).toBe(8);
    expect(s.received.filter((l) => l.startsWith('TOP ')).at(8)).toBe('TOP 192 0');
    messages.push(own('<mine@run>'));
    const third = await session(s, memory);
    expect(await third.pop3.findOwn('<mine@run>', { newLooks: 8 })).toEqual({ msg: 201, size: (messages[200] as Buffer).length });
    expect(third.tops()).toBe(1);
  });

  it('reads every message it does not know yet before saying "not there", and none of them again', async () => {
    const s = await startFakePop3({ password: PASSWORD, messages: Array.from({ length: 50 }, (_, i) => foreign(i + 1)) });
    servers.push(s);
    const memory = new MaildropMemory();
    const first = await session(s, memory);
    expect(await first.pop3.findOwn('<absent@run>')).toBeUndefined();
    expect(first.tops()).toBe(50);
    const second = await session(s, memory);
    expect(await second.pop3.findOwn('<absent@run>')).toBeUndefined();
    expect(second.tops()).toBe(0);
  });

  it('a server whose UIDL changes every session gets no shortcut: its headers are read again', async () => {
    let salt = 0;
    const s = await startFakePop3({ password: PASSWORD, messages: Array.from({ length: 20 }, (_, i) => foreign(i + 1)) });
    servers.push(s);
    // One search per session here, so a new salt per UIDL listing is a new one per session.
    s.on('UIDL', (session) => {
      salt++;
      session.write(`+OK\r\n${Array.from({ length: 20 }, (_, i) => `${i + 1} u${i + 1}-${salt}\r\n`).join('')}.\r\n`);
    });
    const memory = new MaildropMemory();
    const first = await session(s, memory);
    expect(await first.pop3.findOwn('<absent@run>')).toBeUndefined();
    const second = await session(s, memory);
    expect(await second.pop3.findOwn('<absent@run>')).toBeUndefined();
    expect(second.tops()).toBe(20);
  });

  it('a message kept under a new unique-id is found, not called gone: the absence checks can fail on such a server', async () => {
    const messages = [...Array.from({ length: 20 }, (_, i) => foreign(i + 1)), own('<kept@run>')];
    const s = await startFakePop3({ password: PASSWORD, messages });
    servers.push(s);
    const memory = new MaildropMemory();
    const first = await session(s, memory);
    expect(await first.pop3.findOwn('<kept@run>')).toEqual({ msg: 21, size: (messages[20] as Buffer).length });
    // The next session's UIDL keeps every other unique-id and gives the run's message a new one
    // (RFC 1939 §7 has a unique-id persist across sessions): it was, say, not deleted at QUIT but rewritten.
    s.on('UIDL', (session) => {
      session.write(`+OK\r\n${messages.map((_, i) => `${i + 1} ${i === 20 ? 'renamed-21' : `uid-${i + 1}`}\r\n`).join('')}.\r\n`);
    });
    const second = await session(s, memory);
    expect(await second.pop3.findOwn('<kept@run>')).toEqual({ msg: 21, size: (messages[20] as Buffer).length });
    // Only the message the run had not read under that unique-id was read: the 20 others are known by UIDL.
    expect(second.tops()).toBe(1);
  });
});

/**
 * A maildrop of thousands of messages: once the run has listed it whole (the baseline its absence checks compare
 * against), a search starts with LIST n, UIDL n and TOP n 0 of the newest messages, where the run's own mail is,
 * and lists the maildrop whole again only when the message is not among them.
 */
describe('Pop3Session.findOwn, newest first in a big maildrop', () => {
  const BIG = 2_000;
  const wholeListings = (s: FakeLineServer) => s.received.filter((l) => l === 'LIST' || l === 'UIDL').length;

  /** A big maildrop of other mail, listed whole once by a search that found nothing. */
  async function listedWholeOnce(): Promise<{ messages: Buffer[]; s: FakeLineServer; memory: MaildropMemory }> {
    const messages = Array.from({ length: BIG }, (_, i) => foreign(i + 1));
    const s = await startFakePop3({ password: PASSWORD, messages });
    servers.push(s);
    const memory = new MaildropMemory();
    expect(await (await session(s, memory)).pop3.findOwn('<other@run>', { newLooks: 1 })).toBeUndefined();
    return { messages, s, memory };
  }

  /** The same, then the run's message delivered at its top and found there. */
  async function foundOnceAtTheTop(): Promise<{ messages: Buffer[]; s: FakeLineServer; memory: MaildropMemory }> {
    const { messages, s, memory } = await listedWholeOnce();
    messages.push(own('<mine@run>'));
    expect(await (await session(s, memory)).pop3.findOwn('<mine@run>')).toEqual({ msg: BIG + 1, size: (messages[BIG] as Buffer).length });
    return { messages, s, memory };
  }

  it('after the first search has listed the maildrop whole, the next finds the newest message for a few lines', async () => {
    const messages = Array.from({ length: BIG }, (_, i) => foreign(i + 1));
    const s = await startFakePop3({ password: PASSWORD, messages });
    servers.push(s);
    const memory = new MaildropMemory();
    const first = await session(s, memory);
    expect(await first.pop3.findOwn('<mine@run>', { newLooks: 8 })).toBeUndefined();
    expect(wholeListings(s)).toBe(2);
    messages.push(own('<mine@run>'));
    const second = await session(s, memory);
    const sent = s.received.length;
    expect(await second.pop3.findOwn('<mine@run>')).toEqual({ msg: BIG + 1, size: (messages[BIG] as Buffer).length });
    expect(s.received.slice(sent)).toEqual(['STAT', `LIST ${BIG + 1}`, `UIDL ${BIG + 1}`, `TOP ${BIG + 1} 0`]);
  });

  it('a message deeper than the newest ones, and one that is gone, are still searched for in the whole listing', async () => {
    const messages = [
      ...Array.from({ length: BIG }, (_, i) => foreign(i + 1)),
      own('<deep@run>'),
      ...Array.from({ length: 100 }, (_, i) => foreign(BIG + i + 2)),
    ];
    const s = await startFakePop3({ password: PASSWORD, messages });
    servers.push(s);
    const memory = new MaildropMemory();
    expect(await (await session(s, memory)).pop3.findOwn('<other@run>', { newLooks: 1 })).toBeUndefined();
    const deep = await session(s, memory);
    expect(await deep.pop3.findOwn('<deep@run>')).toEqual({ msg: BIG + 1, size: (messages[BIG] as Buffer).length });
    expect(wholeListings(s)).toBe(4);
    // Gone: the newest are looked at, then the whole listing, and only messages never read before get a TOP.
    const gone = await session(s, memory);
    expect(await gone.pop3.findOwn('<gone@run>')).toBeUndefined();
    expect(wholeListings(s)).toBe(6);
  });

  it('a message found before and gone since costs no TOP: the newest were listed whole before, so none of them is it', async () => {
    const { messages, s, memory } = await foundOnceAtTheTop();
    messages.pop();
    const gone = await session(s, memory);
    expect(await gone.pop3.findOwn('<mine@run>')).toBeUndefined();
    expect(gone.tops()).toBe(0);
    expect(wholeListings(s)).toBe(4);
  });

  it('a message found before and kept under a new unique-id among the newest is still read, and found', async () => {
    const { messages, s, memory } = await foundOnceAtTheTop();
    // RFC 1939 §7 has the unique-id persist across sessions; this server hands the message a new one.
    const uidOf = (n: number) => (n === BIG + 1 ? 'renamed' : `uid-${n}`);
    s.on('UIDL', (line, args) => {
      if (args) line.write(`+OK ${args} ${uidOf(Number(args))}\r\n`);
      else line.write(`+OK\r\n${messages.map((_, i) => `${i + 1} ${uidOf(i + 1)}\r\n`).join('')}.\r\n`);
    });
    const again = await session(s, memory);
    expect(await again.pop3.findOwn('<mine@run>')).toEqual({ msg: BIG + 1, size: (messages[BIG] as Buffer).length });
    expect(again.tops()).toBe(1);
    expect(wholeListings(s)).toBe(2);
  });

  it('counts the messages this session marked as deleted: STAT leaves them out, their numbers stay taken', async () => {
    const { messages, s, memory } = await listedWholeOnce();
    messages.push(own('<mine@run>'));
    const second = await session(s, memory);
    await second.pop3.client.dele(3);
    const sent = s.received.length;
    expect(await second.pop3.findOwn('<mine@run>')).toEqual({ msg: BIG + 1, size: (messages[BIG] as Buffer).length });
    // STAT says BIG messages; the newest is BIG + 1, and it is the first looked at.
    expect(s.received.slice(sent, sent + 2)).toEqual(['STAT', `LIST ${BIG + 1}`]);
    expect(wholeListings(s)).toBe(2);
  });

  it("takes the highest message number from a STAT that was the session's last command, and asks again after any other", async () => {
    const { messages, s, memory } = await listedWholeOnce();
    messages.push(own('<mine@run>'));
    const second = await session(s, memory);
    expect(await second.pop3.client.stat()).toMatchObject({ count: BIG + 1 });
    const sent = s.received.length;
    expect(await second.pop3.findOwn('<mine@run>')).toEqual({ msg: BIG + 1, size: (messages[BIG] as Buffer).length });
    // The scenario's own STAT was the last command: the search starts at once with the newest message.
    expect(s.received.slice(sent)).toEqual([`LIST ${BIG + 1}`, `UIDL ${BIG + 1}`, `TOP ${BIG + 1} 0`]);
    const third = await session(s, memory);
    await third.pop3.client.stat();
    await third.pop3.client.noop();
    const sentThird = s.received.length;
    expect(await third.pop3.findOwn('<mine@run>')).toEqual({ msg: BIG + 1, size: (messages[BIG] as Buffer).length });
    // A NOOP came between: that STAT is not reused.
    expect(s.received.slice(sentThird, sentThird + 2)).toEqual(['STAT', `LIST ${BIG + 1}`]);
  });

  it('a STAT answered before a DELE is not reused: STAT is asked again, and the deleted message keeps its number', async () => {
    const { messages, s, memory } = await listedWholeOnce();
    messages.push(own('<mine@run>'));
    const second = await session(s, memory);
    await second.pop3.client.stat();
    await second.pop3.client.dele(3);
    const sent = s.received.length;
    expect(await second.pop3.findOwn('<mine@run>')).toEqual({ msg: BIG + 1, size: (messages[BIG] as Buffer).length });
    expect(s.received.slice(sent, sent + 2)).toEqual(['STAT', `LIST ${BIG + 1}`]);
  });

  it('without PIPELINING the same commands go one at a time', async () => {
    const messages = Array.from({ length: BIG }, (_, i) => foreign(i + 1));
    const s = await startFakePop3({ password: PASSWORD, messages, capabilities: ['USER', 'TOP', 'UIDL'] });
    servers.push(s);
    const memory = new MaildropMemory();
    expect(await (await session(s, memory)).pop3.findOwn('<other@run>', { newLooks: 1 })).toBeUndefined();
    messages.push(foreign(BIG + 1), own('<mine@run>'), foreign(BIG + 3));
    const second = await session(s, memory);
    expect(await second.pop3.findOwn('<mine@run>')).toEqual({ msg: BIG + 2, size: (messages[BIG + 1] as Buffer).length });
    expect(second.tops()).toBe(2);
    expect(wholeListings(s)).toBe(2);
  });
});
