import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ImapRawClient, type ImapRawConnectOptions } from '../../src/protocols/imap/raw/client.js';
import { ImapRawProtocolError } from '../../src/protocols/imap/raw/errors.js';
import { TransportError } from '../../src/transport/errors.js';
import { Transcript } from '../../src/transport/transcript.js';
import type { FakeSession } from '../support/fake-line-server.js';
import { testCerts, type TestCerts } from '../support/test-certs.js';
import { startFakeImap, type FakeImap, type FakeImapOptions } from './fake-imap.js';
import { rejection } from '../support/expect-helpers.js';

const PASSWORD = 'S3cr3t-Pa55!';

let certs: TestCerts;
const servers: FakeImap[] = [];
const clients: ImapRawClient[] = [];

beforeAll(async () => {
  certs = await testCerts();
  return () => certs.cleanup();
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.drop();
  for (const s of servers.splice(0)) await s.close();
});

async function fake(options: FakeImapOptions = {}): Promise<FakeImap> {
  const s = await startFakeImap({ password: PASSWORD, ...options });
  servers.push(s);
  return s;
}

async function client(s: FakeImap, extra: Partial<ImapRawConnectOptions> = {}): Promise<ImapRawClient> {
  const c = await ImapRawClient.connect({
    host: s.host,
    port: s.port,
    security: 'none',
    transcript: new Transcript(),
    session: 'laptop',
    ...extra,
  });
  clients.push(c);
  return c;
}

function allText(transcript: Transcript): string {
  return transcript.entries.map((e) => `${e.direction} ${e.text}`).join('\n');
}

/** Collect the client's next lines until `octets` of literal plus the final line have arrived. */
function readLiteral(imap: FakeImap, s: FakeSession, octets: number, done: (literal: Buffer, rest: string) => void): void {
  const parts: string[] = [];
  const next = (line: string): void => {
    parts.push(line);
    const joined = Buffer.from(parts.join('\r\n'), 'utf8');
    if (joined.length < octets) return imap.expectLine(s, next);
    done(joined.subarray(0, octets), joined.subarray(octets).toString('utf8'));
  };
  imap.expectLine(s, next);
}

describe('ImapRawClient: greeting and capabilities', () => {
  it('keeps the greeting and its [CAPABILITY] code without asking again', async () => {
    const s = await fake();
    const c = await client(s);
    expect(c.greeting).toEqual({
      status: 'OK',
      code: 'CAPABILITY IMAP4rev1 LITERAL+ IDLE LOGINDISABLED',
      text: 'fake IMAP ready',
      raw: '* OK [CAPABILITY IMAP4rev1 LITERAL+ IDLE LOGINDISABLED] fake IMAP ready',
    });
    expect(c.capabilities).toEqual(['IMAP4rev1', 'LITERAL+', 'IDLE', 'LOGINDISABLED']);
    expect(s.received).toEqual([]);
    expect(c.timings.greeting).toBeTypeOf('number');
  });

  it('asks CAPABILITY when the greeting has none, and accepts PREAUTH', async () => {
    const s = await fake({ greeting: '* PREAUTH [ALERT] already in\r\n', capabilities: ['IMAP4rev1', 'MOVE'] });
    const c = await client(s);
    expect(c.greeting).toMatchObject({ status: 'PREAUTH', code: 'ALERT', text: 'already in' });
    expect(s.received).toEqual(['A001 CAPABILITY']);
    expect(c.capabilities).toEqual(['IMAP4rev1', 'MOVE']);
    expect(c.hasCapability('move')).toBe(true);
  });

  it('turns a BYE greeting into EIMAP_BYE, broken IMAP into EIMAP_GREETING, and bytes of no IMAP shape into a wrong port', async () => {
    const bye = await fake({ greeting: '* BYE [UNAVAILABLE] too many connections\r\n' });
    const e1 = await rejection(client(bye), ImapRawProtocolError);
    expect(e1.code).toBe('EIMAP_BYE');
    expect(e1.response).toBe('* BYE [UNAVAILABLE] too many connections');
    // A POP3 greeting is a wrong port (errored with a hint), not broken IMAP.
    const pop = await fake({ greeting: '+OK this is POP3\r\n' });
    const e2 = await rejection(client(pop), TransportError);
    expect(e2.code).toBe('EWRONG_PROTOCOL');
    const garbage = await fake({ greeting: 'HELLO there\r\n' });
    const e3 = await rejection(client(garbage), TransportError);
    expect(e3.code).toBe('EWRONG_PROTOCOL');
    expect(e3.message).toContain('does not speak IMAP');
    const untagged = await fake({ greeting: '* HELLO there\r\n' });
    expect((await rejection(client(untagged), ImapRawProtocolError)).code).toBe('EIMAP_GREETING');
    const tagged = await fake({ greeting: 'A001 OK hello\r\n' });
    expect((await rejection(client(tagged), ImapRawProtocolError)).code).toBe('EIMAP_GREETING');
  });
});

