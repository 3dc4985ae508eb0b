import { readFile } from 'node:fs/promises';
import { type AddressInfo, createServer as createNetServer, connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { ImapFlow } from 'imapflow';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { makeMessageId, newRunId, RUN_HEADER } from '../../src/core/run-identity.js';
import { compareDeliveredCopy } from '../../src/expectations/delivered-copy.js';
import { LAB_DOMAIN } from '../../src/lab/accounts.js';
import { SmtpClient, type SmtpEndpoint } from '../../src/protocols/smtp/client.js';
import { SmtpReplyError, SmtpTransportError } from '../../src/protocols/smtp/errors.js';
import { Transcript } from '../../src/transport/transcript.js';
import { startSmtpFaultServer, type SmtpFaultServer, type SmtpFaultServerOptions } from '../../fixtures/servers/smtp-fault-server.js';
import { closeAll, directClient, labImap } from '../imap-proxy/lab-imap.js';
import { cleanUpLabRun } from '../support/run-suite.js';
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

  it('greylisting with a minimum retry wait: every retry within it is 450 again, for every session', async () => {
    const s = await server({ fault: 'greylisting', greylistDelayMs: 60_000 });
    for (let attempt = 0; attempt < 3; attempt++) {
      const { client } = await inTransaction(s);
      expect(await client.rcpt('alice@fault.test')).toMatchObject({ code: 450, enhanced: '4.7.1' });
      await client.quit();
    }
  });
});

