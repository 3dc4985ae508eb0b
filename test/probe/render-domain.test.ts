import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { portReportAt } from '../support/probe-sample.js';
import { describe, expect, it } from 'vitest';
import { planDomain } from '../../src/probe/domain-plan.js';
import type { DomainReport } from '../../src/probe/domain-probe.js';
import { finding, type Finding } from '../../src/probe/findings.js';
import type { PortReport } from '../../src/probe/port-probe.js';
import { renderDomain } from '../../src/probe/render-domain.js';
import { oneLine } from '../../src/reporters/escape.js';
import { discovery, names, records } from './domain-records.js';

/**
 * The domain report against a committed golden file. The report is a fixture
 * (fixed addresses, ports and times; findings from the real catalogue; the
 * plan from the real planDomain), so the file changes only when the
 * rendering, the plan rules or the catalogue's wording do. UPDATE_GOLDEN=1 rewrites it.
 */
const GOLDEN = join(import.meta.dirname, 'golden', 'probe-domain.txt');
const D = 'example.test';

function fixture(): DomainReport {
  const zone = records({
    self: { name: D, addresses: ['192.0.2.80'] },
    mx: {
      kind: 'hosts',
      hosts: [
        { name: 'mx1.example.test', addresses: ['192.0.2.25'], preference: 10 },
        { name: 'mx2.example.test', addresses: [], preference: 20 },
      ],
    },
    srv: [{ service: '_imaps._tcp', name: 'imap.example.test', port: 993, priority: 0, weight: 1, addresses: ['192.0.2.143', '2001:db8::143'] }],
    notOffered: ['_pop3._tcp'],
    names: names(D, { imap: ['192.0.2.143', '2001:db8::143'] }),
    txt: { spf: 'v=spf1 mx -all', dmarc: 'v=DMARC1; p=reject' },
    tlsa: [
      { name: 'mx1.example.test', records: [{ usage: 3, selector: 1, matchingType: 1, data: 'ab'.repeat(32) }] },
      { name: 'mx2.example.test', records: [] },
    ],
    // Hostile evidence: its escape sequence must reach the terminal as text.
    findings: [
      {
        id: 'dns-example',
        severity: 'warn',
        host: 'mx2.example.test',
        title: 'stand-in for a DNS finding',
        evidence: 'NXDOMAIN \u001b[31m',
        hint: 'as the DNS part words it',
      },
    ],
  });
  const found = discovery({
    autoconfig: {
      url: 'https://autoconfig.example.test/mail/config-v1.1.xml',
      servers: [
        { protocol: 'imap', host: 'imap.example.test', port: 993, security: 'tls' },
        { protocol: 'smtp', host: 'smtp.other.test', port: 587, security: 'starttls' },
      ],
    },
    autodiscover: { url: 'https://autodiscover.example.test/autodiscover/autodiscover.xml', status: 404 },
  });
  const plan = planDomain(zone, found, {
    resolved: new Map([['smtp.other.test', ['198.51.100.7']]]),
    ports: { 25: { protocol: 'smtp', security: 'starttls', mx: true }, 993: { protocol: 'imap', security: 'tls' } },
  });
  const tlsInfo = {
    mode: 'tls',
    verify: false,
    authorized: true,
    checkedName: 'imap.example.test',
    protocol: 'TLSv1.3',
    cipher: 'TLS_AES_256_GCM_SHA384',
  } as const;
  const port = (
    host: string,
    address: string,
    portNumber: number,
    rest: Partial<PortReport>,
    findings: (w: { host: string; address: string; port: number }) => Finding[],
  ): PortReport => {
    return portReportAt({ host, address, port: portNumber }, rest, findings);
  };
  const ok = (w: { host: string; address: string; port: number }): Finding[] => [
    finding('port-ok', w, 'greeting "* OK"', { spoken: 'IMAP', security: ' over TLS' }),
  ];
  const imapPorts = [
    port('imap.example.test', '192.0.2.143', 993, { banner: { text: '* OK', ms: 4 }, spoken: 'imap', tls: { outcome: 'ok', info: tlsInfo } }, ok),
    port('imap.example.test', '2001:db8::143', 993, { banner: { text: '* OK', ms: 5 }, spoken: 'imap', tls: { outcome: 'ok', info: tlsInfo } }, ok),
  ];
  const mxPorts = [
    port(
      'mx1.example.test',
      '192.0.2.25',
      25,
      { expected: { protocol: 'smtp', security: 'starttls', mx: true }, tcp: { outcome: 'timeout', error: 'connect timed out after 10000 ms' } },
      (w) => [
        finding('tcp-timeout', w, 'connect timed out after 10000 ms', {
          alternative: '; many ISPs block outbound port 25: for sending mail from a client use 587 with STARTTLS',
        }),
      ],
    ),
  ];
  const smtpPorts = [
    port(
      'smtp.other.test',
      '198.51.100.7',
      587,
      { expected: { protocol: 'smtp', security: 'starttls' }, tcp: { outcome: 'refused', error: 'connect ECONNREFUSED' } },
      (w) => [finding('tcp-refused', w, 'connect ECONNREFUSED 198.51.100.7:587')],
    ),
  ];
  const hosts = [
    { host: 'imap.example.test', ports: imapPorts },
    { host: 'smtp.other.test', ports: smtpPorts },
    { host: 'mx1.example.test', ports: mxPorts },
  ].map((h) => ({ ...h, findings: h.ports.flatMap((p) => p.findings) }));
  const domainFindings = [
    ...plan.findings,
    finding('autoconfig-server-refused', { host: 'smtp.other.test', port: 587 }, '198.51.100.7:587 refused (connect ECONNREFUSED)', { protocol: 'SMTP' }),
    finding('mx-unreachable-here', { host: D, port: 25 }, 'mx1.example.test: 192.0.2.25:25 timeout (connect timed out after 10000 ms)', { domain: D }),
  ];
  return { domain: D, records: zone, discovery: found, plan, hosts, findings: domainFindings };
}

describe('renderDomain', () => {
  it('renders DNS, discovery, the port table of each host and the findings, as the golden file has them', async () => {
    const text = renderDomain(fixture(), { color: false, oneLine });
    if (process.env.UPDATE_GOLDEN === '1') await writeFile(GOLDEN, text);
    expect(existsSync(GOLDEN), `${GOLDEN} is missing: run with UPDATE_GOLDEN=1 and review it`).toBe(true);
    expect(text).toBe(await readFile(GOLDEN, 'utf8'));
    expect(text).not.toContain('\u001b');
    expect(text).not.toContain('port-ok');
  });

  it('colours only when asked', () => {
    const coloured = renderDomain(fixture(), { color: true, oneLine });
    expect(coloured).toMatch(/\u001b\[31mfail/);
    expect(coloured).toMatch(/\u001b\[32mok/);
    expect(coloured.replace(/\u001b\[\d+m/g, '')).toBe(renderDomain(fixture(), { color: false, oneLine }));
  });
});