describe('ImapRawClient: framing and untagged responses', () => {
  it('parses untagged EXISTS/EXPUNGE/FETCH with literals, every byte in its own read', async () => {
    const body = Buffer.from('Subject: hi\r\n\r\nbody {2}\r\n');
    const reply = Buffer.concat([
      Buffer.from(`* 3 EXISTS\r\n* 2 EXPUNGE\r\n* 1 FETCH (FLAGS (\\Seen) BODY[] {${body.length}}\r\n`),
      body,
      Buffer.from(' BODY[HEADER] {0}\r\n BINARY[1] ~{3}\r\nabc)\r\n* ok [ALERT] hi\r\n'),
    ]);
    const s = await fake({
      commands: { NOOP: (session, tag) => session.writeSplit(Buffer.concat([reply, Buffer.from(`${tag} OK NOOP done\r\n`)]), 'bytewise') },
    });
    const transcript = new Transcript();
    const c = await client(s, { transcript });
    const response = await c.noop();
    expect(response).toMatchObject({ tag: 'A001', status: 'OK', text: 'NOOP done' });
    expect(response.untagged.map((u) => [u.kind, u.number])).toEqual([
      ['EXISTS', 3],
      ['EXPUNGE', 2],
      ['FETCH', 1],
      ['OK', undefined],
    ]);
    const fetch = response.untagged[2];
    expect(fetch?.raw).toBe(`* 1 FETCH (FLAGS (\\Seen) BODY[] {${body.length}} BODY[HEADER] {0} BINARY[1] ~{3})`);
    expect(fetch?.literals).toEqual([body, Buffer.alloc(0), Buffer.from('abc')]);
    expect(response.untagged[3]).toMatchObject({ kind: 'OK', code: 'ALERT', text: 'hi', literals: [] });
    const text = allText(transcript);
    expect(text).toContain(`server [literal: ${body.length} octets]`);
    expect(text).not.toContain('Subject: hi');
  });

  it('keeps unsolicited responses sent between commands for the next command', async () => {
    const s = await fake({ greeting: '* OK hi\r\n', capabilities: ['IMAP4rev1'] });
    const c = await client(s);
    await s.server.sessions[0]?.write('* 4 EXISTS\r\n');
    const response = await c.noop();
    expect(response.untagged.map((u) => u.raw)).toEqual(['* 4 EXISTS']);
  });

  it('returns tagged NO and BAD with their codes instead of throwing', async () => {
    const s = await fake({
      commands: {
        SELECT: (session, tag) => session.write(`${tag} NO [NONEXISTENT] Mailbox doesn't exist: Nope\r\n`),
      },
    });
    const c = await client(s);
    expect(await c.select('Nope')).toEqual({ tag: 'A001', status: 'NO', code: 'NONEXISTENT', text: "Mailbox doesn't exist: Nope", untagged: [] });
    const move = await c.command('UID MOVE 1:* Archive');
    expect(move).toMatchObject({ tag: 'A002', status: 'BAD', text: 'Unknown command' });
    expect(move.code).toBeUndefined();
    expect(s.received).toEqual(['A001 SELECT Nope', 'A002 UID MOVE 1:* Archive']);
  });

  it('throws EIMAP_BYE when the server says BYE during a command, and the client is then closed', async () => {
    const s = await fake({ commands: { NOOP: (session) => session.write('* BYE [UNAVAILABLE] shutting down\r\n') } });
    const c = await client(s);
    const error = await rejection(c.noop(), ImapRawProtocolError);
    expect(error.code).toBe('EIMAP_BYE');
    expect(error.message).toContain('shutting down');
    expect(c.closed).toBe(true);
  });

  it('accepts BYE during LOGOUT and returns it with the tagged OK', async () => {
    const s = await fake();
    const c = await client(s);
    const response = await c.logout();
    expect(response.status).toBe('OK');
    expect(response.untagged.map((u) => u.kind)).toEqual(['BYE']);
    expect(c.closed).toBe(true);
  });

  it('rejects promptly (ECLOSED, not a timeout) when the connection closes mid-literal', async () => {
    const s = await fake({
      commands: {
        NOOP: async (session) => {
          await session.write('* 1 FETCH (BODY[] {100}\r\nonly part of it');
          session.destroy();
        },
      },
    });
    const c = await client(s, { timeouts: { command: 25_000 } });
    const error = await rejection(c.noop(), TransportError);
    expect(error.code).toBe('ECLOSED');
    expect(c.closed).toBe(true);
  });

  it('drops the connection with ELIMIT for a literal over maxMessageBytes, before reading it', async () => {
    const s = await fake({ commands: { NOOP: (session) => session.write('* 1 FETCH (BODY[] {4096}\r\n') } });
    const c = await client(s, { limits: { maxMessageBytes: 1024 } });
    const error = await rejection(c.noop(), TransportError);
    expect(error.code).toBe('ELIMIT');
    expect(error.message).toContain('a literal of 4096 octets');
    expect(c.closed).toBe(true);
  });

  it('enforces the per-command octet bound across several literals', async () => {
    const s = await fake({
      commands: { NOOP: (session, tag) => session.write(`* 1 FETCH (A {600}\r\n${'a'.repeat(600)} B {600}\r\n${'b'.repeat(600)})\r\n${tag} OK\r\n`) },
    });
    const c = await client(s, { imapLimits: { maxCommandBytes: 1000 } });
    expect((await rejection(c.noop(), TransportError)).code).toBe('ELIMIT');
  });

  it('refuses a tagged response with a tag it did not send (EIMAP_TAG) and a malformed line (EIMAP_MALFORMED)', async () => {
    const s = await fake({ commands: { NOOP: (session) => session.write('A999 OK stray\r\n') } });
    expect((await rejection((await client(s)).noop(), ImapRawProtocolError)).code).toBe('EIMAP_TAG');
    const m = await fake({ commands: { NOOP: (session) => session.write('garbage\r\n') } });
    expect((await rejection((await client(m)).noop(), ImapRawProtocolError)).code).toBe('EIMAP_MALFORMED');
  });
});

