import { CONVENTIONAL_PREFIXES, type SrvService } from '../domain-model.js';
import { finding, type Finding } from '../findings.js';
import type { FindingId } from '../catalogue.js';
import type { MxRecord, SrvRecord } from './client.js';
import type { DnsFailureKind } from './errors.js';
import type { ExchangeLookups } from './records.js';
import { matching, TXT_POLICIES, type Outcome, type TxtPolicy } from './txt-policies.js';

/**
 * The DNS findings of a domain, from what each lookup came to. Each finding
 * names the record's owner name as its place, and its evidence is the
 * record text or the DNS error. Where a lookup failed the finding says so
 * (dns-lookup-failed) and nothing is concluded about that record.
 */

export type TxtLookups = Readonly<Record<TxtPolicy, { readonly owner: string; readonly outcome: Outcome<string[]> }>>;

export interface DnsLookups {
  readonly domain: string;
  readonly self: Outcome<string[]>;
  readonly mx: ExchangeLookups;
  readonly srvs: readonly {
    readonly service: SrvService;
    readonly owner: string;
    readonly outcome: Outcome<SrvRecord[]>;
    readonly targets: readonly { readonly record: SrvRecord; readonly addresses: Outcome<string[]> }[];
  }[];
  readonly names: readonly { readonly name: string; readonly outcome: Outcome<string[]> }[];
  readonly txt: TxtLookups;
}

export function dnsFindings(lookups: DnsLookups): Finding[] {
  return [...mxFindings(lookups), ...srvFindings(lookups), ...nameFindings(lookups), ...txtFindings(lookups), ...tlsaFindings(lookups)];
}

function failed(host: string, type: string, failure: { readonly error: string; readonly kind: DnsFailureKind }): Finding {
  return finding('dns-lookup-failed', { host }, failure.error, { type, reason: REASONS[failure.kind] });
}

const REASONS: Readonly<Record<DnsFailureKind, string>> = {
  servfail: 'the server answered SERVFAIL',
  refused: 'the server answered REFUSED',
  timeout: 'no answer in time',
  unreachable: 'the DNS server is unreachable',
  'bad-response': 'the answer was malformed',
  aborted: 'the probe was cancelled',
  other: 'the server gave an error',
};

function mxText(record: MxRecord): string {
  return `MX ${record.preference} ${record.exchange}`;
}

function mxFindings({ domain, self, mx }: DnsLookups): Finding[] {
  const place = { host: domain };
  const out: Finding[] = [];
  if (!self.ok) out.push(failed(domain, 'A/AAAA', self));
  if (!mx.outcome.ok) return [...out, failed(domain, 'MX', mx.outcome)];
  const records = mx.outcome.value;
  const evidence = records.map(mxText).join('; ');
  switch (mx.answer.kind) {
    case 'null':
      out.push(finding('dns-mx-null', place, evidence));
      break;
    case 'none':
      if (!self.ok) out.push(finding('dns-mx-none', place, 'no MX record', { addresses: 'whose lookup failed' }));
      else if (self.value.length === 0) out.push(finding('dns-mx-none-no-address', place, 'no MX record; no A or AAAA record'));
      else out.push(finding('dns-mx-none', place, `no MX record; ${domain} has ${self.value.join(', ')}`, { addresses: self.value.join(', ') }));
      break;
    case 'hosts': {
      if (records.some((record) => record.exchange === '.')) out.push(finding('dns-mx-null-mixed', place, evidence));
      out.push(finding('dns-mx-present', place, evidence, { exchanges: mx.answer.hosts.map((host) => `${host.name} (${host.preference})`).join(', ') }));
      for (const { record, addresses } of mx.exchanges) {
        if (!addresses.ok) out.push(failed(record.exchange, 'A/AAAA', addresses));
        else if (addresses.value.length === 0)
          out.push(finding('dns-mx-unresolvable', place, `${mxText(record)}; ${record.exchange} has no A or AAAA record`, { exchange: record.exchange }));
      }
      break;
    }
    case 'unknown':
      break;
  }
  return out;
}

