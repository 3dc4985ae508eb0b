import { readFile } from 'node:fs/promises';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';
import { SmtpClient, type SmtpEndpoint } from '../../src/protocols/smtp/client.js';
import { Transcript } from '../../src/transport/transcript.js';
import { labEnv } from '../support/run-suite.js';

/**
 * The lab's Postfix behaves like a well-run host on each rule the SMTP suite
 * checks, seen through mailprobe's own session client against the lab that
 * vitest's global setup started. Nothing here sends DATA to a real mailbox:
 * the rules are all decided before the message (RCPT, MAIL FROM SIZE=, EHLO).
 */
interface LabTarget {
  host: string;
  tls: { ca_file: string; servername: string };
  endpoints: Record<string, { host?: string; port: number; security: SmtpEndpoint['security'] }>;
}

const TIMEOUTS = { dns: 5_000, tcp: 5_000, tls: 10_000, greeting: 10_000, command: 10_000 };
let target: LabTarget;
let ca: string;
let password = '';
const clients: SmtpClient[] = [];

beforeAll(async () => {
  const lab = inject('lab');
  target = parse(await readFile(lab.targetFile, 'utf8')) as LabTarget;
  ca = await readFile(target.tls.ca_file, 'utf8');
  password = (await labEnv(lab.envFile))['MAILPROBE_LAB_PRIMARY_PASSWORD'] ?? '';
  expect(password).not.toBe('');
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.quit()));
});

async function connect(endpoint: 'smtp' | 'submission' | 'smtps') {
  const e = target.endpoints[endpoint]!;
  const transcript = new Transcript();
  const client = await SmtpClient.connect({
    endpoint: { host: e.host ?? target.host, port: e.port, security: e.security, tls: { verify: true, ca, servername: target.tls.servername } },
    transcript,
    session: endpoint,
    timeouts: TIMEOUTS,
  });
  clients.push(client);
  return { client, transcript };
}

describe('the lab Postfix on the MX port (smtp, no AUTH)', () => {
  it('greets 220, advertises PIPELINING, SIZE with its limit, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES, and no AUTH', async () => {
    const { client } = await connect('smtp');
    expect(client.banner?.code).toBe(220);
    expect((await client.ehlo()).code).toBe(250);
    const ehlo = client.advertised;
    expect(ehlo).toMatchObject({ pipelining: true, eightBitMime: true, smtpUtf8: true, enhancedStatusCodes: true, auth: [] });
    expect(ehlo.size?.limit).toBeGreaterThan(0);
    expect(ehlo.params.has('AUTH')).toBe(false);
  });

  it('refuses RCPT to a domain it does not serve, unauthenticated, with 550 5.7.1 (relay access denied: RFC 5321 §3.6.2)', async () => {
    const { client } = await connect('smtp');
    await client.ehlo();
    expect((await client.mail('relay-probe@mailprobe.invalid')).code).toBe(250);
    const reply = await client.rcpt('someone@example.com');
    expect(reply.code).toBeGreaterThanOrEqual(500);
    // RFC 5321 §3.6.2: "If it declines to relay mail to a particular address for policy reasons, a 550 response SHOULD be returned."
    expect(reply).toMatchObject({ code: 550, enhanced: '5.7.1' });
    expect(reply.lines[0]).toMatch(/Relay access denied/);
    expect((await client.rset()).code).toBe(250);
  });

  it('refuses an unknown local recipient at RCPT with 550 5.1.1, and takes a known one (RFC 5321 §3.3)', async () => {
    const { client } = await connect('smtp');
    await client.ehlo();
    expect((await client.mail('probe@mailprobe.invalid')).code).toBe(250);
    expect(await client.rcpt('nobody-here@lab.test')).toMatchObject({ code: 550, enhanced: '5.1.1' });
    expect((await client.rcpt('alice@lab.test')).code).toBe(250);
    expect((await client.rset()).code).toBe(250);
  });

  it('refuses a declared MAIL FROM SIZE= over its advertised limit with 552 5.3.4, and takes one at the limit (RFC 1870 §6)', async () => {
    const { client } = await connect('smtp');
    await client.ehlo();
    const limit = client.advertised.size?.limit ?? 0;
    expect(limit).toBeGreaterThan(0);
    expect(await client.mail('probe@mailprobe.invalid', [`SIZE=${limit + 1}`])).toMatchObject({ code: 552, enhanced: '5.3.4' });
    expect((await client.mail('probe@mailprobe.invalid', [`SIZE=${limit}`])).code).toBe(250);
    expect((await client.rset()).code).toBe(250);
  });

  it('keeps a refused SIZE= until RSET (observed on Postfix 3.7): a later MAIL FROM without SIZE is 552 too, and RSET clears it', async () => {
    // Not an RFC rule, but what a SIZE check must allow for: after the 552, RSET before the next transaction.
    const { client } = await connect('smtp');
    await client.ehlo();
    const over = `SIZE=${(client.advertised.size?.limit ?? 0) + 1}`;
    expect((await client.mail('probe@mailprobe.invalid', [over])).code).toBe(552);
    expect((await client.rset()).code).toBe(250);
    expect((await client.mail('probe@mailprobe.invalid')).code).toBe(250);
    expect((await client.rset()).code).toBe(250);
  });

  it('takes BODY=8BITMIME and SMTPUTF8 on MAIL FROM, and judges a UTF-8 address at RCPT like any other (RFC 6152, RFC 6531)', async () => {
    const { client } = await connect('smtp');
    await client.ehlo();
    expect((await client.mail('prüfer@mailprobe.invalid', ['BODY=8BITMIME', 'SMTPUTF8'])).code).toBe(250);
    expect(await client.rcpt('jörg-unbekannt@lab.test')).toMatchObject({ code: 550, enhanced: '5.1.1' });
    expect((await client.rset()).code).toBe(250);
  });

  it('answers a pipelined MAIL/RCPT/RCPT/DATA group in order (RFC 2920), and refuses DATA when no recipient was taken', async () => {
    const { client } = await connect('smtp');
    await client.ehlo();
    const outcome = await client.pipeline(
      { from: 'probe@mailprobe.invalid', to: ['someone@example.com', 'nobody-here@lab.test'] },
      Buffer.from('Subject: never sent\r\n\r\nx\r\n'),
    );
    expect(outcome.mail.code).toBe(250);
    expect(outcome.rcpts.map((r) => [r.code, r.enhanced])).toEqual([
      [550, '5.7.1'],
      [550, '5.1.1'],
    ]);
    expect(outcome.data.go.code).toBe(554);
    expect(outcome.data.final).toBeUndefined();
  });
});

