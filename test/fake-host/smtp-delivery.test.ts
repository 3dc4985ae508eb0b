import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMailHost } from '../../fixtures/servers/fake-mail-host.js';
import type { TestCertificate } from '../../fixtures/servers/test-cert.js';
import { startHost, withTempCert } from './setup.js';
import { WireClient, linesOf, unstuff } from './wire-client.js';

/** Reads one SMTP reply (all continuation lines); returns its lines. */
async function reply(client: WireClient): Promise<string[]> {
  const lines = [await client.readLine()];
  while (lines.at(-1)![3] === '-') lines.push(await client.readLine());
  return lines;
}

async function smtp(client: WireClient, line: string): Promise<string> {
  client.write(`${line}\r\n`);
  return (await reply(client)).join('\n');
}

const BODY = 'From: sender@remote.test\r\nTo: alice@fake.test\r\nSubject: hi\r\n\r\nfirst line\r\n.starts with a dot\r\n\r\nlast line\r\n';
// SMTP transparency (RFC 5321 §4.5.2): the client stuffs, the server unstuffs.
const BODY_ON_WIRE = BODY.replace(/^\./gm, '..');

describe('fake host SMTP delivery', () => {
  let cert: TestCertificate;
  let cleanup: () => Promise<void>;
  let host: FakeMailHost | undefined;
  beforeAll(async () => {
    ({ cert, cleanup } = await withTempCert());
  });
  afterEach(async () => {
    await host?.close();
    host = undefined;
  });
  afterAll(() => cleanup());

  it('delivers to each known recipient with Return-Path and Received, body byte-exact; unknown gets 550', async () => {
    host = await startHost();
    const { client, greeting } = await WireClient.open(host.smtpPort);
    expect(greeting).toMatch(/^220 /);
    expect(await smtp(client, 'EHLO client.test')).toMatch(/^250/);
    expect(await smtp(client, 'MAIL FROM:<sender@remote.test>')).toMatch(/^250/);
    expect(await smtp(client, 'RCPT TO:<alice@fake.test>')).toMatch(/^250/);
    expect(await smtp(client, 'RCPT TO:<Bob@Fake.Test>')).toMatch(/^250/);
    expect(await smtp(client, 'RCPT TO:<nobody@fake.test>')).toMatch(/^550/);
    expect(await smtp(client, 'DATA')).toMatch(/^354/);
    expect(await smtp(client, `${BODY_ON_WIRE}.`)).toMatch(/^250/);
    expect(await smtp(client, 'QUIT')).toMatch(/^221/);

    for (const [user, rcpt] of [
      ['alice', 'alice@fake.test'],
      ['bob', 'Bob@Fake.Test'],
    ] as const) {
      const drop = host.maildrop(user);
      expect(drop).toHaveLength(1);
      const raw = drop[0]!.raw.toString('latin1');
      const [returnPath, received, ...rest] = raw.split('\r\n');
      expect(returnPath).toBe('Return-Path: <sender@remote.test>');
      expect(received).toMatch(
        new RegExp(
          `^Received: from client\\.test \\(\\[127\\.0\\.0\\.1\\]\\) by fake\\.test with ESMTP id \\S+ for <${rcpt}>; \\w{3}, \\d{2} \\w{3} \\d{4} \\d{2}:\\d{2}:\\d{2} \\+0000$`,
        ),
      );
      expect(rest.join('\r\n')).toBe(BODY);
    }
    expect(host.maildrop('alice')[0]!.uid).not.toBe(host.maildrop('bob')[0]!.uid);
  });

  it('what SMTP delivered is what POP3 RETR returns, with a matching LIST size', async () => {
    host = await startHost();
    const { client } = await WireClient.open(host.smtpPort);
    await smtp(client, 'HELO client.test');
    await smtp(client, 'MAIL FROM:<>');
    await smtp(client, 'RCPT TO:<alice@fake.test>');
    await smtp(client, 'DATA');
    expect(await smtp(client, `${BODY_ON_WIRE}.`)).toMatch(/^250/);
    expect(host.maildrop('alice')[0]!.raw.toString()).toMatch(/^Return-Path: <>\r\n/);

    const { client: pop } = await WireClient.open(host.pop3Port);
    await pop.login('alice', 'alice-secret');
    const size = Number(linesOf((await pop.multi('LIST')).body)[0]!.split(' ')[1]);
    const retrieved = unstuff((await pop.multi('RETR 1')).body);
    expect(retrieved.equals(host.maildrop('alice')[0]!.raw)).toBe(true);
    expect(retrieved.length).toBe(size);
  });

  it('accepts AUTH PLAIN and LOGIN with the account passwords and refuses wrong ones', async () => {
    host = await startHost();
    const b64 = (s: string): string => Buffer.from(s).toString('base64');
    const { client } = await WireClient.open(host.smtpPort);
    expect(await smtp(client, 'EHLO client.test')).toMatch(/AUTH PLAIN LOGIN/);
    expect(await smtp(client, `AUTH PLAIN ${b64('\0alice\0nope')}`)).toMatch(/^535/);
    expect(await smtp(client, `AUTH PLAIN ${b64('\0alice\0alice-secret')}`)).toMatch(/^235/);

    const { client: c2 } = await WireClient.open(host.smtpPort);
    await smtp(c2, 'EHLO client.test');
    expect(await smtp(c2, 'AUTH LOGIN')).toMatch(/^334/);
    expect(await smtp(c2, b64('bob@fake.test'))).toMatch(/^334/);
    expect(await smtp(c2, b64('bob pass with spaces'))).toMatch(/^235/);
  });

  it('offers STARTTLS when a certificate is configured and records ESMTPS in Received', async () => {
    host = await startHost({}, cert);
    const { client } = await WireClient.open(host.smtpPort);
    expect(await smtp(client, 'EHLO client.test')).toMatch(/STARTTLS/);
    expect(await smtp(client, 'STARTTLS')).toMatch(/^220/);
    await client.startTls(cert.ca);
    expect(await smtp(client, 'EHLO client.test')).not.toMatch(/STARTTLS/);
    await smtp(client, 'MAIL FROM:<sender@remote.test>');
    await smtp(client, 'RCPT TO:<alice@fake.test>');
    await smtp(client, 'DATA');
    expect(await smtp(client, `${BODY_ON_WIRE}.`)).toMatch(/^250/);
    expect(host.maildrop('alice')[0]!.raw.toString()).toMatch(/\r\nReceived: .* with ESMTPS id /);
  });

  it('does not offer STARTTLS without a certificate', async () => {
    host = await startHost();
    const { client } = await WireClient.open(host.smtpPort);
    expect(await smtp(client, 'EHLO client.test')).not.toMatch(/STARTTLS/);
  });
});
