import { describe, expect, it } from 'vitest';
import { describeChange, portOutcome, probeChanges } from '../../src/probe/changes.js';
import { finding } from '../../src/probe/findings.js';
import type { HostReport } from '../../src/probe/host-probe.js';
import { oneLine } from '../../src/reporters/escape.js';
import { SAMPLE_HOST, samplePort, sampleHostReport } from '../support/probe-sample.js';

/** --watch's change logic (src/probe/changes.ts) on written-out probe reports. */
const withPorts = (report: HostReport, ports: HostReport['ports']): HostReport => ({ ...report, ports, findings: ports.flatMap((p) => p.findings) });
const lines = (before: HostReport, after: HostReport) => probeChanges([before], [after]).map((c) => describeChange(c, oneLine));

describe('probe changes between rounds', () => {
  it('the same report twice: no change, even with other timings and evidence', () => {
    const a = sampleHostReport();
    const b = sampleHostReport();
    const retimed = withPorts(
      b,
      b.ports.map((p) => ({
        ...p,
        tcp: { ...p.tcp, ms: (p.tcp.ms ?? 0) + 40 },
        findings: p.findings.map((f) => ({ ...f, evidence: `${f.evidence} (again)` })),
      })),
    );
    expect(probeChanges([a], [retimed])).toEqual([]);
  });

  it('a port that came up: its outcome, the finding that went and the ones that appeared', () => {
    const before = sampleHostReport();
    const ports = before.ports.map((p) =>
      p.port !== 110
        ? p
        : samplePort('127.0.0.1', 110, { expected: p.expected, spoken: 'pop3', tls: { outcome: 'ok' } }, (w) => [
            finding('port-ok', w, 'greeting "+OK"', { spoken: 'POP3', security: ' and STARTTLS works' }),
          ]),
    );
    expect(lines(before, withPorts(before, ports))).toEqual([
      'port 127.0.0.1:110: refused → connected, answers pop3, tls ok',
      '+ ok    127.0.0.1:110  port-ok  port 110 speaks POP3 and STARTTLS works',
      '- info  127.0.0.1:110  tcp-refused  port 110 refused the connection',
    ]);
  });

  it('a severity that changed is one change, not a finding gone and another come', () => {
    const before = sampleHostReport();
    const ports = before.ports.map((p) =>
      p.port === 993 ? { ...p, findings: p.findings.map((f) => (f.id === 'tls-expired' ? { ...f, severity: 'warn' as const } : f)) } : p,
    );
    expect(lines(before, withPorts(before, ports))).toEqual(['~ fail→warn  [::1]:993  tls-expired  certificate expired']);
  });

  it('a port no longer probed (an address gone from DNS) and a new one', () => {
    const before = sampleHostReport();
    const moved = before.ports.map((p) => (p.port === 993 ? { ...p, address: '::2', findings: p.findings.map((f) => ({ ...f, address: '::2' })) } : p));
    const out = lines(before, withPorts(before, moved));
    expect(out).toContain('port [::2]:993: not probed → connected, answers imap, tls ok');
    expect(out).toContain('port [::1]:993: connected, answers imap, tls ok → not probed');
    expect(out).toContain('+ fail  [::2]:993  tls-expired  certificate expired');
    expect(out).toContain('- fail  [::1]:993  tls-expired  certificate expired');
    expect(out).toHaveLength(6);
  });

  it('two findings of one id at one place are matched in order: only the second one going is reported', () => {
    const dns = (evidence: string) => ({ id: 'srv-mismatch', severity: 'warn' as const, host: 'example.test', title: 't', evidence, hint: 'h' });
    const report = (n: number): HostReport => ({ host: SAMPLE_HOST, ports: [], findings: Array.from({ length: n }, (_, i) => dns(String(i))) });
    const changes = probeChanges([report(2)], [report(1)]);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ kind: 'gone', finding: { evidence: '1' } });
  });

  it('server text in a title is made safe for one line', () => {
    const before: HostReport = { host: SAMPLE_HOST, ports: [], findings: [] };
    const after: HostReport = {
      ...before,
      findings: [{ id: 'x', severity: 'warn', host: SAMPLE_HOST, title: 'evil \u001b[2J\nline', evidence: '', hint: '' }],
    };
    expect(lines(before, after)).toEqual(['+ warn  mail.example.test  x  evil \\x1b[2J\\nline']);
  });

  it('portOutcome: how far a client gets', () => {
    const [p25, p587] = sampleHostReport().ports;
    expect(portOutcome(p25!)).toBe('timeout');
    expect(portOutcome(p587!)).toBe('connected, answers smtp, tls ok');
  });
});
