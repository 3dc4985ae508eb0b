import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { sendRawMessage, type SmtpEndpoint } from '../../src/protocols/smtp/send.js';
import { classifyError } from '../../src/runner/classify.js';
import { Transcript } from '../../src/transport/transcript.js';
import { FakeLineServer } from '../support/fake-line-server.js';
import { testCerts } from '../support/test-certs.js';

/**
 * A submission port that cannot be secured is a run that could not happen
 * (errored, like POP3 STLS and IMAP STARTTLS), never a server failure
 * stamped with some clause of the scenario.
 */
const servers: SMTPServer[] = [];
const fakes: FakeLineServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function listen(options: SMTPServerOptions): Promise<number> {
  const server = new SMTPServer({ logger: false, disableReverseLookup: true, authOptional: true, closeTimeout: 50, ...options });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.server.address() as AddressInfo).port;
}

async function send(endpoint: SmtpEndpoint) {
  const transcript = new Transcript();
  const error = await sendRawMessage({
    endpoint,
    envelope: { from: 'a@example.test', to: ['b@example.test'] },
    raw: Buffer.from('Subject: x\r\n\r\nbody\r\n'),
    transcript,
    session: 'submission',
    timeouts: { tcp: 3000, greeting: 3000, command: 3000, dns: 1000 },
  }).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error, 'the send must not succeed').toBeDefined();
  return { outcome: classifyError(error), transcript };
}

describe('SMTP STARTTLS that cannot be done', () => {
  it('a 502 to STARTTLS is errored with a hint, not failed', async () => {
    // Announces STARTTLS in EHLO, then answers the command with 502.
    const fake = await FakeLineServer.start({
      greeting: '220 fake.test ESMTP\r\n',
      commands: {
        EHLO: (s) => void s.write('250-fake.test\r\n250 STARTTLS\r\n'),
        STARTTLS: (s) => void s.write('502 5.5.1 STARTTLS not available here\r\n'),
        QUIT: (s) => s.end('221 bye\r\n'),
      },
    });
    fakes.push(fake);
    const { outcome, transcript } = await send({ host: '127.0.0.1', port: fake.port, security: 'starttls', tls: { verify: true } });
    expect(transcript.entries.map((e) => e.text).join('\n')).toMatch(/^502/m);
    expect(outcome.kind).toBe('errored');
    if (outcome.kind !== 'errored') return;
    expect(outcome.problem).toMatchObject({ code: 'ESTARTTLS', phase: 'starttls' });
    expect(outcome.problem.message).toMatch(/refused STARTTLS.*502/);
  });

  it('a certificate that fails verification after STARTTLS is errored, naming why', async () => {
    const { expired, ca } = await testCerts();
    const port = await listen({ ...expired });
    const { outcome } = await send({ host: '127.0.0.1', port, security: 'starttls', tls: { verify: true, ca } });
    expect(outcome.kind).toBe('errored');
    if (outcome.kind !== 'errored') return;
    expect(outcome.problem).toMatchObject({ code: 'ETLS', phase: 'starttls' });
    expect(outcome.problem.message).toContain('expired');
    expect(outcome.problem.message).not.toContain('pass the CA');
  });
});
