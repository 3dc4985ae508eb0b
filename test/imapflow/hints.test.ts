import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { classifyError } from '../../src/runner/classify.js';
import { testCerts, type TestCerts } from '../support/test-certs.js';
import { GREETING, afterCapability, openOutcome, sessionOptions, startHostile, type HostileServer } from './hostile-imap.js';

/**
 * Issue 7 §3 "Hostile bytes mislead the hints": what a hostile or wrong
 * server does to an imapflow session is named by its true cause. Only a real
 * certificate failure gets the advice to pass the CA or set insecure.
 */
const GIVE_UP_MS = 15_000;
const CA_HINT = /tls\.ca_file|set insecure/;

let certs: TestCerts;
beforeAll(async () => {
  certs = await testCerts();
});
afterAll(async () => {
  await certs.cleanup();
});

let server: HostileServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function outcome(overrides: Parameters<typeof sessionOptions>[1] = {}) {
  const result = await openOutcome(sessionOptions(server!.port, overrides), GIVE_UP_MS);
  expect(result.hung, 'the session must end').toBe(false);
  expect(result.error, 'the session must not open').toBeDefined();
  return { error: result.error as Error & { code?: string; phase?: string }, verdict: classifyError(result.error) };
}

describe('imapflow: hostile bytes are named by their true cause', () => {
  it('a garbage greeting is "does not speak IMAP" (errored, a configuration problem), not a TLS hint', async () => {
    server = await startHostile((c) => c.write(Buffer.from('\x00\x01garbage \xff\xfe\r\n', 'latin1')));
    for (const security of ['none', 'starttls'] as const) {
      const { error, verdict } = await outcome({ security });
      expect(error.code).toBe('EWRONG_PROTOCOL');
      expect(error.phase).toBe('greeting');
      expect(error.message).toMatch(/does not speak IMAP/);
      expect(error.message).not.toMatch(CA_HINT);
      expect(verdict.kind).toBe('errored');
    }
  });

  it('an HTTP answer is "does not speak IMAP" too', async () => {
    server = await startHostile((c) => c.write('HTTP/1.1 400 Bad Request\r\n\r\n'));
    const { error } = await outcome({ security: 'starttls' });
    expect(error.code).toBe('EWRONG_PROTOCOL');
    expect(error.message).not.toMatch(CA_HINT);
  });

  it('an untagged greeting that breaks the greeting grammar is a failed IMAP syntax check', async () => {
    server = await startHostile((c) => c.write('* HELLO I am an IMAP server\r\n'));
    const { error, verdict } = await outcome();
    expect(error.code).toBe('EIMAP_MALFORMED');
    expect(verdict.kind).toBe('failed');
    if (verdict.kind !== 'failed') return;
    expect(verdict.check.description).toMatch(/IMAP syntax/);
    expect(verdict.check.rfc).toMatch(/RFC 9051 §9/);
  });

  it('a silent server is ETIMEOUT in the greeting phase, with no certificate advice', async () => {
    server = await startHostile(() => undefined);
    for (const security of ['none', 'starttls'] as const) {
      const { error, verdict } = await outcome({ security });
      expect(error.code).toBe('ETIMEOUT');
      expect(error.phase).toBe('greeting');
      expect(error.message).not.toMatch(CA_HINT);
      expect(verdict.kind).toBe('errored');
    }
  });

  it('a TLS port that never finishes the handshake is ETIMEOUT in the tls phase, with no certificate advice', async () => {
    server = await startHostile(() => undefined);
    const { error } = await outcome({ security: 'tls' });
    expect(error.code).toBe('ETIMEOUT');
    expect(error.phase).toBe('tls');
    expect(error.message).not.toMatch(CA_HINT);
  });

  for (const [name, split] of [
    ['in the same segment as the OK', false],
    ['in a segment of its own right after the OK', true],
  ] as const) {
    it(`a STARTTLS injection ${name} is ESTARTTLS naming CVE-2011-0411, not a TLS hint`, async () => {
      server = await startHostile(async (c) => {
        c.write('* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n');
        const cmd = await afterCapability(c, 'IMAP4rev1 STARTTLS LOGINDISABLED');
        if (cmd.verb !== 'STARTTLS') return;
        const injected = '* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n';
        if (split) {
          c.write(`${cmd.tag} OK Begin TLS\r\n`);
          await new Promise((r) => setImmediate(r));
          c.write(injected);
        } else {
          c.write(`${cmd.tag} OK Begin TLS\r\n${injected}`);
        }
        c.startTls(certs.localhost.key, certs.localhost.cert);
        await c.closed;
      });
      const { error, verdict } = await outcome({ security: 'starttls', tls: { verify: true, ca: certs.ca } });
      expect(error.code).toBe('ESTARTTLS');
      expect(error.phase).toBe('starttls');
      expect(error.message).toMatch(/CVE-2011-0411/);
      expect(error.message).not.toMatch(CA_HINT);
      expect(verdict.kind).toBe('errored');
    });
  }

  it('a real certificate failure (self-signed, no CA given) keeps the CA hint', async () => {
    server = await startHostile(async (c) => {
      c.write('* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n');
      const cmd = await afterCapability(c, 'IMAP4rev1 STARTTLS LOGINDISABLED');
      if (cmd.verb !== 'STARTTLS') return;
      c.write(`${cmd.tag} OK Begin TLS\r\n`);
      c.startTls(certs.localhost.key, certs.localhost.cert);
      await c.closed;
    });
    const { error } = await outcome({ security: 'starttls', tls: { verify: true } });
    expect(error.code).toBe('ETLS');
    expect(error.message).toMatch(CA_HINT);
  });

  it('a server that greets and never answers is not a TLS problem either', async () => {
    server = await startHostile(async (c) => {
      c.write(GREETING);
      await c.closed;
    });
    const { error } = await outcome({ security: 'none' });
    expect(error.code).toBe('ETIMEOUT');
    expect(error.message).not.toMatch(CA_HINT);
  });
});
