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

type Where = { host: string; address: string; port: number };

export function samplePort(address: string, port: number, rest: Partial<PortReport>, findings: (w: Where) => Finding[]): PortReport {
  const where = { host: SAMPLE_HOST, address, port };
  return {
    ...where,
    expected: { protocol: 'smtp', security: 'starttls' },
    tcp: { outcome: 'connected', ms: 3 },
    capabilities: {},
    auth: {},
    injection: 'not-tested',
    ...rest,
    findings: findings(where),
  };
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
