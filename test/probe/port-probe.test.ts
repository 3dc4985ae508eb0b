import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectTlsFacts } from '../../src/probe/host-probe.js';
import { probePort, type ExpectedService, type PortProbeOptions, type PortReport } from '../../src/probe/port-probe.js';
import { Transcript } from '../../src/transport/index.js';
import { testCerts, type TestCerts } from '../support/test-certs.js';
import { FakeLineServer } from '../support/fake-line-server.js';
import { blackhole, mailFake, neverAccepts, refusedPort, type MailFakeOptions } from './fakes.js';

/**
 * Each fixture on 127.0.0.1:0 gives its finding: id, severity and the hint a
 * support engineer reads out. `port` in a finding is the fixture's real port;
 * the probe is told which service the port stands for (`expected`).
 */
let certs: TestCerts;
const servers: FakeLineServer[] = [];
const TIMEOUTS = { tcp: 3_000, tls: 3_000, greeting: 2_000, command: 3_000, injection: 1_000 };

beforeAll(async () => {
  certs = await testCerts();
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function fake(options: MailFakeOptions): Promise<FakeLineServer> {
  const server = await mailFake(options);
  servers.push(server);
  return server;
}

/** Dialogue-only probes: no TLS facts (their own tests are in tls-facts.test.ts; the certificate cases here pass the real ones). */
const NO_TLS_FACTS: PortProbeOptions['inspectTls'] = () => Promise.resolve([]);

function probe(
  port: number,
  expected: ExpectedService,
  extra: { address?: string; tls?: { ca?: string }; inspectTls?: PortProbeOptions['inspectTls'] } = {},
): Promise<PortReport> {
  return probePort({
    host: 'localhost',
    address: extra.address ?? '127.0.0.1',
    port,
    expected,
    timeouts: TIMEOUTS,
    tls: extra.tls ?? { ca: certs.ca },
    transcript: new Transcript(),
    inspectTls: extra.inspectTls ?? NO_TLS_FACTS,
  });
}

const ids = (report: PortReport): string[] => report.findings.map((f) => f.id);
const only = (report: PortReport, id: string) => {
  const found = report.findings.filter((f) => f.id === id);
  expect(found, `findings: ${JSON.stringify(report.findings, null, 2)}`).toHaveLength(1);
  return found[0]!;
};

describe('probePort on sound servers', () => {
  it.each([
    ['smtp', 'starttls'],
    ['pop3', 'starttls'],
    ['imap', 'starttls'],
  ] as const)('%s with %s: one ok finding, capabilities before and after TLS, injection ignored', async (protocol, security) => {
    const server = await fake({ protocol, starttls: certs.localhost });
    const report = await probe(server.port, { protocol, security });
    expect(ids(report)).toEqual(['port-ok']);
    expect(report.findings[0]!.severity).toBe('ok');
    expect(report.tcp.outcome).toBe('connected');
    expect(report.spoken).toBe(protocol);
    expect(report.tls?.outcome).toBe('ok');
    expect(report.tls?.info?.authorized).toBe(true);
    expect(report.plaintextLoginBeforeTls).toBe(false);
    expect(report.auth.beforeTls).toEqual([]);
    expect(report.auth.afterTls).toEqual(['PLAIN']);
    expect(report.injection).toBe('ignored');
  });

  it.each(['smtp', 'pop3', 'imap'] as const)('%s over implicit TLS: ok, mechanisms after TLS', async (protocol) => {
    const server = await fake({ protocol, implicitTls: certs.localhost });
    const report = await probe(server.port, { protocol, security: 'tls' });
    expect(ids(report)).toEqual(['port-ok']);
    expect(report.tls?.outcome).toBe('ok');
    expect(report.auth.afterTls).toEqual(['PLAIN']);
    expect(report.injection).toBe('not-tested');
  });

  it('an IPv6 server on ::1 is probed on that address', async () => {
    const server = await fake({ protocol: 'imap', starttls: certs.localhost, host: '::1' });
    const report = await probe(server.port, { protocol: 'imap', security: 'starttls' }, { address: '::1' });
    expect(ids(report)).toEqual(['port-ok']);
    expect(report.address).toBe('::1');
  });
});

describe('probePort findings', () => {
  it('a refused port: tcp-refused, info', async () => {
    const report = await probe(await refusedPort(), { protocol: 'smtp', security: 'starttls' });
    const found = only(report, 'tcp-refused');
    expect(report.tcp.outcome).toBe('refused');
    expect(found.severity).toBe('info');
    expect(found.hint).toMatch(/^nothing listens on port \d+ at 127\.0\.0\.1/);
    expect(found.evidence).toMatch(/refused/);
  });

  it('a blackhole that accepts and never greets: banner-silent, warn, within the greeting timeout plus a margin', async () => {
    const hole = await blackhole();
    try {
      const started = performance.now();
      const report = await probe(hole.port, { protocol: 'pop3', security: 'starttls' });
      expect(performance.now() - started).toBeLessThan(TIMEOUTS.greeting + 5_000);
      const found = only(report, 'banner-silent');
      expect(found.severity).toBe('warn');
      expect(found.hint).toMatch(/sends no mail greeting/);
      expect(report.tcp.outcome).toBe('connected');
    } finally {
      await hole.close();
    }
  });

  it('a listener that never accepts: tcp-timeout, warn, and on the MX the hint points to 587', async () => {
    const listener = await neverAccepts();
    try {
      const started = performance.now();
      const report = await probe(listener.port, { protocol: 'smtp', security: 'starttls', mx: true });
      expect(performance.now() - started).toBeLessThan(TIMEOUTS.tcp + 5_000);
      const found = only(report, 'tcp-timeout');
      expect(found.severity).toBe('warn');
      expect(found.hint).toMatch(/many ISPs block outbound port 25: for sending mail from a client use 587 with STARTTLS$/);
      expect(report.tcp.outcome).toBe('timeout');
    } finally {
      await listener.close();
    }
  });

  it('a server that hangs up before greeting: tcp-reset, warn, not "never greets"', async () => {
    const server = await FakeLineServer.start({ greeting: (session) => session.destroy() });
    servers.push(server);
    const report = await probe(server.port, { protocol: 'smtp', security: 'starttls' });
    const found = only(report, 'tcp-reset');
    expect(found.severity).toBe('warn');
    expect(found.hint).toMatch(/^the connection to port \d+ was cut at once/);
    expect(found.evidence).toMatch(/closed/i);
  });

  it('a server that greets and then never answers EHLO: dialogue-broken, warn', async () => {
    const server = await fake({ protocol: 'smtp', starttls: certs.localhost });
    server.on('EHLO', () => undefined);
    const report = await probe(server.port, { protocol: 'smtp', security: 'starttls' });
    const found = only(report, 'dialogue-broken');
    expect(found.severity).toBe('warn');
    expect(found.evidence).toMatch(/EHLO/);
    expect(ids(report)).toEqual(['dialogue-broken']);
  });

  it('an expired certificate: tls-expired, fail (from the TLS facts, the one producer of certificate findings)', async () => {
    const server = await fake({ protocol: 'imap', implicitTls: certs.expired });
    const found = only(await probe(server.port, { protocol: 'imap', security: 'tls' }, { inspectTls: inspectTlsFacts }), 'tls-expired');
    expect(found.severity).toBe('fail');
    expect(found.evidence).toMatch(/^notAfter /);
    expect(found.hint).toMatch(/^certificate expired \d+ days? ago; renew it$/);
  });

  it('a certificate for another name: tls-name-mismatch, fail, naming both names', async () => {
    const server = await fake({ protocol: 'smtp', starttls: certs.named });
    const report = await probe(server.port, { protocol: 'smtp', security: 'starttls' }, { inspectTls: inspectTlsFacts });
    const found = only(report, 'tls-name-mismatch');
    expect(found.severity).toBe('fail');
    expect(found.hint).toMatch(/^certificate is for mail\.example\.test, not localhost/);
    expect(ids(report)).not.toContain('port-ok');
  });

  it('a certificate from an unknown CA: tls-untrusted, fail', async () => {
    const server = await fake({ protocol: 'pop3', implicitTls: certs.localhost });
    const found = only(
      await probe(server.port, { protocol: 'pop3', security: 'tls' }, { tls: { ca: certs.otherCa }, inspectTls: inspectTlsFacts }),
      'tls-untrusted',
    );
    expect(found.severity).toBe('fail');
    expect(found.evidence).toMatch(/^verify error (UNABLE_TO|SELF_SIGNED|CERT_)/);
    expect(found.hint).toContain('does not trust');
  });

  it('no STARTTLS on a submission port: starttls-missing, fail', async () => {
    const server = await fake({ protocol: 'smtp', before: ['8BITMIME'] });
    const found = only(await probe(server.port, { protocol: 'smtp', security: 'starttls' }), 'starttls-missing');
    expect(found.severity).toBe('fail');
    expect(found.hint).toMatch(/^STARTTLS is not offered on \d+/);
    expect(found.evidence).toBe('capabilities: 8BITMIME');
  });

  it('no STARTTLS on a public MX (port 25): starttls-missing, only a warning (RFC 3207 §4)', async () => {
    const server = await fake({ protocol: 'smtp', before: ['8BITMIME'] });
    const report = await probe(server.port, { protocol: 'smtp', security: 'starttls', mx: true });
    expect(only(report, 'starttls-missing').severity).toBe('warn');
    expect(ids(report)).toEqual(['starttls-missing']);
  });

  it('no STARTTLS on IMAP: starttls-missing, fail, and LOGIN in clear is plaintext-auth-before-tls', async () => {
    const server = await fake({ protocol: 'imap', before: ['IMAP4rev1'] });
    const report = await probe(server.port, { protocol: 'imap', security: 'starttls' });
    expect(only(report, 'starttls-missing').severity).toBe('fail');
    expect(only(report, 'plaintext-auth-before-tls').severity).toBe('warn');
  });

  it('AUTH PLAIN before TLS: plaintext-auth-before-tls, warn', async () => {
    const server = await fake({ protocol: 'smtp', starttls: certs.localhost, before: ['STARTTLS', 'AUTH PLAIN LOGIN'] });
    const report = await probe(server.port, { protocol: 'smtp', security: 'starttls' });
    const found = only(report, 'plaintext-auth-before-tls');
    expect(found.severity).toBe('warn');
    expect(found.hint).toMatch(/^plaintext login is offered before TLS on port \d+/);
    expect(report.auth.beforeTls).toEqual(['PLAIN', 'LOGIN']);
    expect(report.tls?.outcome).toBe('ok');
  });

  it('POP3 SASL PLAIN before STLS: plaintext-auth-before-tls', async () => {
    const server = await fake({ protocol: 'pop3', starttls: certs.localhost, before: ['STLS', 'SASL PLAIN'] });
    expect(only(await probe(server.port, { protocol: 'pop3', security: 'starttls' }), 'plaintext-auth-before-tls').severity).toBe('warn');
  });

  it('421 at once: temporary-refusal, warn, not a configuration fault', async () => {
    const server = await fake({ protocol: 'smtp', greeting: '421 4.7.0 too many connections from your address\r\n' });
    const report = await probe(server.port, { protocol: 'smtp', security: 'starttls' });
    const found = only(report, 'temporary-refusal');
    expect(found.severity).toBe('warn');
    expect(found.hint).toBe("421: the server is rate-limiting or blocking this address; this is not a fault of the server's configuration");
    expect(found.evidence).toBe('greeting "421 4.7.0 too many connections from your address"');
    expect(server.received).toEqual([]);
  });

  it('TLS only on a STARTTLS port: implicit-tls-expected, fail', async () => {
    const server = await fake({ protocol: 'imap', implicitTls: certs.localhost });
    const started = performance.now();
    const report = await probe(server.port, { protocol: 'imap', security: 'starttls' });
    expect(performance.now() - started).toBeLessThan(TIMEOUTS.greeting + 5_000);
    const found = only(report, 'implicit-tls-expected');
    expect(found.severity).toBe('fail');
    expect(found.hint).toMatch(/^port \d+ expects TLS from the first byte: set the client to SSL\/TLS, not STARTTLS$/);
    expect(report.spoken).toBe('tls');
  });

  it('plain text on an implicit-TLS port: plaintext-on-tls-port, fail', async () => {
    const server = await fake({ protocol: 'pop3', starttls: certs.localhost });
    const found = only(await probe(server.port, { protocol: 'pop3', security: 'tls' }), 'plaintext-on-tls-port');
    expect(found.severity).toBe('fail');
    expect(found.evidence).toBe('plain-text greeting "+OK fake ready"');
  });

  it('an IMAP server on the POP3 port: wrong-protocol, fail, "speaks IMAP"', async () => {
    const server = await fake({ protocol: 'imap', starttls: certs.localhost });
    const report = await probe(server.port, { protocol: 'pop3', security: 'starttls' });
    const found = only(report, 'wrong-protocol');
    expect(found.severity).toBe('fail');
    expect(found.title).toBe(`port ${server.port} speaks IMAP, not POP3`);
    expect(found.hint).toMatch(/^port \d+ speaks IMAP: set the mail client to the port of its POP3 service$/);
    expect(report.spoken).toBe('imap');
    expect(server.received).toEqual([]);
  });

  it.each(['smtp', 'pop3', 'imap'] as const)('%s: STARTTLS injection accepted: starttls-injection, fail', async (protocol) => {
    const server = await fake({ protocol, starttls: certs.localhost, injectable: true });
    const report = await probe(server.port, { protocol, security: 'starttls' });
    const found = only(report, 'starttls-injection');
    expect(found.severity).toBe('fail');
    expect(found.evidence).toMatch(/sent unasked: "(?:250 OK|\+OK|p\d+ OK noop)"/);
    expect(found.hint).toMatch(/CVE-2011-0411/);
    expect(report.injection).toBe('accepted');
  });
});

describe('probePort with the TLS facts seam', () => {
  it.each(['smtp', 'pop3', 'imap'] as const)(
    '%s STARTTLS: the inspector gets a working upgrade, and its findings are the only TLS findings',
    async (protocol) => {
      const server = await fake({ protocol, starttls: certs.named });
      const seen: string[] = [];
      const report = await probePort({
        host: 'localhost',
        address: '127.0.0.1',
        port: server.port,
        expected: { protocol, security: 'starttls' },
        timeouts: TIMEOUTS,
        tls: { ca: certs.ca },
        transcript: new Transcript(),
        inspectTls: async (target) => {
          // A handshake of the inspector's own, as tls-facts.ts makes them: connect, upgrade, TLS.
          const socket = netConnect({ host: target.address, port: target.port });
          await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
          try {
            await target.upgrade!(socket, undefined);
            const secure = tlsConnect({ socket, servername: target.servername!, ca: target.ca!, rejectUnauthorized: false });
            await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
            seen.push(`${secure.getProtocol()} ${target.servername}`);
            secure.destroy();
          } finally {
            socket.destroy();
          }
          return [
            {
              id: 'tls-inspected',
              severity: 'info',
              host: target.host,
              address: target.address,
              port: target.port,
              title: 't',
              evidence: seen.join(),
              hint: 'h',
            },
          ];
        },
      });
      expect(seen).toEqual([expect.stringMatching(/^TLSv1\.[23] localhost$/)]);
      expect(ids(report)).toEqual(['tls-inspected', 'port-ok']);
    },
  );

  it('implicit TLS: no upgrade is offered, the CA and name are passed on', async () => {
    const server = await fake({ protocol: 'imap', implicitTls: certs.localhost });
    let got: unknown;
    await probePort({
      host: 'localhost',
      address: '127.0.0.1',
      port: server.port,
      expected: { protocol: 'imap', security: 'tls' },
      timeouts: TIMEOUTS,
      tls: { ca: certs.ca },
      transcript: new Transcript(),
      inspectTls: (target) => {
        got = { upgrade: target.upgrade, servername: target.servername, ca: target.ca === certs.ca };
        return Promise.resolve([]);
      },
    });
    expect(got).toEqual({ upgrade: undefined, servername: 'localhost', ca: true });
  });
});

describe('probePort: whether the server requires TLS before MAIL FROM, USER or LOGIN (never with a password)', () => {
  it('submission that refuses MAIL FROM before STARTTLS (530): required, no finding; MAIL FROM:<> went in clear once, nothing else', async () => {
    const server = await fake({ protocol: 'smtp', starttls: certs.localhost });
    const report = await probe(server.port, { protocol: 'smtp', security: 'starttls' });
    expect(ids(report)).toEqual(['port-ok']);
    expect(report.tlsRequired).toEqual({ outcome: 'required', command: 'MAIL FROM:<>', reply: '530 5.7.0 Must issue a STARTTLS command first' });
    expect(server.received.filter((l) => /^MAIL /i.test(l))).toEqual(['MAIL FROM:<>']);
    expect(server.received.some((l) => /^(AUTH|RCPT|DATA)\b/i.test(l))).toBe(false);
  });

  it('submission that takes MAIL FROM in clear: tls-not-required, warn, and RSET at once', async () => {
    const server = await fake({ protocol: 'smtp', starttls: certs.localhost, beforeTls: 'accepted' });
    const report = await probe(server.port, { protocol: 'smtp', security: 'starttls' });
    const found = only(report, 'tls-not-required');
    expect(found.severity).toBe('warn');
    expect(found.evidence).toBe('MAIL FROM:<> before STARTTLS: 250 2.1.0 Ok');
    expect(found.hint).toMatch(/^port \d+ accepts MAIL FROM before STARTTLS: a mail client set to "no encryption" works there/);
    const session = server.sessions.find((s) => s.received.includes('MAIL FROM:<>'))!;
    expect(session.received[session.received.indexOf('MAIL FROM:<>') + 1]).toBe('RSET');
    expect(report.tlsRequired?.outcome).toBe('not-required');
  });

  it('a public MX (port 25) that takes MAIL FROM in clear, as it must (RFC 3207 §4): no finding', async () => {
    const server = await fake({ protocol: 'smtp', starttls: certs.localhost, beforeTls: 'accepted' });
    const report = await probe(server.port, { protocol: 'smtp', security: 'starttls', mx: true });
    expect(ids(report)).toEqual(['port-ok']);
    expect(report.tlsRequired?.outcome).toBe('not-required');
  });

  it('a public MX that requires STARTTLS: mx-requires-starttls, info only, never worse', async () => {
    const server = await fake({ protocol: 'smtp', starttls: certs.localhost });
    const report = await probe(server.port, { protocol: 'smtp', security: 'starttls', mx: true });
    const found = only(report, 'mx-requires-starttls');
    expect(found.severity).toBe('info');
    expect(found.hint).toMatch(/servers that cannot do TLS cannot deliver mail here/);
    expect(ids(report)).toContain('port-ok');
  });

  it('POP3 that refuses USER before STLS: required; USER went in clear with a made-up name, PASS never', async () => {
    const server = await fake({ protocol: 'pop3', starttls: certs.localhost });
    const report = await probe(server.port, { protocol: 'pop3', security: 'starttls' });
    expect(ids(report)).toEqual(['port-ok']);
    expect(report.tlsRequired?.outcome).toBe('required');
    expect(report.tlsRequired?.reply).toMatch(/^-ERR \[AUTH\] Plaintext authentication disallowed/);
    expect(server.received.filter((l) => /^USER /i.test(l))).toEqual(['USER mailprobe-no-such-user']);
    expect(server.received.some((l) => /^(PASS|APOP|AUTH)\b/i.test(l))).toBe(false);
  });

  it('POP3 that takes USER in clear: tls-not-required, warn; still no PASS', async () => {
    const server = await fake({ protocol: 'pop3', starttls: certs.localhost, beforeTls: 'accepted' });
    const report = await probe(server.port, { protocol: 'pop3', security: 'starttls' });
    const found = only(report, 'tls-not-required');
    expect(found.severity).toBe('warn');
    expect(found.evidence).toBe('USER mailprobe-no-such-user before STLS: +OK');
    expect(server.received.some((l) => /^PASS\b/i.test(l))).toBe(false);
  });

  it('a refusal that names no TLS (SMTP 550, POP3 -ERR no such user): tls-requirement-unclear, info, with the reply', async () => {
    const smtp = await fake({ protocol: 'smtp', starttls: certs.localhost, beforeTls: '550 5.7.1 Client host rejected' });
    const pop3 = await fake({ protocol: 'pop3', starttls: certs.localhost, beforeTls: '-ERR no such user' });
    const [a, b] = await Promise.all([
      probe(smtp.port, { protocol: 'smtp', security: 'starttls' }),
      probe(pop3.port, { protocol: 'pop3', security: 'starttls' }),
    ]);
    expect(only(a, 'tls-requirement-unclear').evidence).toBe('MAIL FROM:<> before STARTTLS: 550 5.7.1 Client host rejected');
    expect(only(b, 'tls-requirement-unclear').severity).toBe('info');
    expect(a.tlsRequired?.outcome).toBe('unclear');
  });

  it('IMAP: judged from LOGINDISABLED alone; no LOGIN or AUTHENTICATE is sent', async () => {
    const server = await fake({ protocol: 'imap', starttls: certs.localhost });
    const report = await probe(server.port, { protocol: 'imap', security: 'starttls' });
    expect(report.tlsRequired).toEqual({ outcome: 'required', command: 'CAPABILITY', reply: 'LOGINDISABLED' });
    expect(server.received.some((l) => /^\S+ (LOGIN|AUTHENTICATE)\b/i.test(l))).toBe(false);
  });
});
