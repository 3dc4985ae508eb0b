import { createHash } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Pop3Client, type Pop3ConnectOptions } from '../../src/protocols/pop3/client.js';
import { Pop3ProtocolError, Pop3ReplyError } from '../../src/protocols/pop3/errors.js';
import { BODY_PIECE_OCTETS } from '../../src/protocols/pop3/multiline.js';
import { TransportError } from '../../src/transport/errors.js';
import { Transcript } from '../../src/transport/transcript.js';
import type { FakeLineServer } from '../support/fake-line-server.js';
import { testCerts, type TestCerts } from '../support/test-certs.js';
import { multiLine, startFakePop3, type FakePop3Options } from './fake-pop3.js';
import { rejection } from '../support/expect-helpers.js';

const PASSWORD = 'S3cr3t-Pa55!';

// A message with every dot case: a line starting with ".", a line that is
// only ".", one that is "..", non-UTF-8 bytes, a bare CR inside a line.
const TRICKY = Buffer.concat([
  Buffer.from('Subject: dots\r\nX-Mailprobe-Run: r1\r\n\r\n'),
  Buffer.from('.leading dot\r\n.\r\n..\r\nmiddle . dot\r\n'),
  Buffer.from([0xe9, 0xff, 0x00, 0x80, 0x0d, 0x41, 0x0d, 0x0a]),
  Buffer.from('last line\r\n'),
]);
const PLAIN = Buffer.from('Subject: hello\r\n\r\nbody line 1\r\nbody line 2\r\n');

let certs: TestCerts;
const servers: FakeLineServer[] = [];
const clients: Pop3Client[] = [];

beforeAll(async () => {
  certs = await testCerts();
  return () => certs.cleanup();
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.drop();
  for (const s of servers.splice(0)) await s.close();
});

async function fake(options: FakePop3Options = {}): Promise<FakeLineServer> {
  const s = await startFakePop3({ password: PASSWORD, messages: [PLAIN, TRICKY], ...options });
  servers.push(s);
  return s;
}

