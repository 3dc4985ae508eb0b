import type * as dnsPacket from 'dns-packet';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDnsClient, lookupDomainRecords } from '../../../src/probe/dns/index.js';
import { RCODE, response, startFakeDns, type FakeDns } from './fake-dns-server.js';

/**
 * One failed question among answered ones: only that record is unknown.
 * The server answers SERVFAIL for the domain's TXT and MX, times out on
 * _mta-sts, and has no data for everything else.
 */

const DOMAIN = 'partial.example.test';
let fake: FakeDns;

beforeAll(async () => {
  fake = await startFakeDns({
    udp: (x) => {
      const question = x.query.questions?.[0];
      if (question?.name === `_mta-sts.${DOMAIN}`) return;
      if (question?.name === DOMAIN && (question.type === 'TXT' || question.type === 'MX')) return x.send(response(x.query, [], { rcode: RCODE.SERVFAIL }));
      if (question?.name === DOMAIN && question.type === 'A')
        return x.send(response(x.query, [{ type: 'A', name: DOMAIN, ttl: 60, class: 'IN', data: '192.0.2.50' } satisfies dnsPacket.Answer]));
      x.send(response(x.query, [], { rcode: RCODE.NXDOMAIN }));
    },
  });
});
afterAll(async () => fake.close());

it('a failed SPF, MX or MTA-STS lookup is reported as failed, the rest as answered', async () => {
  const records = await lookupDomainRecords(DOMAIN, createDnsClient({ servers: [fake.server], timeoutMs: 300, tries: 1 }));
  const ids = records.findings.map((f) => `${f.id} ${f.host}`);
  expect(records.self.addresses).toEqual(['192.0.2.50']);
  expect(records.mx).toMatchObject({ kind: 'unknown' });
  expect(ids).toContain(`dns-lookup-failed ${DOMAIN}`);
  expect(records.findings.filter((f) => f.id === 'dns-lookup-failed' && f.host === DOMAIN).map((f) => f.title)).toEqual([
    `the MX record of ${DOMAIN} could not be looked up (the server answered SERVFAIL)`,
    `the TXT record of ${DOMAIN} could not be looked up (the server answered SERVFAIL)`,
  ]);
  expect(records.findings.find((f) => f.host === `_mta-sts.${DOMAIN}`)).toMatchObject({
    id: 'dns-lookup-failed',
    title: expect.stringContaining('(no answer in time)') as unknown,
  });
  // Never "no SPF", "no MX" or "no MTA-STS" for a question that went unanswered…
  for (const absent of ['dns-spf-absent', 'dns-mx-none', 'dns-mx-none-no-address', 'dns-mta-sts-absent']) expect(ids.join('\n')).not.toContain(absent);
  // …while the questions that were answered say what they found.
  expect(ids).toContain(`dns-dmarc-absent _dmarc.${DOMAIN}`);
  expect(ids).toContain(`dns-tls-rpt-absent _smtp._tls.${DOMAIN}`);
  expect(ids).toContain(`dns-srv-none ${DOMAIN}`);
  expect(records.failures?.map((f) => `${f.type} ${f.name}`).sort()).toEqual([`MX ${DOMAIN}`, `TXT ${DOMAIN}`, `TXT _mta-sts.${DOMAIN}`].sort());
});
