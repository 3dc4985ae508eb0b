import { createSocket } from 'node:dgram';
import * as dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDnsClient, lookupDomainRecords } from '../../../src/probe/dns/index.js';
import type { DomainRecords } from '../../../src/probe/domain-model.js';
import { startDnsmasq, type RunningDnsmasq } from '../../support/dnsmasq.js';
import { A_ONLY, BAD_TARGETS, EMPTY, FULL, MIXED_MX, MX1_TLSA, MX2_TLSA, NULL_MX, TEST_ZONE, TWO_POLICIES } from './zone.js';

/** lookupDomainRecords against a real DNS server (dnsmasq on loopback) serving the test zone. */

let dnsmasq: RunningDnsmasq;
let dnsmasq6: RunningDnsmasq | undefined;

beforeAll(async () => {
  dnsmasq = await startDnsmasq(TEST_ZONE);
  dnsmasq6 = await startDnsmasq(TEST_ZONE, '::1');
});
afterAll(async () => {
  await dnsmasq?.stop();
  await dnsmasq6?.stop();
});

const lookup = (domain: string, server = dnsmasq.server): Promise<DomainRecords> =>
  lookupDomainRecords(domain, createDnsClient({ servers: [server], timeoutMs: 2_000, tries: 1 }));
const ids = (records: DomainRecords): string[] => records.findings.map((f) => f.id).sort();
const byId = (records: DomainRecords, id: string) => records.findings.filter((f) => f.id === id);

describe('a domain that publishes everything', () => {
  it('gives every record and only info findings', async () => {
    const records = await lookup(FULL);
    expect(records.failures).toEqual([]);
    expect(records.self).toEqual({ name: FULL, addresses: ['192.0.2.10', '2001:db8::10'] });
    expect(records.mx).toEqual({
      kind: 'hosts',
      hosts: [
        { name: `mx1.${FULL}`, preference: 10, addresses: ['192.0.2.1', '2001:db8::1'] },
        { name: `mx2.${FULL}`, preference: 20, addresses: ['192.0.2.2'] },
      ],
    });
    expect(records.srv).toEqual([
      { service: '_submissions._tcp', name: `smtp.${FULL}`, port: 465, priority: 0, weight: 1, addresses: ['192.0.2.22'] },
      { service: '_submission._tcp', name: `smtp.${FULL}`, port: 587, priority: 0, weight: 1, addresses: ['192.0.2.22'] },
      { service: '_imaps._tcp', name: `imap.${FULL}`, port: 993, priority: 0, weight: 1, addresses: ['192.0.2.21', '2001:db8::21'] },
      { service: '_imap._tcp', name: `imap.${FULL}`, port: 143, priority: 10, weight: 1, addresses: ['192.0.2.21', '2001:db8::21'] },
      { service: '_pop3s._tcp', name: `mail.${FULL}`, port: 995, priority: 0, weight: 1, addresses: ['192.0.2.20'] },
    ]);
    expect(records.notOffered).toEqual(['_pop3._tcp']);
    expect(records.names).toEqual([
      { name: `mail.${FULL}`, addresses: ['192.0.2.20'] },
      { name: `imap.${FULL}`, addresses: ['192.0.2.21', '2001:db8::21'] },
      { name: `pop.${FULL}`, addresses: [] },
      { name: `pop3.${FULL}`, addresses: [] },
      { name: `smtp.${FULL}`, addresses: ['192.0.2.22'] },
    ]);
    expect(records.txt).toEqual({
      spf: 'v=spf1 ip4:192.0.2.0/24 mx -all',
      dmarc: 'v=DMARC1; p=reject; rua=mailto:dmarc@full.example.test',
      mtaSts: 'v=STSv1; id=20260101T000000',
      tlsRpt: 'v=TLSRPTv1; rua=mailto:tls@full.example.test',
    });
    expect(records.tlsa).toEqual([
      { name: `_25._tcp.mx1.${FULL}`, records: [{ usage: 3, selector: 1, matchingType: 1, data: MX1_TLSA.slice(6) }] },
      // Three records: more than a UDP answer holds, so this one came over TCP after a truncated answer.
      {
        name: `_25._tcp.mx2.${FULL}`,
        records: expect.arrayContaining(MX2_TLSA.map((data) => ({ usage: 3, selector: 0, matchingType: 0, data: data.slice(6) }))) as unknown,
      },
    ]);
    expect(records.tlsa[1]?.records).toHaveLength(3);
    expect(ids(records)).toEqual(
      [
        'dns-dmarc-present',
        'dns-mta-sts-present',
        'dns-mx-present',
        'dns-names-resolve',
        'dns-spf-present',
        'dns-srv-not-offered',
        ...Array<string>(5).fill('dns-srv-present'),
        'dns-tls-rpt-present',
        'dns-tlsa-present',
        'dns-tlsa-present',
      ].sort(),
    );
    expect(records.findings.every((f) => f.severity === 'info')).toBe(true);
    const [mx] = byId(records, 'dns-mx-present');
    expect(mx).toMatchObject({ host: FULL, evidence: `MX 10 mx1.${FULL}; MX 20 mx2.${FULL}` });
    expect(mx?.address).toBeUndefined();
    expect(mx?.port).toBeUndefined();
    expect(byId(records, 'dns-names-resolve')[0]?.title).toBe(`conventional mail names of ${FULL} that resolve: mail.${FULL}, imap.${FULL}, smtp.${FULL}`);
    expect(byId(records, 'dns-spf-present')[0]).toMatchObject({ host: FULL, evidence: '"v=spf1 ip4:192.0.2.0/24 mx -all"' });
    expect(byId(records, 'dns-srv-not-offered')[0]).toMatchObject({ host: `_pop3._tcp.${FULL}`, evidence: 'SRV 0 0 0 .' });
    expect(byId(records, 'dns-srv-not-offered')[0]?.hint).toContain('"decidedly not available" at this domain (RFC 2782');
    expect(byId(records, 'dns-tlsa-present')[1]).toMatchObject({
      host: `_25._tcp.mx2.${FULL}`,
      title: `_25._tcp.mx2.${FULL} publishes 3 TLSA record(s) (DANE)`,
    });
  });

  it('dnsmasq really truncates the UDP answer of the big TLSA set (so the test above went through TCP)', async () => {
    const socket = createSocket('udp4');
    const answer = await new Promise<dnsPacket.DecodedPacket>((resolve) => {
      socket.on('message', (message: Buffer) => resolve(dnsPacket.decode(message)));
      socket.send(dnsPacket.encode({ type: 'query', id: 1, questions: [{ type: 'TLSA', name: `_25._tcp.mx2.${FULL}` }] }), dnsmasq.port, '127.0.0.1');
    });
    socket.close();
    expect(answer.flag_tc).toBe(true);
    expect(answer.answers?.length ?? 0).toBeLessThan(3);
  });

  it('gives the same over IPv6, from a server on ::1', async () => {
    if (dnsmasq6 === undefined) throw new Error('no dnsmasq on ::1');
    const [v4, v6] = await Promise.all([lookup(FULL), lookup(FULL, dnsmasq6.server)]);
    expect(dnsmasq6.server).toBe(`[::1]:${dnsmasq6.port}`);
    expect(v6).toEqual(v4);
    expect(v6.self.addresses).toContain('2001:db8::10');
  });
});