function srvFindings({ domain, srvs }: DnsLookups): Finding[] {
  const out: Finding[] = [];
  let published = 0;
  for (const { owner, outcome, targets } of srvs) {
    if (!outcome.ok) {
      out.push(failed(owner, 'SRV', outcome));
      continue;
    }
    if (outcome.value.length > 0) published++;
    const place = { host: owner };
    for (const record of outcome.value) if (record.target === '.') out.push(finding('dns-srv-not-offered', place, srvText(record)));
    for (const { record, addresses } of targets) {
      const values = { target: record.target, port: record.port };
      if (!addresses.ok) out.push(failed(record.target, 'A/AAAA', addresses));
      else if (addresses.value.length === 0)
        out.push(finding('dns-srv-unresolvable', place, `${srvText(record)}; ${record.target} has no A or AAAA record`, values));
      else out.push(finding('dns-srv-present', place, `${srvText(record)} → ${addresses.value.join(', ')}`, values));
    }
  }
  // "none" only when every SRV question was answered: a failed one might have held the record.
  if (published === 0 && srvs.every(({ outcome }) => outcome.ok))
    out.push(finding('dns-srv-none', { host: domain }, `no SRV record at ${srvs.map(({ owner }) => owner).join(', ')}`));
  return out;
}

function srvText(record: SrvRecord): string {
  return `SRV ${record.priority} ${record.weight} ${record.port} ${record.target}`;
}

function nameFindings({ domain, names }: DnsLookups): Finding[] {
  const out: Finding[] = [];
  const resolving: string[] = [];
  for (const { name, outcome } of names) {
    if (!outcome.ok) out.push(failed(name, 'A/AAAA', outcome));
    else if (outcome.value.length > 0) resolving.push(`${name} (${outcome.value.join(', ')})`);
  }
  const place = { host: domain };
  if (resolving.length > 0)
    out.push(finding('dns-names-resolve', place, resolving.join('; '), { names: resolving.map((entry) => entry.split(' ')[0]).join(', ') }));
  else if (names.every(({ outcome }) => outcome.ok)) {
    const all = CONVENTIONAL_PREFIXES.map((prefix) => `${prefix}.${domain}`).join(', ');
    out.push(finding('dns-names-none', place, `no A or AAAA record at ${all}`, { names: all }));
  }
  return out;
}

const TXT_IDS: Readonly<Record<TxtPolicy, { readonly present: FindingId; readonly absent: FindingId; readonly multiple: FindingId; readonly tag: string }>> = {
  spf: { present: 'dns-spf-present', absent: 'dns-spf-absent', multiple: 'dns-spf-multiple', tag: 'v=spf1' },
  dmarc: { present: 'dns-dmarc-present', absent: 'dns-dmarc-absent', multiple: 'dns-dmarc-multiple', tag: 'v=DMARC1' },
  mtaSts: { present: 'dns-mta-sts-present', absent: 'dns-mta-sts-absent', multiple: 'dns-mta-sts-multiple', tag: 'v=STSv1' },
  tlsRpt: { present: 'dns-tls-rpt-present', absent: 'dns-tls-rpt-absent', multiple: 'dns-tls-rpt-multiple', tag: 'v=TLSRPTv1' },
};

function txtFindings({ domain, txt }: DnsLookups): Finding[] {
  return (Object.keys(TXT_POLICIES) as TxtPolicy[]).map((policy) => {
    const { owner, outcome } = txt[policy];
    const ids = TXT_IDS[policy];
    const place = { host: owner };
    if (!outcome.ok) return failed(owner, 'TXT', outcome);
    const records = matching(outcome, policy);
    const values = { domain };
    if (records.length === 0) return finding(ids.absent, place, `no TXT record starting "${ids.tag}" at ${owner}`, values);
    const evidence = records.map((record) => `"${record}"`).join('; ');
    if (records.length > 1) return finding(ids.multiple, place, evidence, { ...values, count: records.length });
    return finding(ids.present, place, evidence, values);
  });
}

function tlsaFindings({ mx }: DnsLookups): Finding[] {
  return mx.tlsa.map(({ name, outcome }) => {
    const place = { host: name };
    if (!outcome.ok) return failed(name, 'TLSA', outcome);
    if (outcome.value.length === 0) return finding('dns-tlsa-absent', place, `no TLSA record at ${name}`);
    const evidence = outcome.value.map((record) => `TLSA ${record.usage} ${record.selector} ${record.matchingType} ${record.data}`).join('; ');
    return finding('dns-tlsa-present', place, evidence, { count: outcome.value.length });
  });
}
