import { createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { SmtpClient } from '../../src/protocols/smtp/client.js';
import { generateMessage } from '../../src/protocols/smtp/generated-message.js';
import { type MessageData, sendRawMessage, type SmtpEndpoint } from '../../src/protocols/smtp/send.js';
import { classifyError } from '../../src/runner/classify.js';
import { bufferedBytes } from '../../src/transport/limits.js';
import { Transcript } from '../../src/transport/transcript.js';
import type { FakeSession } from '../support/fake-line-server.js';
import { testCerts } from '../support/test-certs.js';
import { startSmtpFake, type SmtpFake, type SmtpFakeOptions } from './fake-smtp.js';

/**
 * The SMTP dialogue against in-process servers, through the public send API
 * (sendRawMessage + classifyError) so that every case says what a run would
 * report: the reply grammar of RFC 5321 §4.2, multi-line replies, DATA
 * transparency (§4.5.2), AUTH tokens kept out of the transcript, STARTTLS
 * plaintext injection (CVE-2011-0411), and a deadline on every reply.
 */
const fakes: SmtpFake[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

const TIMEOUTS = { dns: 1_000, tcp: 2_000, tls: 2_000, greeting: 2_000, command: 1_000 };
const USER = 'alice';
const PASSWORD = 'pw"7\\z!';

async function fake(options: SmtpFakeOptions = {}): Promise<SmtpFake> {
  const f = await startSmtpFake(options);
  fakes.push(f);
  return f;
}

interface Attempt {
  readonly security?: SmtpEndpoint['security'];
  readonly raw?: MessageData;
  readonly to?: readonly string[];
  readonly auth?: boolean;
  readonly ca?: string;
  readonly signal?: AbortSignal;
  readonly timeouts?: typeof TIMEOUTS;
}

async function attempt(f: SmtpFake, a: Attempt = {}) {
  const added: string[] = [];
  const transcript = new Transcript({ secrets: { add: (t) => void added.push(t) } });
  const started = performance.now();
  const outcome = await sendRawMessage({
    endpoint: {
      host: '127.0.0.1',
      port: f.port,
      security: a.security ?? 'none',
      tls: { verify: true, ...(a.ca ? { ca: a.ca, servername: 'localhost' } : {}) },
    },
    ...(a.auth === false ? {} : { auth: { user: USER, password: PASSWORD } }),
    envelope: { from: 'a@fake.test', to: a.to ?? ['b@fake.test'] },
    raw: a.raw ?? Buffer.from('Subject: x\r\n\r\nbody\r\n'),
    transcript,
    session: 'submission',
    timeouts: a.timeouts ?? TIMEOUTS,
    ...(a.signal ? { signal: a.signal } : {}),
  }).then(
    (result) => ({ ok: true as const, result }),
    (error: unknown) => ({ ok: false as const, error, verdict: classifyError(error) }),
  );
  const lines = transcript.entries.map((e) => `${e.direction === 'client' ? 'C' : e.direction === 'server' ? 'S' : '-'}: ${e.text}`);
  return { outcome, lines, text: lines.join('\n'), added, ms: performance.now() - started };
}

const reply = (text: string) => (s: FakeSession) => s.write(text);

describe('RFC 5321 §4.2 reply grammar', () => {
  it.each([
    ['garbage bytes', Buffer.from('\x00\xff\xfe garbage \x1b[2J\r\n', 'latin1')],
    ['a code outside 2xx-5xx', '650 hostile.test\r\n'],
    ['a letter in the code', '25O hostile.test\r\n'],
    ['no separator after the code', '250hostile.test\r\n'],
    ['a control character in the text', '250 hostile\x01test\r\n'],
  ])('an EHLO reply with %s is a failed "the server answers in SMTP syntax" citing RFC 5321 §4.2', async (_what, bytes) => {
    const f = await fake({ on: { EHLO: (s) => s.write(bytes) } });
    const { outcome, text } = await attempt(f);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.verdict).toMatchObject({ kind: 'failed', check: { description: 'the server answers in SMTP syntax', passed: false, rfc: 'RFC 5321 §4.2' } });
    expect(text).not.toMatch(/^C: MAIL/m);
  });

  it('a multi-line reply whose lines carry different codes is failed, citing §4.2.1', async () => {
    const f = await fake({ on: { EHLO: reply('250-fake.test\r\n251-AUTH PLAIN\r\n250 SIZE 10\r\n') } });
    const { outcome } = await attempt(f);
    expect(!outcome.ok && outcome.verdict).toMatchObject({ kind: 'failed', check: { rfc: 'RFC 5321 §4.2.1' } });
  });

  it('accepts the code alone, with or without its space, and UTF-8 text (RFC 5321 §4.2 "process the code alone")', async () => {
    const f = await fake({
      on: {
        EHLO: reply('250-fake.test grüße\r\n250-AUTH PLAIN\r\n250\r\n'),
        MAIL: reply('250 \r\n'),
        RCPT: reply('250\r\n'),
      },
    });
    const { outcome } = await attempt(f);
    expect(outcome).toMatchObject({ ok: true, result: { accepted: ['b@fake.test'], rejected: [] } });
  });

  it('a greeting of no protocol at all is errored EWRONG_PROTOCOL, not a failure and no TLS advice', async () => {
    const f = await fake({ greeting: 'HTTP/1.1 400 Bad Request\r\n' });
    const { outcome } = await attempt(f);
    expect(!outcome.ok && outcome.verdict).toMatchObject({ kind: 'errored', problem: { code: 'EWRONG_PROTOCOL', phase: 'greeting' } });
    if (!outcome.ok && outcome.verdict.kind === 'errored') expect(outcome.verdict.problem.message).not.toMatch(/ca_file|insecure|certificate/);
  });
});

describe('the dialogue', () => {
  it('reads multi-line replies whole and picks AUTH PLAIN from the EHLO AUTH line', async () => {
    const f = await fake({ greeting: '220-fake.test ESMTP\r\n220-second line\r\n220 ready\r\n' });
    const { outcome, lines } = await attempt(f);
    expect(outcome.ok).toBe(true);
    expect(lines).toEqual(
      expect.arrayContaining(['S: 220-fake.test ESMTP', 'S: 220 ready', 'C: EHLO mailprobe.invalid', 'S: 250 SIZE 1000000', 'C: AUTH PLAIN [redacted]']),
    );
    expect(lines.indexOf('S: 220 ready')).toBeLessThan(lines.indexOf('C: EHLO mailprobe.invalid'));
  });

  it('shows every line of the greeting in the transcript exactly once, in order', async () => {
    const f = await fake({ greeting: '220-fake.test ESMTP\r\n220-second line\r\n220 ready\r\n' });
    const { outcome, lines } = await attempt(f);
    expect(outcome.ok).toBe(true);
    expect(lines.slice(0, lines.indexOf('C: EHLO mailprobe.invalid')).filter((l) => l.startsWith('S: '))).toEqual([
      'S: 220-fake.test ESMTP',
      'S: 220-second line',
      'S: 220 ready',
    ]);
  });

  it('falls back to HELO when EHLO is not recognised (RFC 5321 §3.2), and then cannot log in', async () => {
    const f = await fake({ on: { EHLO: reply('500 5.5.1 what?\r\n') } });
    const plain = await attempt(f, { auth: false });
    expect(plain.outcome.ok).toBe(true);
    expect(plain.lines).toContain('C: HELO mailprobe.invalid');
    const withAuth = await attempt(f);
    expect(!withAuth.outcome.ok && withAuth.outcome.verdict).toMatchObject({ kind: 'errored', problem: { code: 'EAUTH' } });
  });

  it('records accepted and rejected recipients; all of them refused with one temporary refusal is inconclusive', async () => {
    const f = await fake({
      on: { RCPT: (s, line) => s.write(/nobody/.test(line) ? '550 5.1.1 no such user\r\n' : /busy/.test(line) ? '450 4.2.1 busy\r\n' : '250 ok\r\n') },
    });
    const some = await attempt(f, { to: ['b@fake.test', 'nobody@fake.test'] });
    expect(some.outcome).toMatchObject({ ok: true, result: { accepted: ['b@fake.test'], rejected: ['nobody@fake.test'] } });
    const none = await attempt(f, { to: ['nobody@fake.test', 'busy@fake.test'] });
    expect(!none.outcome.ok && none.outcome.verdict).toMatchObject({ kind: 'inconclusive' });
    expect(none.text).not.toMatch(/^C: DATA/m);
  });

  it('dot-stuffs every line that starts with "." and ends the data with CRLF.CRLF (RFC 5321 §4.5.2); the body is not logged', async () => {
    const f = await fake();
    const raw = Buffer.from('Subject: dots\r\n\r\n.\r\n..two\r\n.leading\r\nmiddle . dot\nbare lf line\r\nsecret-body-line\r\nlast', 'latin1');
    const { outcome, text } = await attempt(f, { raw });
    expect(outcome.ok).toBe(true);
    expect(f.wireMessages[0]).toEqual(['Subject: dots', '', '..', '...two', '..leading', 'middle . dot', 'bare lf line', 'secret-body-line', 'last']);
    expect(f.messages[0]).toBe('Subject: dots\r\n\r\n.\r\n..two\r\n.leading\r\nmiddle . dot\r\nbare lf line\r\nsecret-body-line\r\nlast');
    expect(text).not.toContain('secret-body-line');
    expect(text).toMatch(/message data: \d+ octets, 9 lines, 3 dot-stuffed/);
  });

  it('a 250 to DATA is not a go-ahead: nothing is sent, and the check fails (RFC 5321 §3.3)', async () => {
    const f = await fake({ on: { DATA: reply('250 2.0.0 ok\r\n') } });
    const { outcome } = await attempt(f);
    expect(!outcome.ok && outcome.verdict).toMatchObject({ kind: 'failed', check: { rfc: 'RFC 5321 §4.3.2' } });
    expect(f.wireMessages).toEqual([]);
  });
});

describe('greeting and MAIL parameters', () => {
  it('a 554 greeting is the host turning this client away (RFC 5321 §3.1): errored EREFUSED, no broken rule; 421 is inconclusive', async () => {
    const refused = await attempt(await fake({ greeting: '554 5.3.2 no SMTP service here\r\n' }));
    expect(!refused.outcome.ok && refused.outcome.verdict).toMatchObject({ kind: 'errored', problem: { code: 'EREFUSED', phase: 'greeting' } });
    const later = await attempt(await fake({ greeting: '421 4.3.2 shutting down\r\n' }));
    expect(!later.outcome.ok && later.outcome.verdict).toMatchObject({ kind: 'inconclusive' });
  });

  it('8-bit content is announced with BODY=8BITMIME only when EHLO offers 8BITMIME', async () => {
    const raw = Buffer.from('Subject: caf\xe9\r\n\r\nd\xe9j\xe0 vu\r\n', 'latin1');
    const offered = await fake();
    expect((await attempt(offered, { raw })).outcome.ok).toBe(true);
    expect(offered.server.received).toContain('MAIL FROM:<a@fake.test> BODY=8BITMIME');
    const plain = await fake({ ehlo: () => '250-fake.test\r\n250 AUTH PLAIN\r\n' });
    expect((await attempt(plain, { raw })).outcome.ok).toBe(true);
    expect(plain.server.received).toContain('MAIL FROM:<a@fake.test>');
  });
});

describe('AUTH tokens', () => {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

  it('AUTH PLAIN goes out with its initial response marked secret, and the exact token reaches the redactor', async () => {
    const f = await fake();
    const { outcome, text, added } = await attempt(f);
    expect(outcome.ok).toBe(true);
    const token = b64(`\0${USER}\0${PASSWORD}`);
    expect(f.server.received).toContain(`AUTH PLAIN ${token}`);
    expect(text).toContain('C: AUTH PLAIN [redacted]');
    expect(text).not.toContain(token);
    expect(added).toContain(token);
  });

  it('AUTH LOGIN (only LOGIN offered): the password line shows [redacted], its token reaches the redactor', async () => {
    const f = await fake({ ehlo: () => '250-fake.test\r\n250 AUTH LOGIN\r\n' });
    const { outcome, text, added } = await attempt(f);
    expect(outcome.ok).toBe(true);
    expect(f.server.received).toEqual(expect.arrayContaining(['AUTH LOGIN', b64(USER), b64(PASSWORD)]));
    expect(text).toContain('C: [redacted]');
    expect(text).not.toContain(b64(PASSWORD));
    expect(added).toContain(b64(PASSWORD));
  });

  it('an AUTH PLAIN line that would pass 512 octets sends the token after an empty 334 instead (RFC 4954 §4)', async () => {
    const f = await fake();
    const long = 'p'.repeat(400);
    const added: string[] = [];
    const transcript = new Transcript({ secrets: { add: (t) => void added.push(t) } });
    await sendRawMessage({
      endpoint: { host: '127.0.0.1', port: f.port, security: 'none', tls: { verify: true } },
      auth: { user: USER, password: long },
      envelope: { from: 'a@fake.test', to: ['b@fake.test'] },
      raw: Buffer.from('Subject: x\r\n\r\nbody\r\n'),
      transcript,
      session: 'submission',
      timeouts: TIMEOUTS,
    });
    const token = b64(`\0${USER}\0${long}`);
    expect(f.server.received).toEqual(expect.arrayContaining(['AUTH PLAIN', token]));
    expect(transcript.entries.map((e) => e.text).join('\n')).not.toContain(long.slice(0, 50));
    expect(added).toContain(token);
  });

  it('535 is errored EAUTH, 454 inconclusive', async () => {
    const refused = await attempt(await fake({ on: { AUTH: reply('535 5.7.8 no\r\n') } }));
    expect(!refused.outcome.ok && refused.outcome.verdict).toMatchObject({ kind: 'errored', problem: { code: 'EAUTH', phase: 'auth' } });
    const later = await attempt(await fake({ on: { AUTH: reply('454 4.7.0 later\r\n') } }));
    expect(!later.outcome.ok && later.outcome.verdict).toMatchObject({ kind: 'inconclusive' });
  });
});

describe('STARTTLS (RFC 3207)', () => {
  it('plaintext injected after "220 go ahead" and before the handshake is refused (CVE-2011-0411); nothing is sent', async () => {
    const { localhost, ca } = await testCerts();
    const f = await fake({ starttls: localhost, on: { STARTTLS: (s) => s.startTls('220 2.0.0 go ahead\r\n250-injected\r\n250 AUTH PLAIN\r\n') } });
    const { outcome } = await attempt(f, { security: 'starttls', ca });
    expect(!outcome.ok && outcome.verdict).toMatchObject({ kind: 'errored', problem: { code: 'ESTARTTLS', phase: 'starttls' } });
    if (!outcome.ok && outcome.verdict.kind === 'errored') expect(outcome.verdict.problem.message).toContain('CVE-2011-0411');
    expect(f.server.received.some((l) => /^(AUTH|MAIL)/.test(l))).toBe(false);
  });

  it('after the handshake, EHLO again, and only what the second EHLO offers counts (RFC 3207 §4.2)', async () => {
    const { localhost, ca } = await testCerts();
    // Before TLS: AUTH LOGIN only; after: AUTH PLAIN only.
    const f = await fake({
      starttls: localhost,
      ehlo: (secure) => (secure ? '250-fake.test\r\n250 AUTH PLAIN\r\n' : '250-fake.test\r\n250-AUTH LOGIN\r\n250 STARTTLS\r\n'),
    });
    const { outcome, lines } = await attempt(f, { security: 'starttls', ca });
    expect(outcome.ok).toBe(true);
    expect(lines.filter((l) => l === 'C: EHLO mailprobe.invalid')).toHaveLength(2);
    expect(lines).toContain('C: AUTH PLAIN [redacted]');
  });

  it('STARTTLS not offered on a starttls endpoint is errored: nothing goes out in clear', async () => {
    const f = await fake();
    const { outcome } = await attempt(f, { security: 'starttls' });
    expect(!outcome.ok && outcome.verdict).toMatchObject({ kind: 'errored', problem: { code: 'ESTARTTLS', phase: 'starttls' } });
    expect(f.server.received.some((l) => /^(AUTH|MAIL)/.test(l))).toBe(false);
  });
});

describe('deadlines', () => {
  it('an EHLO reply trickled one line at a time, each within the command timeout, ends at the reply deadline', { timeout: 30_000 }, async () => {
    const f = await fake({
      on: {
        EHLO: async (s) => {
          await s.write('250-fake.test\r\n');
          for (let i = 0; i < 100 && !s.closed; i++) {
            await new Promise((r) => setTimeout(r, 300));
            await s.write(`250-X${i}\r\n`);
          }
        },
      },
    });
    const { outcome, ms } = await attempt(f);
    expect(!outcome.ok && outcome.verdict).toMatchObject({ kind: 'errored', problem: { code: 'ETIMEOUT' } });
    // The reply deadline (1 s) plus a margin far above it; the trickle would last 30 s.
    expect(ms).toBeLessThan(TIMEOUTS.command + 8_000);
  });

  it('the run’s AbortSignal ends a wait at once and closes the socket', { timeout: 30_000 }, async () => {
    const f = await fake({ on: { MAIL: () => undefined } });
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error('interrupted by SIGINT')), 300);
    const { outcome, ms } = await attempt(f, { signal: abort.signal, timeouts: { ...TIMEOUTS, command: 20_000 } });
    expect(!outcome.ok && outcome.verdict).toMatchObject({ kind: 'errored', problem: { code: 'EABORTED' } });
    expect(ms).toBeLessThan(10_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(f.server.sessions[0]?.closed).toBe(true);
  });

  it('the reply bytes are counted in bufferedBytes while a reply is assembled', async () => {
    const many = Array.from({ length: 2_000 }, (_, i) => `250-X-EXTENSION-${i}`).join('\r\n');
    const f = await fake({ on: { EHLO: reply(`250-fake.test\r\n${many}\r\n250 AUTH PLAIN\r\n`) } });
    bufferedBytes.resetPeak();
    const { outcome } = await attempt(f);
    expect(outcome.ok).toBe(true);
    // 2 000 lines of 18-21 octets: nearly the whole reply is held at its peak.
    expect(bufferedBytes.peak).toBeGreaterThan(2_000 * 15);
  });

  it('message data the server stops reading is bounded by the minimum transfer rate, and the error says so', { timeout: 30_000 }, async () => {
    // A server that answers 354 and then never reads again: the client's write can never complete.
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.write('220 fake.test ESMTP\r\n');
      let buffer = '';
      const onData = (chunk: Buffer): void => {
        buffer += chunk.toString('latin1');
        for (let lf = buffer.indexOf('\n'); lf !== -1; lf = buffer.indexOf('\n')) {
          const line = buffer.slice(0, lf).replace(/\r$/, '');
          buffer = buffer.slice(lf + 1);
          if (/^EHLO/i.test(line)) socket.write('250-fake.test\r\n250 SIZE 100000000\r\n');
          else if (/^DATA/i.test(line)) {
            socket.write('354 go ahead\r\n');
            socket.off('data', onData);
            socket.pause();
            return;
          } else socket.write('250 ok\r\n');
        }
      };
      socket.on('data', onData);
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
    try {
      const port = (server.address() as AddressInfo).port;
      const client = await SmtpClient.open({
        endpoint: { host: '127.0.0.1', port, security: 'none', tls: { verify: true } },
        transcript: new Transcript(),
        session: 'submission',
        timeouts: TIMEOUTS,
        // 64 MiB/s: 32 MiB of data may take the command timeout plus half a second.
        limits: { minTransferRate: 64 * 1024 * 1024 },
      });
      const started = performance.now();
      const raw = Buffer.alloc(32 * 1024 * 1024, 'x\r\n');
      const error = await client.send({ from: 'a@fake.test', to: ['b@fake.test'] }, raw).then(
        () => undefined,
        (e: unknown) => e as Error & { code?: string },
      );
      expect(error?.code).toBe('ETIMEOUT');
      expect(error?.message).toMatch(/minimum rate of \d+ bytes\/s/);
      expect(performance.now() - started).toBeLessThan(TIMEOUTS.command + 500 + 10_000);
      expect(client.connection.closed).toBe(true);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((ok) => server.close(() => ok()));
    }
  });
});

