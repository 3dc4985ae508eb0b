import { describe, expect, it } from 'vitest';
import { planDomain, type PlannedTarget } from '../../src/probe/domain-plan.js';
import { finding } from '../../src/probe/findings.js';
import { discovery, names, records } from './domain-records.js';

const D = 'example.test';
const A = ['192.0.2.1'];
const B = ['192.0.2.2', '2001:db8::2'];

/** "host:port protocol/security[ mx] <- sources", one per target: the plan at a glance. */
function brief(targets: readonly PlannedTarget[]): string[] {
  return targets.map(
    (t) => `${t.host}:${t.port} ${t.expected.protocol}/${t.expected.security}${t.expected.mx === true ? ' mx' : ''} <- ${t.sources.join(',')}`,
  );
}

describe('planDomain', () => {
  it('puts every MX exchange on port 25 as an MX, lowest preference first', () => {
    const plan = planDomain(
      records({
        mx: {
          kind: 'hosts',
          hosts: [
            { name: 'mx2.example.test', addresses: B, preference: 20 },
            { name: 'mx1.example.test', addresses: A, preference: 10 },
          ],
        },
      }),
      discovery(),
    );
    expect(brief(plan.targets)).toEqual(['mx1.example.test:25 smtp/starttls mx <- mx', 'mx2.example.test:25 smtp/starttls mx <- mx']);
    expect(plan.targets[1]!.addresses).toEqual(B);
    expect(plan.findings).toEqual([]);
  });

  it('takes the domain itself as the implicit MX when there is no MX record, and nothing for a Null MX', () => {
    expect(brief(planDomain(records({ self: { name: D, addresses: A } }), discovery()).targets)).toContain('example.test:25 smtp/starttls mx <- domain');
    const nullMx = planDomain(records({ self: { name: D, addresses: A }, mx: { kind: 'null' } }), discovery());
    expect(nullMx.targets.filter((t) => t.port === 25)).toEqual([]);
    // No MX and no address: nothing to deliver to, nothing to probe.
    expect(planDomain(records(), discovery()).targets).toEqual([]);
  });

  it('probes each SRV target on its published port with the protocol and security of its service', () => {
    const plan = planDomain(
      records({
        srv: [
          { service: '_submissions._tcp', name: 'smtp.example.test.', port: 465, priority: 0, weight: 1, addresses: A },
          { service: '_submission._tcp', name: 'smtp.example.test', port: 587, priority: 0, weight: 1, addresses: A },
          { service: '_imaps._tcp', name: 'imap.example.test', port: 993, priority: 0, weight: 1, addresses: A },
          { service: '_imap._tcp', name: 'imap.example.test', port: 143, priority: 0, weight: 1, addresses: A },
          { service: '_pop3s._tcp', name: 'pop.example.test', port: 995, priority: 0, weight: 1, addresses: A },
          { service: '_pop3._tcp', name: 'pop.example.test', port: 110, priority: 0, weight: 1, addresses: A },
        ],
        mx: { kind: 'null' },
      }),
      discovery(),
    );
    expect(brief(plan.targets)).toEqual([
      'smtp.example.test:465 smtp/tls <- srv:_submissions._tcp',
      'smtp.example.test:587 smtp/starttls <- srv:_submission._tcp',
      'imap.example.test:993 imap/tls <- srv:_imaps._tcp',
      'imap.example.test:143 imap/starttls <- srv:_imap._tcp',
      'pop.example.test:995 pop3/tls <- srv:_pop3s._tcp',
      'pop.example.test:110 pop3/starttls <- srv:_pop3._tcp',
    ]);
  });

  it("probes autoconfig's servers on their port, socketType plain as STARTTLS", () => {
    const plan = planDomain(
      records({ mx: { kind: 'null' } }),
      discovery({
        autoconfig: {
          url: 'https://autoconfig.example.test/mail/config-v1.1.xml',
          servers: [
            { protocol: 'imap', host: 'in.example.test', port: 993, security: 'tls' },
            { protocol: 'smtp', host: 'out.example.test', port: 25, security: 'none' },
          ],
        },
      }),
      {
        resolved: new Map([
          ['in.example.test', A],
          ['out.example.test', B],
        ]),
      },
    );
    expect(brief(plan.targets)).toEqual(['in.example.test:993 imap/tls <- autoconfig', 'out.example.test:25 smtp/starttls <- autoconfig']);
    expect(plan.targets.map((t) => t.addresses)).toEqual([A, B]);
  });

  it('probes a conventional name that resolves on the client ports its name suggests, never on 25 unless it is an MX', () => {
    const plan = planDomain(records({ mx: { kind: 'null' }, names: names(D, { mail: A, imap: A, pop: A, pop3: B, smtp: B }) }), discovery());
    const ports = (host: string): number[] => plan.targets.filter((t) => t.host === host).map((t) => t.port);
    expect(ports('mail.example.test').sort()).toEqual([110, 143, 465, 587, 993, 995]);
    expect(ports('imap.example.test').sort()).toEqual([143, 993]);
    expect(ports('pop.example.test').sort()).toEqual([110, 995]);
    expect(ports('pop3.example.test').sort()).toEqual([110, 995]);
    expect(ports('smtp.example.test').sort()).toEqual([465, 587]);
    expect(plan.targets.every((t) => t.sources.join() === 'name')).toBe(true);

    const mailIsMx = planDomain(
      records({ mx: { kind: 'hosts', hosts: [{ name: 'mail.example.test', addresses: A, preference: 0 }] }, names: names(D, { mail: A }) }),
      discovery(),
    );
    expect(brief(mailIsMx.targets)[0]).toBe('mail.example.test:25 smtp/starttls mx <- mx');
    // A name that does not resolve is no finding: a client that guesses just moves on.
    expect(planDomain(records({ mx: { kind: 'null' } }), discovery())).toEqual({ targets: [], findings: [] });
  });

  it('probes the bare domain only for the protocols no other source names', () => {
    const plan = planDomain(records({ self: { name: D, addresses: A }, mx: { kind: 'null' }, names: names(D, { imap: A }) }), discovery());
    expect(brief(plan.targets.filter((t) => t.host === D))).toEqual([
      'example.test:465 smtp/tls <- domain',
      'example.test:587 smtp/starttls <- domain',
      'example.test:110 pop3/starttls <- domain',
      'example.test:995 pop3/tls <- domain',
    ]);
  });

  it('keeps one target per (name, port), whatever its case or trailing dot, with every source that named it', () => {
    const plan = planDomain(
      records({
        mx: { kind: 'null' },
        srv: [{ service: '_imaps._tcp', name: 'IMAP.example.test.', port: 993, priority: 0, weight: 1, addresses: A }],
        names: names(D, { imap: A }),
      }),
      discovery({ autoconfig: { url: 'https://x.example.test/', servers: [{ protocol: 'imap', host: 'imap.example.test', port: 993, security: 'tls' }] } }),
    );
    expect(brief(plan.targets)).toEqual(['imap.example.test:993 imap/tls <- srv:_imaps._tcp,autoconfig,name', 'imap.example.test:143 imap/starttls <- name']);
    expect(plan.findings).toEqual([]);
  });

  it('reports two published sources that expect different services on one port; the SRV record keeps its expectation', () => {
    const plan = planDomain(
      records({ mx: { kind: 'null' }, srv: [{ service: '_imaps._tcp', name: 'in.example.test', port: 993, priority: 0, weight: 1, addresses: A }] }),
      discovery({ autoconfig: { url: 'https://x.example.test/', servers: [{ protocol: 'pop3', host: 'in.example.test', port: 993, security: 'tls' }] } }),
    );
    expect(brief(plan.targets)).toEqual(['in.example.test:993 imap/tls <- srv:_imaps._tcp,autoconfig']);
    expect(plan.findings).toEqual([
      finding('sources-disagree-on-port', { host: 'in.example.test', port: 993 }, 'srv:_imaps._tcp expects imap/tls; autoconfig expects pop3/tls', {
        first: 'the SRV record _imaps._tcp',
        firstExpects: 'imap/tls',
        second: 'autoconfig',
        secondExpects: 'pop3/tls',
      }),
    ]);
    expect(plan.findings[0]!.severity).toBe('warn');
  });

  it('caps the pairs, published sources first, and says what it left out', () => {
    const plan = planDomain(
      records({
        mx: { kind: 'hosts', hosts: [{ name: 'mx.example.test', addresses: A, preference: 10 }] },
        srv: [{ service: '_imaps._tcp', name: 'imap.example.test', port: 993, priority: 0, weight: 1, addresses: A }],
        names: names(D, { mail: A }),
      }),
      discovery(),
      { maxTargets: 3 },
    );
    expect(brief(plan.targets)).toEqual([
      'imap.example.test:993 imap/tls <- srv:_imaps._tcp',
      'mx.example.test:25 smtp/starttls mx <- mx',
      'mail.example.test:465 smtp/tls <- name',
    ]);
    expect(plan.findings.map((f) => [f.id, f.severity, f.host, f.title])).toEqual([
      ['domain-plan-capped', 'info', D, 'only 3 of the 8 host:port pairs the domain names were probed'],
    ]);
    expect(plan.findings[0]!.evidence).toBe(
      'not probed: mail.example.test:587, mail.example.test:110, mail.example.test:995, mail.example.test:143, mail.example.test:993',
    );
  });

  it('--ports gives the conventional rules their ports by service; SRV and autoconfig keep the port they publish', () => {
    const plan = planDomain(
      records({
        mx: { kind: 'hosts', hosts: [{ name: 'mx.example.test', addresses: A, preference: 10 }] },
        srv: [{ service: '_imaps._tcp', name: 'imap.example.test', port: 993, priority: 0, weight: 1, addresses: A }],
        names: names(D, { mail: A, imap: A, smtp: A }),
      }),
      discovery(),
      { ports: { 2525: { protocol: 'smtp', security: 'starttls', mx: true }, 1143: { protocol: 'imap', security: 'starttls' } } },
    );
    expect(brief(plan.targets)).toEqual([
      'imap.example.test:993 imap/tls <- srv:_imaps._tcp',
      'mx.example.test:2525 smtp/starttls mx <- mx',
      'mail.example.test:1143 imap/starttls <- name',
      'imap.example.test:1143 imap/starttls <- name',
    ]);
  });

  it('says when a published name does not resolve, unless DNS has said so already', () => {
    // Whatever id the DNS part gives it: a DNS finding on the name.
    const dnsSaid = {
      id: 'dns-example',
      severity: 'fail',
      host: 'mx.example.test',
      title: 'mx.example.test does not resolve',
      evidence: 'NXDOMAIN',
      hint: '-',
    } as const;
    const plan = planDomain(
      records({ mx: { kind: 'hosts', hosts: [{ name: 'mx.example.test', addresses: [], preference: 10 }] }, findings: [dnsSaid] }),
      discovery({ autoconfig: { url: 'https://x.example.test/', servers: [{ protocol: 'imap', host: 'gone.example.test', port: 993, security: 'tls' }] } }),
      { resolved: new Map([['gone.example.test', []]]) },
    );
    // Unresolved targets stay in the plan (the report shows them) but have no address to probe.
    expect(plan.targets.map((t) => [t.host, t.addresses.length])).toEqual([
      ['gone.example.test', 0],
      ['mx.example.test', 0],
    ]);
    expect(plan.findings.map((f) => [f.id, f.severity, f.host, f.title])).toEqual([
      ['source-host-unresolved', 'fail', 'gone.example.test', 'gone.example.test does not resolve, but autoconfig names it'],
    ]);
  });

  it('an information-only DNS finding on a name (no TLSA, say) does not stand for "it does not resolve"', () => {
    const info = { id: 'dns-example', severity: 'info', host: 'mx.example.test', title: 'no TLSA for mx.example.test', evidence: '-', hint: '-' } as const;
    const plan = planDomain(
      records({ mx: { kind: 'hosts', hosts: [{ name: 'mx.example.test', addresses: [], preference: 10 }] }, findings: [info] }),
      discovery(),
    );
    expect(plan.findings.map((f) => [f.id, f.host, f.title])).toEqual([
      ['source-host-unresolved', 'mx.example.test', 'mx.example.test does not resolve, but the MX record names it'],
    ]);
  });
});