async function client(s: FakeLineServer, extra: Partial<Pop3ConnectOptions> = {}): Promise<Pop3Client> {
  const c = await Pop3Client.connect({
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
  return transcript.entries.map((e) => e.text).join('\n');
}

describe('Pop3Client basics', () => {
  it('runs a whole session against the fake maildrop', async () => {
    const s = await fake();
    const c = await client(s);
    expect(c.greeting).toBe('+OK fake POP3 ready <4711.1700000000@fake.test>');
    expect(c.apopTimestamp).toBe('<4711.1700000000@fake.test>');
    expect(c.capabilities).toEqual(['USER', 'SASL PLAIN', 'TOP', 'UIDL', 'RESP-CODES', 'PIPELINING']);
    expect(c.saslMechanisms).toEqual(['PLAIN']);
    await c.login('alice', PASSWORD, 'user');
    expect(await c.stat()).toEqual({ count: 2, size: PLAIN.length + TRICKY.length });
    expect(await c.list()).toEqual([
      { msg: 1, size: PLAIN.length },
      { msg: 2, size: TRICKY.length },
    ]);
    expect(await c.listOne(2)).toEqual({ msg: 2, size: TRICKY.length });
    expect(await c.uidl()).toEqual([
      { msg: 1, uid: 'uid-1' },
      { msg: 2, uid: 'uid-2' },
    ]);
    expect(await c.uidlOne(1)).toEqual({ msg: 1, uid: 'uid-1' });
    expect((await c.retr(2)).equals(TRICKY)).toBe(true);
    expect((await c.top(1, 1)).toString()).toBe('Subject: hello\r\n\r\nbody line 1\r\n');
    expect((await c.top(1, 0)).toString()).toBe('Subject: hello\r\n\r\n');
    await c.dele(1);
    expect((await c.stat()).count).toBe(1);
    await c.rset();
    await c.noop();
    await c.quit();
    expect(c.closed).toBe(true);
    expect(s.received).toEqual([
      'CAPA',
      'USER alice',
      `PASS ${PASSWORD}`,
      'STAT',
      'LIST',
      'LIST 2',
      'UIDL',
      'UIDL 1',
      'RETR 2',
      'TOP 1 1',
      'TOP 1 0',
      'DELE 1',
      'STAT',
      'RSET',
      'NOOP',
      'QUIT',
    ]);
  });

  it('queues calls made without awaiting, one command at a time', async () => {
    const s = await fake();
    const c = await client(s);
    await c.login('alice', PASSWORD);
    const [stat, list, noop] = await Promise.all([c.stat(), c.list(), c.noop()]);
    expect(stat.count).toBe(2);
    expect(list).toHaveLength(2);
    expect(noop).toBeUndefined();
  });

  it('rejects commands after quit with ECLOSED', async () => {
    const c = await client(await fake());
    await c.quit();
    const error = await rejection(c.noop(), TransportError);
    expect(error.code).toBe('ECLOSED');
  });

  it('validates arguments before sending anything', async () => {
    const s = await fake();
    const c = await client(s);
    expect((await rejection(c.retr(0), Pop3ProtocolError)).code).toBe('EPOP3_ARGUMENT');
    expect((await rejection(c.top(1, -1), Pop3ProtocolError)).code).toBe('EPOP3_ARGUMENT');
    expect((await rejection(c.login('alice\r\nDELE 1', 'x'), Pop3ProtocolError)).code).toBe('EPOP3_ARGUMENT');
    expect(s.received).toEqual(['CAPA']);
  });
});

describe('multi-line replies', () => {
  it('undoes dot-stuffing exactly as sent on the wire, keeping raw bytes', async () => {
    const s = await fake();
    // Hand-written wire bytes, so the test does not trust the fake's stuffing.
    const wire = Buffer.concat([Buffer.from('+OK\r\n..x\r\n..\r\n...\r\nplain\r\n'), Buffer.from([0xc3, 0x28, 0xa0, 0x0d, 0x0a]), Buffer.from('.\r\n')]);
    s.on('RETR', (session) => session.write(wire));
    const c = await client(s);
    const body = await c.retr(1);
    expect(body.equals(Buffer.concat([Buffer.from('.x\r\n.\r\n..\r\nplain\r\n'), Buffer.from([0xc3, 0x28, 0xa0, 0x0d, 0x0a])]))).toBe(true);
  });

  it('keeps bare-LF line ends byte-exact and counts them', async () => {
    const s = await fake();
    s.on('RETR', (session) => session.write('+OK\r\nSubject: lf\n\nbody\n.\r\n'));
    const c = await client(s);
    expect((await c.retr(1)).toString()).toBe('Subject: lf\n\nbody\n');
    expect(c.connection.bareLineFeeds).toBe(3);
  });

  it('parses a RETR reply identically when split at every byte boundary and when sent byte by byte', async () => {
    const s = await fake();
    const reply = Buffer.concat([Buffer.from(`+OK ${TRICKY.length} octets\r\n`), stuffed(TRICKY)]);
    let split = 0;
    s.on('RETR', (session) => (split > reply.length ? session.writeSplit(reply, 'bytewise') : session.writeSplit(reply, [split])));
    const c = await client(s);
    for (split = 0; split <= reply.length; split++) {
      expect((await c.retr(2)).equals(TRICKY), `split at ${split}`).toBe(true);
    }
    expect((await c.retr(2)).equals(TRICKY), 'bytewise').toBe(true);
    expect(s.received.filter((l) => l === 'RETR 2')).toHaveLength(reply.length + 2);
  });

  it('retrTo hands the same unstuffed octets to its sink wherever the reads split, "\\r\\n." across a boundary included', async () => {
    const s = await fake();
    const reply = Buffer.concat([Buffer.from(`+OK ${TRICKY.length} octets\r\n`), stuffed(TRICKY)]);
    // Every split point: those inside "\r\n." (a stuffed line start) and inside the final "\r\n.\r\n" among them.
    let split = 0;
    s.on('RETR', (session) => (split > reply.length ? session.writeSplit(reply, 'bytewise') : session.writeSplit(reply, [split])));
    const c = await client(s);
    for (split = 0; split <= reply.length + 1; split++) {
      const pieces: Buffer[] = [];
      // A piece is lent until the sink's promise resolves: a sink that keeps it copies it.
      const { octets } = await c.retrTo(2, async (piece) => void pieces.push(Buffer.from(piece)));
      const copy = Buffer.concat(pieces);
      expect(copy.equals(TRICKY), `split at ${split}`).toBe(true);
      expect(octets).toBe(TRICKY.length);
    }
  });

  it('retrTo gives a big message to its sink in pieces, none of them the whole message', async () => {
    const lines = Array.from({ length: 20000 }, (_, i) => (i % 7 === 0 ? `.dot line ${i}\r\n` : `line ${i} ${'x'.repeat(40)}\r\n`));
    const big = Buffer.from(`Subject: big\r\n\r\n${lines.join('')}`);
    const s = await fake({ messages: [big] });
    const c = await client(s);
    const pieces: number[] = [];
    const hash = createHash('sha256');
    const { octets } = await c.retrTo(1, async (piece) => {
      pieces.push(piece.length);
      hash.update(piece);
    });
    expect(octets).toBe(big.length);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(big).digest('hex'));
    expect(pieces.length).toBeGreaterThan(1);
    expect(Math.max(...pieces)).toBeLessThan(BODY_PIECE_OCTETS + 1024);
  });

  it('retrTo hands on a line longer than a piece by itself, in order, and otherwise fills its one piece again', async () => {
    const long = `${'y'.repeat(BODY_PIECE_OCTETS + 5000)}\r\n`;
    const big = Buffer.from(`Subject: long\r\n\r\n${'short line\r\n'.repeat(30000)}${long}.after it\r\nlast\r\n`);
    const s = await fake({ messages: [big] });
    // Only a raised maxLineLength (64 KiB by default, under a piece) lets a line be longer than a piece.
    const c = await client(s, { limits: { maxLineLength: 2 * BODY_PIECE_OCTETS } });
    const copies: Buffer[] = [];
    const lent = new Set<ArrayBufferLike>();
    await c.retrTo(1, async (piece) => {
      copies.push(Buffer.from(piece));
      if (piece.length <= BODY_PIECE_OCTETS) lent.add(piece.buffer);
    });
    expect(Buffer.concat(copies).equals(big)).toBe(true);
    expect(copies.some((copy) => copy.length === long.length)).toBe(true);
    expect(copies.length).toBeGreaterThan(2);
    // Every piece but the long line is the same buffer, filled again.
    expect(lent.size).toBe(1);
  });

  it('retrTo drops the connection with ELIMIT once the running count passes maxMessageBytes', async () => {
    const s = await fake();
    const c = await client(s, { limits: { maxMessageBytes: 20 } });
    const error = await rejection(
      c.retrTo(2, async () => {}),
      TransportError,
    );
    expect(error.code).toBe('ELIMIT');
    expect(c.closed).toBe(true);
  });

  it('parses a CAPA reply identically when split at every byte boundary and byte by byte', async () => {
    const s = await fake();
    const reply = Buffer.from('+OK Capability list follows\r\nTOP\r\nUSER\r\nSASL PLAIN LOGIN\r\nRESP-CODES\r\nUIDL\r\n.\r\n');
    const expected = ['TOP', 'USER', 'SASL PLAIN LOGIN', 'RESP-CODES', 'UIDL'];
    let split = 0;
    s.on('CAPA', (session) => (split > reply.length ? session.writeSplit(reply, 'bytewise') : session.writeSplit(reply, [split])));
    const c = await client(s, { capa: false });
    for (split = 0; split <= reply.length + 1; split++) {
      expect(await c.capa(), `split at ${split}`).toEqual(expected);
    }
  });

  it('logs message bodies as a size, and listings line by line', async () => {
    const s = await fake();
    const transcript = new Transcript();
    const c = await client(s, { transcript });
    await c.list();
    await c.retr(2);
    const texts = transcript.entries.map((e) => e.text);
    expect(texts).toContain(`2 ${TRICKY.length}`);
    expect(texts).toContain(`[message body: ${TRICKY.length} octets, 9 lines]`);
    expect(texts.some((t) => t.includes('leading dot') || t.includes('Subject: dots'))).toBe(false);
  });

  it('caps listing lines in the transcript', async () => {
    const s = await fake();
    s.on('UIDL', (session) => session.write(`+OK\r\n${Array.from({ length: 80 }, (_, i) => `${i + 1} u${i + 1}\r\n`).join('')}.\r\n`));
    const transcript = new Transcript();
    const c = await client(s, { transcript, limits: { maxTranscriptListingLines: 10 } });
    expect(await c.uidl()).toHaveLength(80);
    expect(transcript.entries.filter((e) => /^\d+ u\d+$/.test(e.text))).toHaveLength(10);
    expect(allText(transcript)).toContain('[70 more listing lines not shown; 80 in all]');
  });

  it('reports a malformed listing line and stays in step', async () => {
    const s = await fake();
    s.on('LIST', (session) => session.write('+OK\r\n1 100\r\ntwo hundred\r\n.\r\n'));
    const c = await client(s);
    const error = await rejection(c.list(), Pop3ProtocolError);
    expect(error.code).toBe('EPOP3_MALFORMED');
    await c.noop();
  });
});

describe('errors', () => {
  it.each([
    ['IN-USE', true],
    ['LOGIN-DELAY', true],
    ['SYS/TEMP', true],
    ['SYS/PERM', false],
    ['AUTH', false],
  ])('carries the extended response code [%s] (temporary: %s)', async (code, temporary) => {
    const s = await fake();
    s.on('PASS', (session) => session.write(`-ERR [${code}] go away\r\n`));
    const c = await client(s);
    const error = await rejection(c.login('alice', PASSWORD, 'user'), Pop3ReplyError);
    expect(error.code).toBe('EPOP3_ERR');
    expect(error.responseCode).toBe(code);
    expect(error.text).toBe('go away');
    expect(error.temporary).toBe(temporary);
    expect(error.command).toBe('PASS [redacted]');
    expect(error.message).not.toContain(PASSWORD);
  });

  it('rejects a -ERR without a code with responseCode undefined', async () => {
    const c = await client(await fake());
    const error = await rejection(c.retr(9), Pop3ReplyError);
    expect(error.command).toBe('RETR 9');
    expect(error.responseCode).toBeUndefined();
    expect(error.text).toBe('no such message');
  });

  it('treats a reply that is neither +OK nor -ERR as malformed and drops the connection', async () => {
    const s = await fake();
    s.on('NOOP', (session) => session.write('OK fine\r\n'));
    const c = await client(s);
    expect((await rejection(c.noop(), Pop3ProtocolError)).code).toBe('EPOP3_MALFORMED');
    expect(c.closed).toBe(true);
  });

  it('rejects a greeting in POP3 shape that is not a status line as malformed POP3', async () => {
    const s = await fake({ greeting: '+READY fake POP3\r\n' });
    const error = await rejection(client(s), Pop3ProtocolError);
    expect(error.code).toBe('EPOP3_MALFORMED');
    expect(error.message).toContain('(greeting)');
  });

  it('names a first line of no POP3 shape at all (a banner, NUL and binary) as a port that does not speak POP3', async () => {
    for (const greeting of ['HELLO from somewhere\r\n', '\u0000\u00ff\u001b[2J\r\n']) {
      const s = await fake({ greeting });
      const error = await rejection(client(s), TransportError);
      expect(error.code).toBe('EWRONG_PROTOCOL');
      expect(error.phase).toBe('greeting');
      expect(error.message).toMatch(
        /does not speak POP3: its first bytes .* are not a POP3 greeting \("\+OK …"\); check the endpoint's host, port and security/,
      );
    }
  });

  it('names an IMAP greeting as a wrong port, not malformed POP3', async () => {
    const s = await fake({ greeting: '* OK this is IMAP\r\n' });
    const error = await rejection(client(s), TransportError);
    expect(error.code).toBe('EWRONG_PROTOCOL');
    expect(error.message).toContain("this port speaks IMAP; check the endpoint's port");
  });

  it('rejects a -ERR greeting', async () => {
    const s = await fake({ greeting: '-ERR [SYS/TEMP] too many connections\r\n' });
    const error = await rejection(client(s), Pop3ReplyError);
    expect(error.command).toBe('(greeting)');
    expect(error.temporary).toBe(true);
  });

  it('rejects with ECLOSED when the server closes in the middle of a message', async () => {
    const s = await fake();
    s.on('RETR', (session) => session.write('+OK\r\nSubject: cut\r\n\r\nhalf a li').then(() => session.destroy()));
    // Command timeout far longer than the test timeout: only the close can end the read.
    const c = await client(s, { timeouts: { command: 60_000 } });
    const error = await rejection(c.retr(1), TransportError);
    expect(error.code).toBe('ECLOSED');
    expect(error.command).toBe('RETR 1');
    expect(c.closed).toBe(true);
  }, 10_000);

  it('times out a stalled reply with ETIMEOUT', async () => {
    const s = await fake();
    s.on('STAT', () => undefined);
    const c = await client(s, { timeouts: { command: 100 } });
    const error = await rejection(c.stat(), TransportError);
    expect(error.code).toBe('ETIMEOUT');
    expect(error.phase).toBe('command');
    expect(error.command).toBe('STAT');
  });

  it('times out a server that never greets', async () => {
    const s = await fake({ greeting: () => undefined });
    const error = await rejection(client(s, { timeouts: { greeting: 100 } }), TransportError);
    expect(error.code).toBe('ETIMEOUT');
    expect(error.phase).toBe('greeting');
  });

  it('reports a refused connection as ECONNREFUSED in phase tcp', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((r) => probe.close(() => r()));
    const error = await rejection(
      Pop3Client.connect({ host: '127.0.0.1', port, security: 'none', transcript: new Transcript(), session: 's' }),
      TransportError,
    );
    expect(error.code).toBe('ECONNREFUSED');
    expect(error.phase).toBe('tcp');
  });

  it('drops the connection with ELIMIT on an over-long line', async () => {
    const s = await fake();
    s.on('NOOP', (session) => session.write(`+OK ${'y'.repeat(300)}\r\n`));
    const c = await client(s, { limits: { maxLineLength: 256 } });
    expect((await rejection(c.noop(), TransportError)).code).toBe('ELIMIT');
    expect(c.closed).toBe(true);
  });

  it('drops the connection with ELIMIT on an over-large message', async () => {
    const s = await fake();
    const c = await client(s, { limits: { maxMessageBytes: 20 } });
    const error = await rejection(c.retr(2), TransportError);
    expect(error.code).toBe('ELIMIT');
    expect(error.message).toContain('RETR 2');
    expect(c.closed).toBe(true);
  });

  it('drop() closes without QUIT and rejects later commands', async () => {
    const s = await fake();
    const c = await client(s);
    await c.login('alice', PASSWORD);
    await c.dele(1);
    c.drop();
    expect(c.closed).toBe(true);
    expect((await rejection(c.noop(), TransportError)).code).toBe('ECLOSED');
    expect(s.received).not.toContain('QUIT');
  });
});