describe('a message sent in chunks (smtp.send size:)', () => {
  const generated = () =>
    generateMessage({ runId: 'r1', from: 'a@fake.test', to: ['b@fake.test'], subject: 'big', size: 300_000, date: new Date(0), messageId: '<m@fake.test>' });
  const source = (m: ReturnType<typeof generated>): MessageData => ({ size: m.size, chunks: () => m.chunks() });

  it('declares SIZE= at MAIL when EHLO offers SIZE, and the server receives exactly the generated octets', async () => {
    const f = await fake();
    const message = generated();
    const { outcome, lines, text } = await attempt(f, { auth: false, raw: source(message) });
    expect(outcome.ok, `${JSON.stringify(outcome)}\n${text}`).toBe(true);
    expect(lines).toContain(`C: MAIL FROM:<a@fake.test> SIZE=${message.size}`);
    expect(
      lines.some((l) => /\[message data: 300000 octets, \d+ lines, sent in chunks; not shown\]$/.test(l)),
      text,
    ).toBe(true);
    const received = `${f.messages[0]}\r\n`;
    expect(createHash('sha256').update(received, 'latin1').digest('hex')).toBe(message.sha256);
  });

  it('sends no data when the server refuses the declared size at MAIL (RFC 1870 §6.1: 552)', async () => {
    let dataSeen = false;
    const f = await fake({
      on: {
        MAIL: (s, line) => s.write(/SIZE=300000\b/.test(line) ? '552 5.3.4 message too big\r\n' : '250 ok\r\n'),
        DATA: (s) => {
          dataSeen = true;
          return s.write('354 go\r\n');
        },
      },
    });
    const { outcome } = await attempt(f, { auth: false, raw: source(generated()) });
    expect(outcome.ok).toBe(false);
    expect(dataSeen).toBe(false);
    expect(f.messages).toHaveLength(0);
  });
});
