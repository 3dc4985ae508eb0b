import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImapRawClient } from '../../src/protocols/imap/raw/index.js';
import { ImapSession } from '../../src/protocols/imap/session.js';
import { Pop3Client } from '../../src/protocols/pop3/client.js';
import { sendRawMessage } from '../../src/protocols/smtp/send.js';
import { classifyError } from '../../src/runner/classify.js';
import type { ProtocolName, Security } from '../../src/core/protocols.js';
import { greetingKind } from '../../src/transport/greeting-kind.js';
import { Transcript } from '../../src/transport/transcript.js';
import { FakeLineServer } from '../support/fake-line-server.js';
import { testCerts } from '../support/test-certs.js';

/**
 * Pointing a scenario at the wrong port is a configuration problem: errored
 * with a hint that names what the port speaks, never an RFC failure of the
 * server nor a bare timeout. Every client, against in-process servers of
 * every other protocol on loopback, and with TLS against a plain-text port.
 */
type Protocol = ProtocolName;
const GREETINGS: Record<Protocol, string> = {
  pop3: '+OK Dovecot ready.\r\n',
  imap: '* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] Dovecot ready.\r\n',
  smtp: '220 mail.example.test ESMTP\r\n',
};
const NAMES: Record<Protocol, string> = { pop3: 'POP3', imap: 'IMAP', smtp: 'SMTP' };
const TIMEOUTS = { dns: 1000, tcp: 2000, tls: 2000, greeting: 2000, command: 2000, push: 2000 };

const servers = {} as Record<Protocol, FakeLineServer>;
beforeAll(async () => {
  for (const p of Object.keys(GREETINGS) as Protocol[]) servers[p] = await FakeLineServer.start({ greeting: GREETINGS[p], fallback: () => undefined });
});
afterAll(async () => {
  await Promise.all(Object.values(servers).map((s) => s.close()));
});

/** Opens a session of `client` against `port`, and returns what classifyError makes of the failure. */
async function attempt(
  _client: Protocol,
  port: number,
  security: Security,
  tls: { verify: boolean; ca?: string } = { verify: true },
  timeouts: typeof TIMEOUTS = TIMEOUTS,
) {
  const transcript = new Transcript();
  const common = { host: '127.0.0.1', port, security, transcript, session: 'dev', timeouts } as const;
  const open: Record<Protocol | 'imapflow', () => Promise<unknown>> = {
    pop3: () => Pop3Client.connect({ ...common, tls }),
    imap: () => ImapRawClient.connect({ ...common, tls }),
    imapflow: () => ImapSession.open({ ...common, tls, user: 'u', password: 'p' }),
    smtp: () =>
      sendRawMessage({
        ...common,
        endpoint: { host: '127.0.0.1', port, security, tls },
        envelope: { from: 'a@x.test', to: ['b@x.test'] },
        raw: Buffer.from('x\r\n'),
      }),
  };
  return open;
}

const CLIENTS: Array<[string, Protocol, keyof Awaited<ReturnType<typeof attempt>>]> = [
  ['the POP3 client', 'pop3', 'pop3'],
  ['the raw IMAP client', 'imap', 'imap'],
  ['the imapflow session', 'imap', 'imapflow'],
  ['SMTP (nodemailer)', 'smtp', 'smtp'],
];

async function outcomeOf(run: () => Promise<unknown>) {
  const error = await run().then(
    (value) => {
      (value as { drop?: () => void; close?: () => void }).drop?.();
      return undefined;
    },
    (err: unknown) => err,
  );
  expect(error, 'the connection must not succeed').toBeDefined();
  return classifyError(error);
}

describe('greetingKind', () => {
  it.each([
    ['* OK ready', 'imap'],
    ['* PREAUTH hi', 'imap'],
    ['* BYE too busy', 'imap'],
    ['+OK ready', 'pop3'],
    ['-ERR go away', 'pop3'],
    ['220 mail ESMTP', 'smtp'],
    ['220-mail ESMTP', 'smtp'],
    ['554 no service', 'smtp'],
    ['\u0016\u0003\u0001\u0000', 'tls'],
    ['\u0015\u0003\u0003\u0000\u0002', 'tls'],
    ['HTTP/1.1 400 Bad Request', undefined],
    ['+OKAY', undefined],
  ])('%j → %s', (text, kind) => {
    expect(greetingKind(text)).toBe(kind);
  });
});

describe('a port of another protocol', () => {
  for (const [label, own, key] of CLIENTS) {
    for (const other of (Object.keys(GREETINGS) as Protocol[]).filter((p) => p !== own)) {
      it(`${label} on a ${NAMES[other]} port is errored: "this port speaks ${NAMES[other]}"`, async () => {
        const open = await attempt(own, servers[other].port, 'none');
        const outcome = await outcomeOf(open[key]);
        expect(outcome.kind, JSON.stringify(outcome)).toBe('errored');
        if (outcome.kind !== 'errored') return;
        expect(outcome.problem.code).toBe('EWRONG_PROTOCOL');
        expect(outcome.problem.message).toContain(`this port speaks ${NAMES[other]}; check the endpoint's port`);
      });
    }
  }
});

describe('TLS asked for on a plain-text port', () => {
  for (const [label, own, key] of CLIENTS) {
    it(`${label} with security: tls on a plain ${NAMES[own]} port is errored: "use security: starttls or none"`, async () => {
      const open = await attempt(own, servers[own].port, 'tls');
      const outcome = await outcomeOf(open[key]);
      expect(outcome.kind, JSON.stringify(outcome)).toBe('errored');
      if (outcome.kind !== 'errored') return;
      expect(outcome.problem.code).toBe('EWRONG_PROTOCOL');
      expect(outcome.problem.message).toContain(`this port speaks plain-text ${NAMES[own]}; use security: starttls or none`);
    });
  }
});

describe('plain text (or STARTTLS) on an implicit-TLS port', () => {
  // Such a port says nothing until the client's ClientHello, so the greeting wait runs out first.
  const quick = { ...TIMEOUTS, greeting: 400 };
  for (const [label, own, key] of CLIENTS) {
    for (const security of ['none', 'starttls'] as const) {
      it(`${label} with security: ${security} on a TLS-first ${NAMES[own]} port is errored: "this port wants TLS first"`, async () => {
        const { localhost } = await testCerts();
        const server = await FakeLineServer.start({ implicitTls: localhost, greeting: GREETINGS[own], fallback: () => undefined });
        try {
          const open = await attempt(own, server.port, security, { verify: true }, quick);
          const outcome = await outcomeOf(open[key]);
          expect(outcome.kind, JSON.stringify(outcome)).toBe('errored');
          if (outcome.kind !== 'errored') return;
          expect(outcome.problem.code).toBe('EWRONG_PROTOCOL');
          expect(outcome.problem.message).toContain('this port wants TLS first; use security: tls');
        } finally {
          await server.close();
        }
      });
    }
  }
});

describe('IMAP TLS errors say why', () => {
  it('an expired certificate, with the CA given, says "expired", not "pass the CA"', async () => {
    const { expired, ca } = await testCerts();
    const server = await FakeLineServer.start({ implicitTls: expired, greeting: GREETINGS.imap });
    try {
      const open = await attempt('imap', server.port, 'tls', { verify: true, ca });
      const outcome = await outcomeOf(open.imapflow);
      expect(outcome.kind).toBe('errored');
      if (outcome.kind !== 'errored') return;
      expect(outcome.problem.code).toBe('ETLS');
      expect(outcome.problem.message).toContain('expired');
      expect(outcome.problem.message).not.toContain('pass the CA');
    } finally {
      await server.close();
    }
  });
});
