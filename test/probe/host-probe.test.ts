import { readFile } from 'node:fs/promises';
import { inject } from 'vitest';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { probeHost, semaphore } from '../../src/probe/host-probe.js';
import type { ExpectedService } from '../../src/probe/port-probe.js';
import { ENDPOINT_HOST, type EndpointName } from '../../src/lab/ports.js';
import { Transcript } from '../../src/transport/index.js';
import { blackhole } from './fakes.js';

const DEFAULT_SERVICES: Record<EndpointName, ExpectedService> = {
  smtp: { protocol: 'smtp', security: 'starttls', mx: true },
  submission: { protocol: 'smtp', security: 'starttls' },
  smtps: { protocol: 'smtp', security: 'tls' },
  pop3: { protocol: 'pop3', security: 'starttls' },
  pop3s: { protocol: 'pop3', security: 'tls' },
  imap: { protocol: 'imap', security: 'starttls' },
  imaps: { protocol: 'imap', security: 'tls' },
};

describe('probeHost', () => {
  it('a host whose seven ports all accept and never greet ends in about one greeting timeout, even with a budget of one', async () => {
    const holes = await Promise.all(Array.from({ length: 7 }, () => blackhole()));
    const greeting = 2_000;
    try {
      const ports = Object.fromEntries(holes.map((h, i) => [h.port, Object.values(DEFAULT_SERVICES)[i]!]));
      const started = performance.now();
      const report = await probeHost({
        host: 'localhost',
        addresses: ['127.0.0.1'],
        ports,
        budget: 1,
        timeouts: { tcp: greeting, tls: greeting, greeting },
        transcript: new Transcript(),
      });
      const elapsed = performance.now() - started;
      console.log(`blackholed host: ${Math.round(elapsed)} ms with ${greeting} ms timeouts`);
      // Port by port it would take seven greeting timeouts (14 s); the bound is one plus a wide margin.
      expect(elapsed).toBeLessThan(greeting + 5_000);
      expect(report.ports).toHaveLength(7);
      // Plain ports wait for a greeting, implicit-TLS ports for the ServerHello.
      expect(report.ports.map((p) => [p.expected.security, p.findings.map((f) => f.id)])).toEqual(
        report.ports.map((p) => [p.expected.security, [p.expected.security === 'tls' ? 'tls-silent' : 'banner-silent']]),
      );
    } finally {
      await Promise.all(holes.map((h) => h.close()));
    }
  });

  it('the lab: every port of its real Dovecot and Postfix gives no warn or fail', async () => {
    const lab = inject('lab');
    const target = parseDocument(await readFile(lab.targetFile, 'utf8')).toJS() as {
      endpoints: Record<EndpointName, { port: number }>;
      tls: { ca_file: string; servername: string };
    };
    const ca = await readFile(target.tls.ca_file, 'utf8');
    // The lab's plain IMAP and POP3 live on 127.0.0.2 (src/lab/ports.ts): one host report per address.
    const started = performance.now();
    const reports = await Promise.all(
      ['127.0.0.1', '127.0.0.2'].map((address) => {
        const names = (Object.keys(DEFAULT_SERVICES) as EndpointName[]).filter((e) => ENDPOINT_HOST[e] === address);
        return probeHost({
          host: target.tls.servername,
          addresses: [address],
          ports: Object.fromEntries(names.map((e) => [target.endpoints[e].port, DEFAULT_SERVICES[e]])),
          tls: { ca },
          timeouts: { injection: 1_000 },
          transcript: new Transcript(),
        });
      }),
    );
    const ports = reports.flatMap((r) => r.ports);
    console.log(
      ports
        .map(
          (p) =>
            `${p.address}:${p.port} ${p.expected.protocol}/${p.expected.security} injection ${p.injection} ${p.injectionEvidence ?? ''} tcp ${p.tcp.ms ?? '?'} ms banner ${p.banner?.ms ?? '?'} ms`,
        )
        .join('\n'),
    );
    console.log(`lab probe: ${Math.round(performance.now() - started)} ms for 7 ports`);
    expect(ports).toHaveLength(7);
    const bad = ports.flatMap((p) => p.findings).filter((f) => f.severity === 'warn' || f.severity === 'fail');
    expect(bad, JSON.stringify(bad, null, 2)).toEqual([]);
    for (const port of ports) {
      // The lab's certificate has no OCSP responder to staple: information, not a fault.
      expect(port.findings.map((f) => f.id).sort()).toEqual(['port-ok', 'tls-no-ocsp-stapling', 'tls-ok']);
      expect(port.tls?.outcome).toBe('ok');
      expect(port.tls?.info?.authorized).toBe(true);
      // Not vulnerable: Postfix drops the pipelined command at the upgrade, Dovecot hangs up rather than carry it.
      if (port.expected.security === 'starttls') expect(port.injection, `port ${port.port}`).toBe(port.expected.protocol === 'smtp' ? 'ignored' : 'closed');
      // Postfix's MX port (25) offers no AUTH; every client port offers a mechanism inside TLS.
      if (port.port !== target.endpoints.smtp.port) expect(port.auth.afterTls?.length ?? 0, `port ${port.port}`).toBeGreaterThan(0);
      if (port.expected.security === 'starttls') expect(port.plaintextLoginBeforeTls, `port ${port.port}`).toBe(false);
      // Submission (smtpd_tls_security_level = encrypt) answers 530 and Dovecot (disable_plaintext_auth) refuses USER in clear;
      // the MX takes MAIL FROM in clear, as RFC 3207 §4 wants of it; IMAP says LOGINDISABLED.
      if (port.expected.security === 'starttls') {
        const expected = port.port === target.endpoints.smtp.port ? 'not-required' : 'required';
        expect(port.tlsRequired?.outcome, `port ${port.port}: ${JSON.stringify(port.tlsRequired)}`).toBe(expected);
      }
      if (port.port === target.endpoints.submission.port) expect(port.tlsRequired?.reply).toMatch(/^530 5\.7\.0 Must issue a STARTTLS command first/);
      if (port.port === target.endpoints.pop3.port) expect(port.tlsRequired?.reply).toMatch(/^-ERR \[AUTH\] Plaintext authentication disallowed/);
    }
  });
});

describe('semaphore', () => {
  it('never runs more than its limit at once, and runs every work', async () => {
    const budget = semaphore(2);
    let active = 0;
    let peak = 0;
    const work = async (): Promise<number> => {
      active += 1;
      peak = Math.max(peak, active);
      await new Promise((r) => setImmediate(r));
      active -= 1;
      return 1;
    };
    const results = await Promise.all(Array.from({ length: 9 }, () => budget(work)));
    expect(results).toHaveLength(9);
    expect(peak).toBe(2);
  });
});
