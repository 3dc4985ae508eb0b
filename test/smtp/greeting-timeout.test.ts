import { afterEach, describe, expect, it } from 'vitest';
import { SmtpTransportError, sendRawMessage } from '../../src/protocols/smtp/send.js';
import { classifyError } from '../../src/runner/classify.js';
import { Transcript } from '../../src/transport/transcript.js';
import { rejection } from '../support/expect-helpers.js';
import { FakeLineServer } from '../support/fake-line-server.js';

/**
 * The wait for the SMTP greeting is bounded by timeouts.greeting, not by
 * timeouts.tcp: a server that accepts TCP at once and greets after a second
 * is slow to greet, not slow to connect.
 */
const fakes: FakeLineServer[] = [];
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

const TIMEOUTS = { dns: 1_000, tcp: 300, greeting: 2_500, command: 3_000 };

function send(port: number) {
  return sendRawMessage({
    endpoint: { host: '127.0.0.1', port, security: 'none', tls: { verify: true } },
    envelope: { from: 'a@example.test', to: ['b@example.test'] },
    raw: Buffer.from('Subject: x\r\n\r\nbody\r\n'),
    transcript: new Transcript(),
    session: 'submission',
    timeouts: TIMEOUTS,
  });
}

describe('SMTP greeting wait', () => {
  it('a silent server times out in the greeting phase, naming the greeting timeout', { timeout: 20_000 }, async () => {
    const fake = await FakeLineServer.start({});
    fakes.push(fake);
    const started = performance.now();
    const error = await rejection(send(fake.port), SmtpTransportError);
    expect(error.code).toBe('ETIMEOUT');
    expect(error.phase).toBe('greeting');
    expect(error.message).toContain(`no greeting from 127.0.0.1:${fake.port} within ${TIMEOUTS.greeting} ms`);
    expect(classifyError(error)).toMatchObject({ kind: 'errored', problem: { code: 'ETIMEOUT', phase: 'greeting' } });
    // The greeting wait plus the implicit-TLS probe, with a wide margin.
    expect(performance.now() - started).toBeLessThan(2 * TIMEOUTS.greeting + 8_000);
    // The transport judged the silence (one TLS probe); the client's own check does not probe again.
    expect(fake.sessions).toHaveLength(2);
  });

  it('a greeting later than timeouts.tcp but within timeouts.greeting is waited for', { timeout: 20_000 }, async () => {
    const fake = await FakeLineServer.start({
      greeting: async (s) => {
        // Longer than the TCP timeout, well inside the greeting timeout.
        await new Promise((r) => setTimeout(r, 900));
        await s.write('220 fake.test ESMTP\r\n');
      },
      commands: {
        EHLO: (s) => s.write('250 fake.test\r\n'),
        MAIL: (s) => s.write('250 ok\r\n'),
        RCPT: (s) => s.write('250 ok\r\n'),
        DATA: (s) => s.write('354 go on\r\n'),
        '.': (s) => s.write('250 queued\r\n'),
        QUIT: (s) => s.end('221 bye\r\n'),
      },
      fallback: () => undefined,
    });
    fakes.push(fake);
    const result = await send(fake.port);
    expect(result.accepted).toEqual(['b@example.test']);
  });
});