describe('ImapRawClient: STARTTLS and LOGIN', () => {
  it('sees LOGINDISABLED on the plain port and not after STARTTLS (verified TLS)', async () => {
    const s = await fake({ greeting: '* OK ready\r\n', starttls: certs.localhost });
    const transcript = new Transcript();
    const c = await client(s, { security: 'starttls', tls: { ca: certs.ca }, transcript });
    expect(c.preTlsCapabilities).toEqual(['IMAP4rev1', 'LITERAL+', 'IDLE', 'LOGINDISABLED', 'STARTTLS']);
    expect(c.capabilities).toEqual(['IMAP4rev1', 'LITERAL+', 'IDLE']);
    expect(c.tlsInfo?.authorized).toBe(true);
    expect(s.received).toEqual(['A001 CAPABILITY', 'A002 STARTTLS', 'A003 CAPABILITY']);
    expect(s.server.sessions[0]?.secure).toBe(true);
    const login = await c.login('alice', PASSWORD);
    expect(login).toMatchObject({ status: 'OK', code: 'CAPABILITY IMAP4rev1 IDLE MOVE' });
    expect(c.capabilities).toEqual(['IMAP4rev1', 'IDLE', 'MOVE']);
    expect(allText(transcript)).toContain('TLS established (starttls)');
    // The lines inside TLS are marked so (--verbose shows them as ~> and <~); those before it are not.
    const marked = transcript.entries.filter((e) => e.direction !== 'info').map((e) => `${e.tls === true ? 'tls' : 'clear'} ${e.text}`);
    expect(marked).toContain('clear A002 STARTTLS');
    expect(marked).toContain('tls A003 CAPABILITY');
    expect(marked.filter((l) => l.startsWith('tls A004 LOGIN'))).toHaveLength(1);
  });

  it('refuses LOGIN locally while LOGINDISABLED is advertised', async () => {
    const s = await fake();
    const c = await client(s);
    const error = await rejection(c.login('alice', PASSWORD), ImapRawProtocolError);
    expect(error.code).toBe('EIMAP_STATE');
    expect(s.received).toEqual([]);
  });

  it('refuses to upgrade when the server sends anything after its OK to STARTTLS', async () => {
    const s = await fake({
      greeting: '* OK ready\r\n',
      starttls: certs.localhost,
      commands: { STARTTLS: (session, tag) => session.startTls(`${tag} OK Begin TLS\r\n* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n`) },
    });
    const error = await rejection(client(s, { security: 'starttls', tls: { ca: certs.ca } }), TransportError);
    expect(error.code).toBe('ESTARTTLS');
    expect(error.message).toContain('CVE-2011-0411');
  });

  it('fails with ESTARTTLS when STARTTLS is not advertised', async () => {
    const s = await fake({ greeting: '* OK ready\r\n' });
    expect((await rejection(client(s, { security: 'starttls' }), TransportError)).code).toBe('ESTARTTLS');
  });

  it('redacts the `secret` of a raw command in the transcript but sends it', async () => {
    const s = await fake({ capabilities: ['IMAP4rev1'], greeting: '* OK ready\r\n' });
    const transcript = new Transcript();
    const c = await client(s, { transcript });
    expect((await c.command(`LOGIN alice ${PASSWORD}`, { secret: PASSWORD })).status).toBe('OK');
    expect(s.received).toContain(`A002 LOGIN alice ${PASSWORD}`);
    expect(allText(transcript)).toContain('client A002 LOGIN alice [redacted]');
    expect(allText(transcript)).not.toContain(PASSWORD);
  });

  it('never writes the LOGIN password to the transcript, quoted or as a literal', async () => {
    const quotedPassword = 'pa ss"word\\';
    const s = await fake({ capabilities: ['IMAP4rev1'], greeting: '* OK ready\r\n', password: quotedPassword });
    const transcript = new Transcript();
    const c = await client(s, { transcript });
    expect((await c.login('alice', quotedPassword)).status).toBe('OK');
    expect(s.received).toContain('A002 LOGIN alice "pa ss\\"word\\\\"');

    const utf8Password = 'pässwörd-ÄÖÜ';
    s.on('LOGIN', (session, tag, args, imap) => {
      const size = Number(/\{(\d+)\}$/.exec(args)?.[1]);
      readLiteral(imap, session, size, (literal) => session.write(literal.toString('utf8') === utf8Password ? `${tag} OK in\r\n` : `${tag} NO wrong\r\n`));
      return session.write('+ go ahead\r\n');
    });
    expect((await c.login('alice', utf8Password)).status).toBe('OK');
    const text = allText(transcript);
    expect(text).toContain('client A002 LOGIN alice [redacted]');
    const size = Buffer.byteLength(utf8Password);
    expect(text).toContain(`client A003 LOGIN alice {${size}}`);
    expect(text).toContain(`client [literal: ${size} octets]`);
    for (const secret of [quotedPassword, 'pa ss', utf8Password, 'pässw']) expect(text).not.toContain(secret);
  });
});

