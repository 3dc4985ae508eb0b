import { finding, type Finding } from '../../src/probe/findings.js';
import type { HostReport } from '../../src/probe/host-probe.js';
import type { PortReport } from '../../src/probe/port-probe.js';

/**
 * A probe of one host as `probeHost` reports it, written out with findings
 * from the real catalogue: a timed-out 25, a working 587 that offers a
 * plaintext login, an expired certificate on 993 (IPv6), a refused 110. For
 * the probe → results mapping, the reporters on a probe, and --watch changes.
 */
export const SAMPLE_HOST = 'mail.example.test';

export type Where = { host: string; address: string; port: number };

/** A made-up port report at `where` (an IMAP/TLS port that connected, unless `rest` says otherwise), its findings made for that place. */
export function portReportAt(where: Where, rest: Partial<PortReport>, findings: (w: Where) => Finding[]): PortReport {
  return {
    ...where,
    expected: { protocol: 'imap', security: 'tls' },
    tcp: { outcome: 'connected', ms: 3 },
    capabilities: {},
    auth: {},
    injection: 'not-tested',
    ...rest,
    findings: findings(where),
  };
}

export function samplePort(address: string, port: number, rest: Partial<PortReport>, findings: (w: Where) => Finding[]): PortReport {
  return portReportAt({ host: SAMPLE_HOST, address, port }, { expected: { protocol: 'smtp', security: 'starttls' }, ...rest }, findings);
}

export function sampleHostReport(): HostReport {
  const ports = [
    samplePort('127.0.0.1', 25, { expected: { protocol: 'smtp', security: 'starttls', mx: true }, tcp: { outcome: 'timeout' } }, (w) => [
      finding('tcp-timeout', w, 'connect timed out after 10000 ms', { alternative: '; use 587 with STARTTLS' }),
    ]),
    samplePort('127.0.0.1', 587, { spoken: 'smtp', tls: { outcome: 'ok' } }, (w) => [
      finding('port-ok', w, 'greeting "220 mail.example.test ESMTP"', { spoken: 'SMTP', security: ' and STARTTLS works' }),
      finding('plaintext-auth-before-tls', w, 'EHLO before STARTTLS: 250-AUTH PLAIN LOGIN'),
    ]),
    samplePort('::1', 993, { expected: { protocol: 'imap', security: 'tls' }, spoken: 'imap', tls: { outcome: 'ok' } }, (w) => [
      finding('port-ok', w, 'greeting "* OK ready"', { spoken: 'IMAP', security: ' over TLS' }),
      finding('tls-expired', w, 'certificate has expired (notAfter 2020-01-01T00:00:00Z)', { daysAgo: 9 }),
    ]),
    samplePort('127.0.0.1', 110, { expected: { protocol: 'pop3', security: 'starttls' }, tcp: { outcome: 'refused', error: 'ECONNREFUSED' } }, (w) => [
      finding('tcp-refused', w, 'connect ECONNREFUSED 127.0.0.1:110'),
    ]),
  ];
  return { host: SAMPLE_HOST, ports, findings: ports.flatMap((p) => p.findings) };
}