describe('a DNS server written out in full', () => {
  it('takes the TLSA answer of [0:0:0:0:0:0:0:1] from ::1, the address the socket reports', async () => {
    if (dnsmasq6 === undefined) throw new Error('no dnsmasq on ::1');
    const client = createDnsClient({ servers: [`[0:0:0:0:0:0:0:1]:${dnsmasq6.port}`], timeoutMs: 1_000, tries: 1 });
    await expect(client.tlsa(`_25._tcp.mx1.${FULL}`)).resolves.toEqual([{ usage: 3, selector: 1, matchingType: 1, data: MX1_TLSA.slice(6) }]);
  });
});

describe('a domain that publishes nothing', () => {
  it('gives the "absent" findings, and fails for a domain that cannot receive mail', async () => {
    const records = await lookup(EMPTY);
    expect(records.failures).toEqual([]);
    expect(records.mx).toEqual({ kind: 'none' });
    expect(records.self.addresses).toEqual([]);
    expect(records.srv).toEqual([]);
    expect(records.txt).toEqual({});
    expect(records.tlsa).toEqual([]);
    expect(ids(records)).toEqual(
      ['dns-dmarc-absent', 'dns-mta-sts-absent', 'dns-mx-none-no-address', 'dns-names-none', 'dns-spf-absent', 'dns-srv-none', 'dns-tls-rpt-absent'].sort(),
    );
    expect(byId(records, 'dns-mx-none-no-address')[0]?.severity).toBe('fail');
    expect(byId(records, 'dns-spf-absent')[0]).toMatchObject({ severity: 'info', host: EMPTY });
    expect(byId(records, 'dns-dmarc-absent')[0]).toMatchObject({ severity: 'info', host: `_dmarc.${EMPTY}` });
    expect(byId(records, 'dns-mta-sts-absent')[0]).toMatchObject({ host: `_mta-sts.${EMPTY}` });
    expect(byId(records, 'dns-tls-rpt-absent')[0]).toMatchObject({ host: `_smtp._tls.${EMPTY}` });
  });

  it('without MX but with an address: mail falls back to that address (RFC 5321 §5.1)', async () => {
    const records = await lookup(A_ONLY);
    expect(records.mx).toEqual({ kind: 'none' });
    const [none] = byId(records, 'dns-mx-none');
    expect(none).toMatchObject({ severity: 'info', host: A_ONLY, evidence: `no MX record; ${A_ONLY} has 192.0.2.30` });
    expect(none?.hint).toContain('(192.0.2.30, RFC 5321 §5.1)');
  });
});