describe('ImapRawClient: literals, continuations and IDLE', () => {
  const MESSAGE = Buffer.from('Subject: append\r\nX-Mailprobe-Run: r1\r\n\r\nhello {5}\r\nworld\r\n');

  it('sends a synchronizing literal only after the server says "+"', async () => {
    const s = await fake({ greeting: '* OK ready\r\n', capabilities: ['IMAP4rev1'] });
    // Assertions inside a server handler would be swallowed: record, then check below.
    let seen: { args: string; literal: Buffer; rest: string } | undefined;
    s.on('APPEND', (session, tag, args, imap) => {
      readLiteral(imap, session, MESSAGE.length, (literal, rest) => {
        seen = { args, literal, rest };
        void session.write(`${tag} OK [APPENDUID 1 9] Append completed\r\n`);
      });
      return session.write('+ OK\r\n');
    });
    const transcript = new Transcript();
    const c = await client(s, { transcript });
    const response = await c.append('INBOX', MESSAGE, { flags: ['\\Seen'] });
    expect(response).toMatchObject({ status: 'OK', code: 'APPENDUID 1 9' });
    expect(seen?.args).toBe(`INBOX (\\Seen) {${MESSAGE.length}}`);
    expect(seen?.literal.equals(MESSAGE)).toBe(true);
    expect(seen?.rest).toBe('');
    // The literal went out only after the server's "+": the transcript is in wire order.
    expect(allText(transcript)).toContain(`client A002 APPEND INBOX (\\Seen) {${MESSAGE.length}}\nserver + OK\nclient [literal: ${MESSAGE.length} octets]`);
    expect(allText(transcript)).not.toContain('X-Mailprobe-Run');
  });

  it('uses {n+} without waiting when LITERAL+ is advertised', async () => {
    const s = await fake();
    s.on('APPEND', (session, tag, args, imap) => {
      // No "+" is ever sent: a client waiting for one would time out.
      readLiteral(imap, session, MESSAGE.length, (literal) =>
        session.write(literal.equals(MESSAGE) && args === `Drafts {${MESSAGE.length}+}` ? `${tag} OK done\r\n` : `${tag} NO garbled\r\n`),
      );
    });
    const c = await client(s);
    expect((await c.append('Drafts', MESSAGE)).status).toBe('OK');
    expect(s.received[0]).toBe(`A001 APPEND Drafts {${MESSAGE.length}+}`);
  });

  it('returns the tagged NO when the server refuses a literal, without sending it', async () => {
    const s = await fake({ greeting: '* OK ready\r\n', capabilities: ['IMAP4rev1'] });
    s.on('APPEND', (session, tag) => session.write(`${tag} NO [TRYCREATE] No such mailbox\r\n`));
    const c = await client(s);
    expect(await c.append('Nope', MESSAGE)).toMatchObject({ status: 'NO', code: 'TRYCREATE' });
    expect((await c.noop()).status).toBe('OK');
    expect(s.received.slice(1)).toEqual([`A002 APPEND Nope {${MESSAGE.length}}`, 'A003 NOOP']);
  });

  it('answers AUTHENTICATE challenges through onContinuation, redacting the secret answer', async () => {
    const token = Buffer.from(`\0alice\0${PASSWORD}`).toString('base64');
    const s = await fake();
    s.on('AUTHENTICATE', (session, tag, _args, imap) => {
      imap.expectLine(session, (line) => session.write(line === token ? `${tag} OK authenticated\r\n` : `${tag} NO bad\r\n`));
      return session.write('+ \r\n');
    });
    const transcript = new Transcript();
    const c = await client(s, { transcript });
    const challenges: string[] = [];
    const response = await c.command('AUTHENTICATE PLAIN', {
      onContinuation: (text) => {
        challenges.push(text);
        return { line: token, secret: true };
      },
    });
    expect(response.status).toBe('OK');
    expect(challenges).toEqual(['']);
    expect(allText(transcript)).not.toContain(token);
    // Without a handler, an unexpected "+" cannot be answered: the session is over.
    const again = await client(s);
    expect((await rejection(again.command('AUTHENTICATE PLAIN'), ImapRawProtocolError)).code).toBe('EIMAP_CONTINUATION');
  });

  it('IDLE collects an EXISTS pushed after "+ idling", stamps it, and ends with DONE', async () => {
    const s = await fake();
    s.on('IDLE', async (session, tag, _args, imap) => {
      imap.expectLine(session, (line) => session.write(line === 'DONE' ? `${tag} OK Idle completed\r\n` : `${tag} BAD\r\n`));
      await session.write('+ idling\r\n');
      await session.write('* 1 RECENT\r\n');
      await session.write('* 5 EXISTS\r\n');
    });
    const c = await client(s);
    const before = Date.now();
    const result = await c.idle({ until: (u) => u.kind === 'EXISTS', timeoutMs: 25_000 });
    expect(result.ended).toBe('matched');
    expect(result.response).toMatchObject({ tag: 'A001', status: 'OK', text: 'Idle completed' });
    expect(result.events.map((e) => [e.kind, e.number])).toEqual([
      ['RECENT', 1],
      ['EXISTS', 5],
    ]);
    const exists = result.events[1];
    expect(exists?.at).toBeGreaterThanOrEqual(result.idleStartedAt as number);
    expect(result.idleStartedAt).toBeGreaterThanOrEqual(before);
    expect(s.received).toEqual(['A001 IDLE', 'DONE']);
  });

  it('IDLE ends with DONE after timeoutMs when nothing matches, and reports a refusal', async () => {
    const s = await fake();
    const c = await client(s);
    const result = await c.idle({ until: () => false, timeoutMs: 20 });
    expect(result).toMatchObject({ ended: 'timeout', events: [], response: { status: 'OK' } });
    expect(s.received).toEqual(['A001 IDLE', 'DONE']);
    s.on('IDLE', (session, tag) => session.write(`${tag} BAD IDLE not supported\r\n`));
    const refused = await c.idle({ timeoutMs: 20 });
    expect(refused).toMatchObject({ ended: 'refused', idleStartedAt: undefined, response: { status: 'BAD' } });
  });
});