describe('authentication', () => {
  it('uses AUTH PLAIN with an initial response when advertised, redacted in the transcript', async () => {
    const s = await fake();
    const transcript = new Transcript();
    const c = await client(s, { transcript });
    await c.login('alice', PASSWORD);
    const token = Buffer.from(`\0alice\0${PASSWORD}`).toString('base64');
    expect(s.received).toContain(`AUTH PLAIN ${token}`);
    expect(allText(transcript)).toContain('AUTH PLAIN [redacted]');
    expect(allText(transcript)).not.toContain(token);
    expect(allText(transcript)).not.toContain(PASSWORD);
  });

  it('sends long credentials after a continuation (RFC 5034: AUTH line <= 255 octets)', async () => {
    const long = 'p'.repeat(300);
    const s = await fake({ password: long });
    const transcript = new Transcript();
    const c = await client(s, { transcript });
    await c.login('alice', long, 'plain');
    expect(s.received[1]).toBe('AUTH PLAIN');
    expect(allText(transcript)).not.toContain(long.slice(0, 40));
    expect(allText(transcript)).not.toContain(Buffer.from(`\0alice\0${long}`).toString('base64').slice(0, 40));
  });

  it('falls back to USER/PASS when SASL PLAIN is not advertised; PASS is redacted', async () => {
    const s = await fake({ capabilities: ['USER', 'UIDL'] });
    const transcript = new Transcript();
    const c = await client(s, { transcript });
    await c.login('alice', PASSWORD);
    expect(s.received).toContain(`PASS ${PASSWORD}`);
    expect(transcript.entries.map((e) => e.text)).toContain('PASS [redacted]');
    expect(allText(transcript)).not.toContain(PASSWORD);
  });

  it('never writes the password to the transcript, even on failure', async () => {
    const s = await fake();
    const transcript = new Transcript();
    const c = await client(s, { transcript });
    await rejection(c.login('alice', 'Wrong-Pa55!', 'plain'), Pop3ReplyError);
    await rejection(c.login('alice', 'Wrong-Pa55!', 'user'), Pop3ReplyError);
    expect(allText(transcript)).not.toContain('Wrong-Pa55!');
    expect(allText(transcript)).not.toContain(Buffer.from('\0alice\0Wrong-Pa55!').toString('base64'));
  });
});