describe('the lab Postfix on submission (587, STARTTLS) and submissions (465, implicit TLS)', () => {
  it('submission offers STARTTLS and no AUTH before TLS, refuses AUTH there, and offers and takes AUTH after (RFC 4954 §4, RFC 3207 §4.2)', async () => {
    const { client, transcript } = await connect('submission');
    await client.ehlo();
    expect(client.ehloBeforeTls).toMatchObject({ starttls: true, auth: [] });
    const early = await client.auth('PLAIN', 'alice', password);
    expect(early.code).toBeGreaterThanOrEqual(500);
    expect((await client.starttls()).code).toBe(220);
    expect(client.advertised.keywords).toEqual([]);
    await client.ehlo();
    expect(client.ehloAfterTls?.starttls).toBe(false);
    expect(client.ehloAfterTls?.auth).toEqual(expect.arrayContaining(['PLAIN', 'LOGIN']));
    expect(await client.auth('PLAIN', 'alice', password)).toMatchObject({ code: 235, enhanced: '2.7.0' });
    const text = transcript.entries.map((e) => e.text).join('\n');
    expect(text).not.toContain(password);
    expect(text).not.toContain(Buffer.from(`\0alice\0${password}`).toString('base64'));
  });

  it('submission refuses MAIL before STARTTLS (smtpd_tls_security_level=encrypt)', async () => {
    const { client } = await connect('submission');
    await client.ehlo();
    const reply = await client.mail('alice@lab.test');
    expect(reply).toMatchObject({ code: 530, enhanced: '5.7.0' });
  });

  it('submissions (465) is TLS from the first byte and offers AUTH at once (RFC 8314)', async () => {
    const { client } = await connect('smtps');
    expect(client.secure).toBe(true);
    expect(client.banner?.code).toBe(220);
    await client.ehlo();
    expect(client.ehloBeforeTls).toBeUndefined();
    expect(client.ehloAfterTls?.auth).toEqual(expect.arrayContaining(['PLAIN', 'LOGIN']));
    expect((await client.auth('LOGIN', 'alice', password)).code).toBe(235);
  });

  it('a wrong password is refused 535 5.7.8 on submissions', async () => {
    const { client } = await connect('smtps');
    await client.ehlo();
    expect(await client.auth('PLAIN', 'alice', `${password}-wrong`)).toMatchObject({ code: 535, enhanced: '5.7.8' });
  });
});
