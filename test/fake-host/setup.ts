import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestCertificate, type TestCertificate } from '../../fixtures/servers/test-cert.js';
import { startFakeMailHost, type FakeMailHost, type Pop3Faults } from '../../fixtures/servers/fake-mail-host.js';

export const ACCOUNTS = {
  alice: { password: 'alice-secret', address: 'alice@fake.test' },
  bob: { password: 'bob pass with spaces', address: 'bob@fake.test' },
};

/** A CRLF message; `body` lines are joined as given (no dot handling: that is the server's job). */
export function message(subject: string, body: string[]): Buffer {
  return Buffer.from(
    [`From: sender@fake.test`, `To: alice@fake.test`, `Subject: ${subject}`, `Message-ID: <${subject}@fake.test>`, '', ...body, ''].join('\r\n'),
  );
}

export const PLAIN_BODY = ['Hello from the fake host.', 'Second line of the body.'];
export const DOTTED_BODY = ['Dots ahead:', '.hidden line', '..two dots', '.', 'after a lone dot', '. space'];

export async function withTempCert(): Promise<{ cert: TestCertificate; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'mailprobe-fake-host-'));
  const cert = await makeTestCertificate(dir);
  return { cert, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function startHost(faults: Pop3Faults = {}, cert?: TestCertificate): Promise<FakeMailHost> {
  return startFakeMailHost({
    accounts: ACCOUNTS,
    faults,
    ...(cert ? { tls: { key: cert.key, cert: cert.cert } } : {}),
  });
}