describe('the rules the SMTP suite reads on submission, delivery and pipelining, one broken per server', () => {
  it('no STARTTLS: the submission port offers no STARTTLS and refuses it, so AUTH is never offered', async () => {
    const faithful = await session(await server({ role: 'submission' }));
    await faithful.client.ehlo();
    expect(faithful.client.ehloBeforeTls?.starttls).toBe(true);
    const { client } = await session(await server({ role: 'submission', fault: 'no-starttls' }));
    await client.ehlo();
    expect(client.ehloBeforeTls).toMatchObject({ starttls: false, auth: [] });
    expect((await client.starttls()).code).toBe(502);
    expect(client.secure).toBe(false);
  });

  it('no AUTH after TLS: submission and submissions advertise no AUTH under TLS either, and refuse it', async () => {
    const s = await server({ role: 'submission', fault: 'no-auth-after-tls' });
    const { client } = await session(s);
    await client.ehlo();
    expect((await client.starttls()).code).toBe(220);
    await client.ehlo();
    expect(client.ehloAfterTls).toMatchObject({ auth: [] });
    expect((await client.auth('PLAIN', 'alice', 'alice-password')).code).toBe(503);
    const implicit = await session(await server({ role: 'submissions', fault: 'no-auth-after-tls' }), 'tls');
    await implicit.client.ehlo();
    expect(implicit.client.ehloAfterTls?.auth).toEqual([]);
  });

  it('accepted, not delivered: DATA is answered 250 and the message is kept nowhere', async () => {
    const s = await server({ fault: 'accepted-not-delivered' });
    const { client } = await inTransaction(s);
    expect((await client.rcpt('alice@fault.test')).code).toBe(250);
    expect((await client.data(Buffer.from('Subject: lost\r\n\r\nbody\r\n'))).reply.code).toBe(250);
    expect(s.messages).toEqual([]);
  });

  it('pipelining reordered: the replies to a pipelined group come back with the last two swapped (RCPT gets 354, DATA 250)', async () => {
    const s = await server({ fault: 'pipelining-reordered' });
    const { client } = await session(s);
    await client.ehlo();
    const outcome = await client.pipeline({ from: 'sender@elsewhere.example', to: ['alice@fault.test'] }, Buffer.from('Subject: piped\r\n\r\nbody\r\n'));
    expect(outcome.mail).toMatchObject({ code: 250, enhanced: '2.1.0' });
    expect(outcome.rcpts.map((r) => r.code)).toEqual([354]);
    expect(outcome.data.go.code).toBe(250);
    // Commands sent one at a time are answered as usual.
    const other = await inTransaction(s);
    expect((await other.client.rcpt('alice@fault.test')).code).toBe(250);
  });

  it('pipelining reordered still answers a STARTTLS that ends a group in plaintext, before the handshake', async () => {
    const s = await server({ role: 'submission', fault: 'pipelining-reordered' });
    const socket = netConnect(s.port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    const text = () => Buffer.concat(received).toString('latin1');
    const until = async (pattern: RegExp) => {
      const deadline = Date.now() + 5_000;
      while (!pattern.test(text())) {
        if (Date.now() > deadline) throw new Error(`no ${pattern} in ${JSON.stringify(text())}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    try {
      await until(/^220 /);
      socket.write('EHLO a.example\r\n');
      await until(/250 SMTPUTF8\r\n$/);
      received.length = 0;
      // NOOP and STARTTLS in one write: a group whose last command is STARTTLS.
      socket.write('NOOP\r\nSTARTTLS\r\n');
      await until(/220 2\.0\.0 Ready to start TLS\r\n$/);
      expect(text()).toMatch(/^250 2\.0\.0 Ok\r\n220 2\.0\.0 Ready/);
      socket.removeAllListeners('data');
      const secure = tlsConnect({ socket, ca: certs.ca, servername: 'localhost' });
      await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
      secure.destroy();
    } finally {
      socket.destroy();
    }
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

  it('after a 354 to a group whose every RCPT was refused, sends no data at all and drops the connection (RFC 2920 §3.1)', async () => {
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
      expect(outcome.data.final).toBeUndefined();
      // Not even an empty message: the server would have something to deliver if its idea of the recipients differed.
      expect(f.wireMessages).toEqual([]);
      expect(client.connection.closed).toBe(true);
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

describe('faults switched on a running server', () => {
  it('reads its faults live: a fault set after the start applies to the next command, and reset() forgets the greylist', async () => {
    const s = await server();
    const before = await inTransaction(s);
    expect((await before.client.rcpt('someone@foreign.example')).code).toBe(550);
    s.faults['open-relay'] = true;
    expect((await before.client.rcpt('someone@foreign.example')).code).toBe(250);
    delete s.faults['open-relay'];
    expect((await before.client.rcpt('someone@foreign.example')).code).toBe(550);

    s.faults.greylisting = true;
    expect((await before.client.rcpt('alice@fault.test')).code).toBe(450);
    expect((await before.client.rcpt('alice@fault.test')).code).toBe(250);
    s.reset();
    expect((await before.client.rcpt('alice@fault.test')).code).toBe(450);
    expect(s.messages).toEqual([]);
  });

  it('shares one live fault object between servers given the same one', async () => {
    const faults = {};
    const mx = await server({ faults });
    const submission = await server({ role: 'submission', faults });
    Object.assign(faults, { 'auth-before-tls': true });
    expect(mx.faults).toBe(faults);
    const { client } = await session(submission);
    await client.ehlo();
    expect(client.ehloBeforeTls?.auth).toEqual(['PLAIN', 'LOGIN']);
  });
});

/**
 * Forwarding: what a fault server accepts goes on, as it stored it, to the lab
 * Postfix's MX port, so a scenario can read the copy back over the lab's IMAP
 * and POP3. Every message here carries a run header of this file's own run id,
 * and the lab is swept for it afterwards.
 */
describe('forwarding to the lab (upstream)', () => {
  const runId = newRunId();
  let upstream: SmtpEndpoint;
  let imap: ImapFlow | undefined;

  beforeAll(async () => {
    const target = parse(await readFile(inject('lab').targetFile, 'utf8')) as { host: string; endpoints: { smtp: { port: number } } };
    upstream = { host: target.host, port: target.endpoints.smtp.port, security: 'none', tls: { verify: true } };
    imap = await directClient(await labImap());
  });
  afterAll(async () => {
    await closeAll(imap);
    expect(await cleanUpLabRun(inject('lab'), runId), 'nothing of these tests is left on the lab').toEqual([]);
  });

  const labUsers = { alice: 'alice-password', bob: 'bob-password', zed: 'zed-password' };
  const forwarding = (options: SmtpFaultServerOptions = {}) =>
    server({ domain: LAB_DOMAIN, users: labUsers, forward: { endpoint: upstream, timeouts: TIMEOUTS }, ...options });

  function message(subject: string): { raw: Buffer; messageId: string } {
    const messageId = makeMessageId(runId);
    const raw = Buffer.from(
      [
        `From: alice@${LAB_DOMAIN}`,
        `To: alice@${LAB_DOMAIN}`,
        `Subject: ${subject} grüße`,
        // A complete message: without Date, Postfix's cleanup would add one (and the copy would differ from what was sent).
        `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
        `Message-ID: ${messageId}`,
        `${RUN_HEADER}: ${runId}`,
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: 8bit',
        '',
        'Ärger über Öl, 日本語',
        '.a line that starts with a dot',
        '',
      ].join('\r\n'),
      'utf8',
    );
    return { raw, messageId };
  }

  /** The copy in the lab INBOX, found by Message-ID (polled: delivery is asynchronous), its bytes as stored. */
  async function delivered(messageId: string): Promise<Buffer> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const lock = await imap!.getMailboxLock('INBOX', { readOnly: true });
      try {
        const uids = (await imap!.search({ header: { 'message-id': messageId } }, { uid: true })) || [];
        if (uids.length === 1) {
          const fetched = await imap!.fetchOne(String(uids[0]), { source: true }, { uid: true });
          if (fetched !== false && fetched.source !== undefined) return fetched.source;
        }
        expect(uids.length, `at most one copy of ${messageId}`).toBeLessThanOrEqual(1);
      } finally {
        lock.release();
      }
      if (Date.now() > deadline) throw new Error(`${messageId} did not arrive in the lab INBOX within 20 s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  it('relays what the faithful submission server accepts to the lab, where it lands byte-exact below the trace headers', async () => {
    const s = await forwarding({ role: 'submission' });
    const { client } = await session(s, 'starttls');
    await client.ehlo();
    expect((await client.starttls()).code).toBe(220);
    await client.ehlo();
    expect((await client.auth('PLAIN', 'alice', 'alice-password')).code).toBe(235);
    const { raw, messageId } = message('forwarded faithfully');
    expect((await client.mail(`alice@${LAB_DOMAIN}`, ['BODY=8BITMIME'])).code).toBe(250);
    expect((await client.rcpt(`alice@${LAB_DOMAIN}`)).code).toBe(250);
    const { reply } = await client.data(raw);
    expect(reply.code, reply.raw).toBe(250);
    await client.quit();
    // The upstream's own acceptance is what the client's DATA waited for.
    expect(s.messages[0]?.upstream).toMatch(/^250 /);
    const copy = await delivered(messageId);
    const comparison = compareDeliveredCopy(raw, copy);
    expect(comparison, comparison.difference).toMatchObject({ identical: true });
    expect(comparison.addedHeaders).toContain('Received');
  });

  it('relays what eight-bit-mangled stored: the copy in the lab has every 8th bit stripped', async () => {
    const s = await forwarding({ fault: 'eight-bit-mangled' });
    const { client } = await session(s);
    await client.ehlo();
    const { raw, messageId } = message('forwarded mangled');
    expect((await client.mail(`alice@${LAB_DOMAIN}`, ['BODY=8BITMIME'])).code).toBe(250);
    expect((await client.rcpt(`alice@${LAB_DOMAIN}`)).code).toBe(250);
    expect((await client.data(raw)).reply.code).toBe(250);
    await client.quit();
    const copy = await delivered(messageId);
    const stripped = Buffer.from(raw.map((octet) => octet & 0x7f));
    expect(compareDeliveredCopy(raw, copy).identical).toBe(false);
    expect(compareDeliveredCopy(stripped, copy)).toMatchObject({ identical: true });
  });

  it('keeps BODY=8BITMIME, SMTPUTF8 and a UTF-8 sender address on the relayed envelope, octet for octet', async () => {
    // The upstream here is a second fault server, which records the envelope it got: the lab's Dovecot
    // LMTP offers no SMTPUTF8, so the lab Postfix bounces a message that needs it (a limit of the lab).
    const upstreamServer = await server({ domain: LAB_DOMAIN, users: labUsers });
    const s = await server({
      domain: LAB_DOMAIN,
      users: labUsers,
      forward: { endpoint: { host: '127.0.0.1', port: upstreamServer.port, security: 'none', tls: { verify: true } }, timeouts: TIMEOUTS },
    });
    const { client } = await session(s);
    await client.ehlo();
    const sender = `jörg.ærø@${LAB_DOMAIN}`;
    const { raw } = message('forwarded with a UTF-8 sender');
    expect((await client.mail(sender, ['BODY=8BITMIME', 'SMTPUTF8', 'SIZE=1000'])).code).toBe(250);
    expect((await client.rcpt(`alice@${LAB_DOMAIN}`)).code).toBe(250);
    expect((await client.data(raw)).reply.code).toBe(250);
    expect(upstreamServer.messages).toEqual([{ from: sender, to: [`alice@${LAB_DOMAIN}`], data: raw, mailParams: ['BODY=8BITMIME', 'SMTPUTF8'] }]);
    expect(upstreamServer.commands).toContain(`MAIL FROM:<${sender}> BODY=8BITMIME SMTPUTF8`);
  });

  it("answers the client's DATA with the upstream's refusal, its code and text, when the upstream refuses", async () => {
    // zed is a user of the fault server, not of the lab: the lab Postfix refuses zed at RCPT.
    const s = await forwarding();
    const { client } = await session(s);
    await client.ehlo();
    expect((await client.mail(`alice@${LAB_DOMAIN}`)).code).toBe(250);
    expect((await client.rcpt(`zed@${LAB_DOMAIN}`)).code).toBe(250);
    const { reply } = await client.data(message('refused upstream').raw);
    expect(reply).toMatchObject({ code: 550, enhanced: '5.1.1' });
    expect(reply.raw).toMatch(/zed@lab\.test.*User unknown/);
    // The session goes on: the next transaction is served as usual.
    expect((await client.rset()).code).toBe(250);
    expect((await client.noop()).code).toBe(250);
  });

  it('answers DATA with a temporary 451 4.4.1 when the upstream cannot be reached, so the client knows nothing was taken', async () => {
    const closed = await new Promise<number>((resolve) => {
      const probe = createNetServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const s = await server({
      domain: LAB_DOMAIN,
      users: labUsers,
      forward: { endpoint: { host: '127.0.0.1', port: closed, security: 'none', tls: { verify: true } }, timeouts: TIMEOUTS },
    });
    const { client } = await session(s);
    await client.ehlo();
    expect((await client.mail(`alice@${LAB_DOMAIN}`)).code).toBe(250);
    expect((await client.rcpt(`alice@${LAB_DOMAIN}`)).code).toBe(250);
    const { reply } = await client.data(message('upstream down').raw);
    expect(reply).toMatchObject({ code: 451, enhanced: '4.4.1' });
    expect(reply.lines).toHaveLength(1);
    expect(s.messages).toEqual([]);
    expect((await client.noop()).code).toBe(250);
  });

  it('forwards nothing for a recipient the unknown-user fault dropped, and nothing when no recipient is left', async () => {
    const s = await forwarding({ fault: 'unknown-user-accepted' });
    const { client } = await session(s);
    await client.ehlo();
    expect((await client.mail(`alice@${LAB_DOMAIN}`)).code).toBe(250);
    expect((await client.rcpt(`nobody@${LAB_DOMAIN}`)).code).toBe(250);
    expect((await client.data(message('dropped').raw)).reply.code).toBe(250);
    expect(s.messages).toEqual([]);
    expect(s.forwarded).toBe(0);
  });
});