describe('STLS', () => {
  it('upgrades, verifies with the CA, and asks CAPA again', async () => {
    const s = await fake({ starttls: certs.localhost });
    const transcript = new Transcript();
    const c = await client(s, { security: 'starttls', tls: { ca: certs.ca }, transcript });
    expect(c.tlsInfo?.mode).toBe('starttls');
    expect(c.tlsInfo?.authorized).toBe(true);
    expect(c.timings.tls).toBeTypeOf('number');
    expect(s.received).toEqual(['CAPA', 'STLS', 'CAPA']);
    expect(c.hasCapability('STLS')).toBe(false);
    await c.login('alice', PASSWORD);
    expect((await c.retr(2)).equals(TRICKY)).toBe(true);
    expect(s.sessions[0]?.secure).toBe(true);
    expect(allText(transcript)).toContain('TLS established (starttls)');
  });

  it('fails with ETLS in phase starttls when the CA is not trusted', async () => {
    const s = await fake({ starttls: certs.localhost });
    const error = await rejection(client(s, { security: 'starttls' }), TransportError);
    expect(error.code).toBe('ETLS');
    expect(error.phase).toBe('starttls');
    expect(error.message).toContain('tls.ca_file');
  });

  it('works with verify: false and records it', async () => {
    const s = await fake({ starttls: certs.localhost });
    const c = await client(s, { security: 'starttls', tls: { verify: false } });
    expect(c.tlsInfo?.verify).toBe(false);
    expect(c.tlsInfo?.authorized).toBe(false);
    await c.noop();
  });

  it('refuses when STLS is not advertised', async () => {
    const s = await fake();
    const error = await rejection(client(s, { security: 'starttls', tls: { ca: certs.ca } }), TransportError);
    expect(error.code).toBe('ESTARTTLS');
    expect(s.received).toEqual(['CAPA']);
  });

  it('reports a -ERR to STLS as ESTARTTLS', async () => {
    const s = await fake({ starttls: certs.localhost });
    s.on('STLS', (session) => session.write('-ERR [SYS/PERM] TLS not configured\r\n'));
    const error = await rejection(client(s, { security: 'starttls', tls: { ca: certs.ca } }), TransportError);
    expect(error.code).toBe('ESTARTTLS');
    expect(error.cause).toBeInstanceOf(Pop3ReplyError);
  });

  it('refuses to upgrade when the server injects plaintext after its go-ahead', async () => {
    const s = await fake({ starttls: certs.localhost });
    s.on('STLS', (session) => session.write('+OK go ahead\r\n-ERR injected\r\n'));
    const error = await rejection(client(s, { security: 'starttls', tls: { ca: certs.ca } }), TransportError);
    expect(error.code).toBe('ESTARTTLS');
    expect(error.message).toContain('CVE-2011-0411');
  });
});

