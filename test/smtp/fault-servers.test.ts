import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SmtpClient, type SmtpEndpoint } from '../../src/protocols/smtp/client.js';
import { SmtpReplyError, SmtpTransportError } from '../../src/protocols/smtp/errors.js';
import { Transcript } from '../../src/transport/transcript.js';
import { startSmtpFaultServer, type SmtpFaultServer, type SmtpFaultServerOptions } from '../../fixtures/servers/smtp-fault-server.js';
import { testCerts, type TestCerts } from '../support/test-certs.js';
import { startSmtpFake } from './fake-smtp.js';

/**
 * The SMTP session client step by step against the fault servers: each
 * server breaks exactly one rule, and the client's replies show it, where the
 * faithful server (same fixture, no fault) keeps the rule. These are the
 * observations the SMTP suite's scenarios judge.
 */
const TIMEOUTS = { dns: 1_000, tcp: 2_000, tls: 2_000, greeting: 2_000, command: 2_000 };
let certs: TestCerts;
const servers: SmtpFaultServer[] = [];
const clients: SmtpClient[] = [];

beforeAll(async () => {
  certs = await testCerts();
});
afterAll(async () => {
  await certs?.cleanup();
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(options: SmtpFaultServerOptions = {}): Promise<SmtpFaultServer> {
  const s = await startSmtpFaultServer({ ...(options.role && options.role !== 'mx' ? { keys: certs.localhost } : {}), ...options });
  servers.push(s);
  return s;
}

async function session(s: SmtpFaultServer, security: SmtpEndpoint['security'] = 'none') {
  const transcript = new Transcript();
  const client = await SmtpClient.connect({
    endpoint: { host: '127.0.0.1', port: s.port, security, tls: { verify: true, ca: certs.ca, servername: 'localhost' } },
    transcript,
    session: 'smtp',
    timeouts: TIMEOUTS,
  });
  clients.push(client);
  const lines = () => transcript.entries.map((e) => `${e.direction === 'client' ? 'C' : e.direction === 'server' ? 'S' : '-'}: ${e.text}`);
  return { client, lines };
}

/** Greeting, EHLO, MAIL FROM: where every RCPT check starts. */
async function inTransaction(s: SmtpFaultServer) {
  const open = await session(s);
  await open.client.ehlo();
  expect((await open.client.mail('sender@elsewhere.example')).code).toBe(250);
  return open;
}

describe('what the session records', () => {
  it('keeps the banner, every EHLO keyword, SIZE with its value, and the enhanced code of each reply', async () => {
    const s = await server();
    const { client, lines } = await session(s);
    expect(client.banner).toMatchObject({ code: 220, lines: ['fault.test ESMTP fault server'] });
    const ehlo = await client.ehlo();
    expect(ehlo.code).toBe(250);
    expect(ehlo.lines).toEqual(['fault.test', 'PIPELINING', 'SIZE 1000000', 'ENHANCEDSTATUSCODES', '8BITMIME', 'SMTPUTF8']);
    expect(client.advertised).toMatchObject({
      keywords: ['PIPELINING', 'SIZE', 'ENHANCEDSTATUSCODES', '8BITMIME', 'SMTPUTF8'],
      size: { limit: 1_000_000 },
      pipelining: true,
      eightBitMime: true,
      smtpUtf8: true,
      enhancedStatusCodes: true,
      dsn: false,
      chunking: false,
      requireTls: false,
      auth: [],
    });
    expect(client.ehloBeforeTls).toBe(client.advertised);
    expect(client.ehloAfterTls).toBeUndefined();
    const noop = await client.noop();
    expect(noop).toMatchObject({ code: 250, enhanced: '2.0.0', command: 'NOOP' });
    expect(await client.quit()).toMatchObject({ code: 221, enhanced: '2.0.0' });
    // Every reply line is in the transcript, in order.
    expect(lines()).toEqual(
      expect.arrayContaining(['S: 220 fault.test ESMTP fault server', 'C: EHLO mailprobe.invalid', 'S: 250-PIPELINING', 'S: 250 SMTPUTF8', 'S: 221 2.0.0 Bye']),
    );
  });

  it('reads no enhanced code where ENHANCEDSTATUSCODES was not advertised', async () => {
    const s = await server({ omit: ['ENHANCEDSTATUSCODES'] });
    const { client } = await session(s);
    await client.ehlo();
    const reply = await client.noop();
    expect(reply.code).toBe(250);
    expect(reply.enhanced).toBeUndefined();
  });

  it('returns refusals as replies, and throws them only when asked (strict)', async () => {
    const s = await server();
    const { client } = await inTransaction(s);
    expect(await client.rcpt('nobody@fault.test')).toMatchObject({ code: 550, enhanced: '5.1.1' });
    const strict = await client.rcpt('nobody@fault.test', [], { strict: true }).catch((e: unknown) => e);
    expect(strict).toBeInstanceOf(SmtpReplyError);
    expect(strict).toMatchObject({ replyCode: 550, command: 'RCPT TO' });
  });
});

describe('one rule broken per server, seen by the client', () => {
  it('open relay: RCPT to a foreign domain without AUTH is 550 5.7.1 on the faithful MX, 250 on the relay', async () => {
    const faithful = await inTransaction(await server());
    expect(await faithful.client.rcpt('someone@foreign.example')).toMatchObject({ code: 550, enhanced: '5.7.1' });
    const relay = await inTransaction(await server({ fault: 'open-relay' }));
    expect(await relay.client.rcpt('someone@foreign.example')).toMatchObject({ code: 250 });
    // The suite's own rule: RSET at once, so nothing is ever relayed.
    expect((await relay.client.rset()).code).toBe(250);
  });

  it('unknown local user: 550 5.1.1 at RCPT on the faithful MX, 250 on the faulty one (and the copy is dropped)', async () => {
    const faithful = await inTransaction(await server());
    expect(await faithful.client.rcpt('nobody@fault.test')).toMatchObject({ code: 550, enhanced: '5.1.1' });
    const s = await server({ fault: 'unknown-user-accepted' });
    const faulty = await inTransaction(s);
    expect(await faulty.client.rcpt('nobody@fault.test')).toMatchObject({ code: 250 });
    const { reply } = await faulty.client.data(Buffer.from('Subject: x\r\n\r\nbody\r\n'));
    expect(reply.code).toBe(250);
    expect(s.messages).toEqual([]);
  });

  it('AUTH before TLS: the faithful submission port hides AUTH and refuses it (538) until STARTTLS, the faulty one offers it', async () => {
    const s = await server({ role: 'submission' });
    const { client } = await session(s);
    await client.ehlo();
    expect(client.ehloBeforeTls).toMatchObject({ starttls: true, auth: [] });
    expect(await client.auth('PLAIN', 'alice', 'alice-password')).toMatchObject({ code: 538, enhanced: '5.7.11' });
    expect((await client.starttls()).code).toBe(220);
    expect(client.secure).toBe(true);
    expect(client.advertised.keywords).toEqual([]);
    await client.ehlo();
    expect(client.ehloAfterTls).toMatchObject({ starttls: false, auth: ['PLAIN', 'LOGIN'] });
    expect(client.ehloBeforeTls?.auth).toEqual([]);
    expect(await client.auth('PLAIN', 'alice', 'alice-password')).toMatchObject({ code: 235, enhanced: '2.7.0' });

    const faulty = await session(await server({ role: 'submission', fault: 'auth-before-tls' }));
    await faulty.client.ehlo();
    expect(faulty.client.ehloBeforeTls?.auth).toEqual(['PLAIN', 'LOGIN']);
    expect(await faulty.client.auth('LOGIN', 'alice', 'alice-password')).toMatchObject({ code: 235 });
    // The password never reaches the transcript; the LOGIN exchange is visible around it.
    const text = faulty.lines().join('\n');
    expect(text).not.toContain(Buffer.from('alice-password').toString('base64'));
    expect(text).toMatch(/C: \[redacted\]|C: .*\[redacted\]/);
    expect(text).toMatch(/S: 334 VXNlcm5hbWU6/);
  });

  it('implicit TLS submission (RFC 8314) offers AUTH at once, recorded as the EHLO under TLS', async () => {
    const { client } = await session(await server({ role: 'submissions' }), 'tls');
    expect(client.secure).toBe(true);
    await client.ehlo();
    expect(client.ehloBeforeTls).toBeUndefined();
    expect(client.ehloAfterTls?.auth).toEqual(['PLAIN', 'LOGIN']);
    expect((await client.auth('PLAIN', 'bob', 'bob-password')).code).toBe(235);
    expect((await client.auth('PLAIN', 'bob', 'wrong')).code).toBe(503);
  });

  it('SIZE ignored: a declared SIZE over the advertised limit is 552 5.3.4 on the faithful MX, 250 on the faulty one', async () => {
    const faithful = await server();
    const f = await session(faithful);
    await f.client.ehlo();
    const over = `SIZE=${(f.client.advertised.size?.limit ?? 0) + 1}`;
    expect(await f.client.mail('sender@elsewhere.example', [over])).toMatchObject({ code: 552, enhanced: '5.3.4' });
    expect((await f.client.mail('sender@elsewhere.example', ['SIZE=1000'])).code).toBe(250);

    const faulty = await session(await server({ fault: 'size-ignored' }));
    await faulty.client.ehlo();
    expect((await faulty.client.mail('sender@elsewhere.example', [over])).code).toBe(250);
  });

  it('8-bit mangling: an 8BITMIME body is stored byte-exact by the faithful MX, with its 8th bits stripped by the faulty one', async () => {
    const body = Buffer.from(
      'Subject: grüße\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nÄrger über Öl, 日本語\r\n',
      'utf8',
    );
    const deliver = async (s: SmtpFaultServer) => {
      const { client } = await session(s);
      await client.ehlo();
      expect(client.advertised.eightBitMime).toBe(true);
      expect((await client.mail('sender@elsewhere.example', ['BODY=8BITMIME'])).code).toBe(250);
      expect((await client.rcpt('alice@fault.test')).code).toBe(250);
      expect((await client.data(body)).reply.code).toBe(250);
      return s.messages[0]?.data;
    };
    expect(await deliver(await server())).toEqual(body);
    const mangled = await deliver(await server({ fault: 'eight-bit-mangled' }));
    expect(mangled).toHaveLength(body.length);
    expect(mangled?.equals(body)).toBe(false);
    expect(mangled?.every((octet) => octet < 0x80)).toBe(true);
  });

  it('greylisting: the first RCPT of a sender/recipient pair is 450 4.7.1, the retry 250; the faithful MX takes it at once', async () => {
    const faithful = await inTransaction(await server());
    expect((await faithful.client.rcpt('alice@fault.test')).code).toBe(250);
    const s = await server({ fault: 'greylisting' });
    const first = await inTransaction(s);
    expect(await first.client.rcpt('alice@fault.test')).toMatchObject({ code: 450, enhanced: '4.7.1' });
    await first.client.quit();
    const retry = await inTransaction(s);
    expect((await retry.client.rcpt('alice@fault.test')).code).toBe(250);
  });
});

describe('pipelining (RFC 2920)', () => {
  it('sends MAIL, every RCPT and DATA as one group and reads the replies in order', async () => {
    const s = await server();
    const { client, lines } = await session(s);
    await client.ehlo();
    const raw = Buffer.from('Subject: piped\r\n\r\n.leading dot\r\n');
    const outcome = await client.pipeline({ from: 'sender@elsewhere.example', to: ['alice@fault.test', 'nobody@fault.test', 'bob@fault.test'] }, raw);
    expect(outcome.mail.code).toBe(250);
    expect(outcome.rcpts.map((r) => r.code)).toEqual([250, 550, 250]);
    expect(outcome.rcpts[1]?.enhanced).toBe('5.1.1');
    expect(outcome.data.go.code).toBe(354);
    expect(outcome.data.final?.code).toBe(250);
    expect(s.messages).toEqual([expect.objectContaining({ to: ['alice@fault.test', 'bob@fault.test'], data: raw })]);
    // Every command of the group went out before the first reply was read.
    const shown = lines().filter((l) => /^[CS]: /.test(l));
    const group = shown.slice(shown.indexOf('C: MAIL FROM:<sender@elsewhere.example>'));
    expect(group.slice(0, 5)).toEqual([
      'C: MAIL FROM:<sender@elsewhere.example>',
      'C: RCPT TO:<alice@fault.test>',
      'C: RCPT TO:<nobody@fault.test>',
      'C: RCPT TO:<bob@fault.test>',
      'C: DATA',
    ]);
    expect(group[5]).toBe('S: 250 2.1.0 Ok');
  });

  it('after a 354 to a group whose every RCPT was refused, sends a lone "." and no message (RFC 2920 §3.1)', async () => {
    const f = await startSmtpFake({
      ehlo: () => '250-fake.test\r\n250-PIPELINING\r\n250 ENHANCEDSTATUSCODES\r\n',
      on: { RCPT: (s) => s.write('550 5.1.1 no such user\r\n') },
    });
    try {
      const transcript = new Transcript();
      const client = await SmtpClient.connect({
        endpoint: { host: '127.0.0.1', port: f.port, security: 'none', tls: { verify: true } },
        transcript,
        session: 'smtp',
        timeouts: TIMEOUTS,
      });
      clients.push(client);
      await client.ehlo();
      const outcome = await client.pipeline({ from: 'a@fake.test', to: ['x@fake.test', 'y@fake.test'] }, Buffer.from('Subject: must not go\r\n\r\nbody\r\n'));
      expect(outcome.rcpts.map((r) => r.enhanced)).toEqual(['5.1.1', '5.1.1']);
      expect(outcome.data.go.code).toBe(354);
      expect(outcome.data.final?.code).toBe(250);
      expect(f.wireMessages).toEqual([[]]);
    } finally {
      await f.close();
    }
  });

  it('ends the data at once when no recipient was accepted, and is refused without PIPELINING (nothing sent)', async () => {
    const s = await server();
    const { client } = await session(s);
    await client.ehlo();
    const outcome = await client.pipeline({ from: 'sender@elsewhere.example', to: ['nobody@fault.test'] }, Buffer.from('x\r\n'));
    expect(outcome.rcpts[0]?.code).toBe(550);
    // This server refuses DATA without a valid recipient, as RFC 2920 §3.1 expects of it.
    expect(outcome.data.reply.code).toBe(554);
    expect(s.messages).toEqual([]);

    const plain = await server({ omit: ['PIPELINING'] });
    const other = await session(plain);
    await other.client.ehlo();
    const sent = plain.commands.length;
    const error = await other.client.pipeline({ from: 'a@elsewhere.example', to: ['alice@fault.test'] }, Buffer.from('x\r\n')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SmtpTransportError);
    expect(error).toMatchObject({ code: 'EPIPELINING' });
    expect(plain.commands.length).toBe(sent);
  });
});