describe('MX', () => {
  it('a Null MX says the domain takes no mail (RFC 7505)', async () => {
    const records = await lookup(NULL_MX);
    expect(records.mx).toEqual({ kind: 'null' });
    expect(records.tlsa).toEqual([]);
    expect(byId(records, 'dns-mx-null')).toEqual([expect.objectContaining({ severity: 'info', host: NULL_MX, evidence: 'MX 0 .' })]);
    expect(ids(records)).not.toContain('dns-mx-none');
  });

  it('a Null MX next to a real MX is a warning, and the real one is kept', async () => {
    const records = await lookup(MIXED_MX);
    expect(records.mx).toEqual({ kind: 'hosts', hosts: [{ name: `mx.${MIXED_MX}`, preference: 10, addresses: ['192.0.2.40'] }] });
    expect(byId(records, 'dns-mx-null-mixed')).toEqual([expect.objectContaining({ severity: 'warn', evidence: `MX 0 .; MX 10 mx.${MIXED_MX}` })]);
  });

  it('an MX or SRV target that does not resolve fails', async () => {
    const records = await lookup(BAD_TARGETS);
    expect(records.failures).toEqual([]);
    expect(records.mx).toEqual({ kind: 'hosts', hosts: [{ name: `nowhere.${BAD_TARGETS}`, preference: 10, addresses: [] }] });
    expect(byId(records, 'dns-mx-unresolvable')).toEqual([
      expect.objectContaining({
        severity: 'fail',
        host: BAD_TARGETS,
        evidence: `MX 10 nowhere.${BAD_TARGETS}; nowhere.${BAD_TARGETS} has no A or AAAA record`,
      }),
    ]);
    expect(byId(records, 'dns-srv-unresolvable')).toEqual([
      expect.objectContaining({
        severity: 'fail',
        host: `_imaps._tcp.${BAD_TARGETS}`,
        title: `the SRV record _imaps._tcp.${BAD_TARGETS} points to ghost.${BAD_TARGETS}, which does not resolve`,
      }),
    ]);
    expect(ids(records)).not.toContain('dns-srv-none');
    // The MX host exists in the answer, so its TLSA is asked (and absent).
    expect(byId(records, 'dns-tlsa-absent')).toEqual([expect.objectContaining({ host: `_25._tcp.nowhere.${BAD_TARGETS}` })]);
  });
});

describe('TXT policies', () => {
  it('two SPF records and two DMARC records are warnings (RFC 7208 §4.5, RFC 7489 §6.6.3)', async () => {
    const records = await lookup(TWO_POLICIES);
    const [spf] = byId(records, 'dns-spf-multiple');
    expect(spf).toMatchObject({ severity: 'warn', host: TWO_POLICIES, title: `${TWO_POLICIES} publishes 2 SPF records` });
    // "v=spf10" is no SPF record and is not counted.
    expect(spf?.evidence.split('; ').sort()).toEqual(['"v=spf1 a -all"', '"v=spf1 mx -all"']);
    expect(byId(records, 'dns-dmarc-multiple')).toEqual([expect.objectContaining({ severity: 'warn', host: `_dmarc.${TWO_POLICIES}` })]);
    expect(ids(records)).not.toContain('dns-spf-present');
    expect(ids(records)).not.toContain('dns-spf-absent');
  });
});

describe('a server that refuses', () => {
  it('reports failed lookups, never an absent record', async () => {
    // dnsmasq answers REFUSED for names outside the zone it serves.
    const records = await lookup('elsewhere.test');
    expect(records.mx).toMatchObject({ kind: 'unknown' });
    const failed = byId(records, 'dns-lookup-failed');
    expect(failed.length).toBe(records.findings.length);
    expect(failed.length).toBeGreaterThanOrEqual(1 + 1 + 6 + 5 + 4);
    expect(failed.every((f) => f.severity === 'warn' && f.title.includes('(the server answered REFUSED)'))).toBe(true);
    expect(failed.find((f) => f.host === 'elsewhere.test' && f.title.startsWith('the TXT record'))?.hint).toContain('this does not mean the record is missing');
    expect(records.failures?.length).toBe(failed.length);
    expect(records.txt).toEqual({});
  });
});