describe('implicit TLS', () => {
  it('greets over TLS when verified', async () => {
    const s = await fake({ implicitTls: certs.localhost });
    const c = await client(s, { security: 'tls', tls: { ca: certs.ca } });
    expect(c.tlsInfo?.mode).toBe('tls');
    expect(c.tlsInfo?.authorized).toBe(true);
    await c.quit();
  });
});

function stuffed(body: Buffer): Buffer {
  const lines: Buffer[] = [];
  let start = 0;
  while (start < body.length) {
    const lf = body.indexOf(0x0a, start);
    const line = body.subarray(start, lf + 1);
    lines.push(line[0] === 0x2e ? Buffer.concat([Buffer.from('.'), line]) : line);
    start = lf + 1;
  }
  return Buffer.concat([...lines, Buffer.from('.\r\n')]);
}

describe('Pop3Client.topMany (the header search)', () => {
  it('writes every TOP before reading a reply when CAPA lists PIPELINING (RFC 2449 §6.6)', async () => {
    const s = await fake();
    // A server that answers only once it holds all three commands: a client that waited for each reply would stall.
    const held: Array<() => void> = [];
    s.on('TOP', (session, args) => {
      const n = Number(args.split(' ')[0]);
      const body = n === 1 ? PLAIN : TRICKY;
      held.push(() => (n > 2 ? session.write('-ERR no such message\r\n') : session.write(multiLine('+OK', body))));
      if (held.length === 3) for (const answer of held.splice(0)) answer();
    });
    const c = await client(s);
    await c.login('alice', PASSWORD, 'user');
    expect(c.pipelining).toBe(true);
    const replies = await c.topMany([2, 9, 1], 0);
    // Every reply read, a refusal in the middle included, and each matched to its own command.
    expect(replies.map((r) => (r instanceof Pop3ReplyError ? `refused ${r.command}` : r.toString('latin1').split('\r\n')[0]))).toEqual([
      'Subject: dots',
      'refused TOP 9 0',
      'Subject: hello',
    ]);
    expect(await c.noop()).toBeUndefined();
  });

  it('sends one TOP at a time when PIPELINING is not advertised', async () => {
    const s = await fake({ capabilities: ['USER', 'TOP', 'UIDL'] });
    const seenAtAnswer: number[] = [];
    let tops = 0;
    s.on('TOP', (session) => {
      tops++;
      seenAtAnswer.push(tops);
      // Answer a moment later, so that a client that did not wait would have sent the next one already.
      setTimeout(() => session.write(multiLine('+OK', PLAIN)), 20);
    });
    const c = await client(s);
    await c.login('alice', PASSWORD, 'user');
    expect(c.pipelining).toBe(false);
    const replies = await c.topMany([1, 2, 1], 0);
    expect(replies).toHaveLength(3);
    const received = s.received.filter((l) => /^TOP /.test(l));
    expect(received).toEqual(['TOP 1 0', 'TOP 2 0', 'TOP 1 0']);
    // Each command reached the server only after the previous reply: the count when answering grows one by one.
    expect(seenAtAnswer).toEqual([1, 2, 3]);
  });
});
