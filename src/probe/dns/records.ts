import {
  CONVENTIONAL_PREFIXES,
  SRV_SERVICES,
  type DnsLookupFailure,
  type DomainRecords,
  type MxAnswer,
  type MxHost,
  type NamedAddresses,
  type SrvAnswer,
  type SrvService,
  type TlsaRecord,
} from '../domain-model.js';
import type { DnsClient, MxRecord, SrvRecord } from './client.js';
import { isDnsLookupError } from './errors.js';
import { dnsFindings, type TxtLookups } from './findings.js';
import { matching, TXT_POLICIES, type Outcome, type TxtPolicy } from './txt-policies.js';

/**
 * Everything DNS says about a mail domain, asked all at once: the lookups
 * that depend on an answer (an exchange's addresses, its TLSA, an SRV
 * target's addresses) start as soon as that answer is in. A lookup that
 * fails is recorded as a failure, never as an empty answer.
 */

export interface LookupOptions {
  /** Look up TLSA at _25._tcp.<exchange> (default true). */
  readonly tlsa?: boolean;
}

export async function lookupDomainRecords(domain: string, client: DnsClient, options: LookupOptions = {}): Promise<DomainRecords> {
  const failures: DnsLookupFailure[] = [];
  const settle = async <T>(name: string, type: string, lookup: () => Promise<T>): Promise<Outcome<T>> => {
    try {
      return { ok: true, value: await lookup() };
    } catch (error) {
      // Only a lookup that could not be made is an outcome; anything else is a bug and must surface.
      if (!isDnsLookupError(error)) throw error;
      failures.push({ name, type, error: error.message });
      return { ok: false, error: error.message, kind: error.kind };
    }
  };
  const addressesOf = (name: string): Promise<Outcome<string[]>> => settle(name, 'A/AAAA', () => client.addresses(name));

  const selfLookup = addressesOf(domain);
  const mxLookup = settle(domain, 'MX', () => client.mx(domain)).then(async (outcome) =>
    resolveExchanges(outcome, addressesOf, options.tlsa === false ? undefined : (name) => settle(name, 'TLSA', () => client.tlsa(name))),
  );
  const srvLookups = Promise.all(
    SRV_SERVICES.map(async (service) => {
      const owner = `${service}.${domain}`;
      const outcome = await settle(owner, 'SRV', () => client.srv(owner));
      return { service, owner, outcome, targets: outcome.ok ? await resolveTargets(outcome.value, addressesOf) : [] };
    }),
  );
  const nameLookups = Promise.all(
    CONVENTIONAL_PREFIXES.map(async (prefix) => ({ name: `${prefix}.${domain}`, outcome: await addressesOf(`${prefix}.${domain}`) })),
  );
  const txtLookups = Promise.all(
    (Object.keys(TXT_POLICIES) as TxtPolicy[]).map(async (policy) => {
      const owner = TXT_POLICIES[policy].owner(domain);
      const outcome = await settle(owner, 'TXT', () => client.txt(owner));
      return [policy, { owner, outcome }] as const;
    }),
  );

  const [self, mx, srvs, names, txts] = await Promise.all([selfLookup, mxLookup, srvLookups, nameLookups, txtLookups]);
  const txt = Object.fromEntries(txts) as TxtLookups;

  const srv: SrvAnswer[] = [];
  const notOffered: SrvService[] = [];
  for (const { service, outcome, targets } of srvs) {
    if (!outcome.ok) continue;
    if (outcome.value.some((record) => record.target === '.')) notOffered.push(service);
    for (const { record, addresses } of targets)
      srv.push({
        service,
        name: record.target,
        port: record.port,
        priority: record.priority,
        weight: record.weight,
        addresses: addresses.ok ? addresses.value : [],
      });
  }

  const records: Omit<DomainRecords, 'findings'> = {
    domain,
    self: { name: domain, addresses: self.ok ? self.value : [] },
    mx: mx.answer,
    srv,
    notOffered,
    names: names.map(({ name, outcome }): NamedAddresses => ({ name, addresses: outcome.ok ? outcome.value : [] })),
    txt: Object.fromEntries(
      (Object.keys(TXT_POLICIES) as TxtPolicy[]).flatMap((policy) => {
        const first = matching(txt[policy].outcome, policy)[0];
        return first === undefined ? [] : [[policy, first]];
      }),
    ),
    tlsa: mx.tlsa.flatMap(({ name, outcome }) => (outcome.ok ? [{ name, records: outcome.value }] : [])),
    failures,
  };
  return { ...records, findings: dnsFindings({ domain, self, mx, srvs, names, txt }) };
}

export interface ExchangeLookups {
  readonly outcome: Outcome<MxRecord[]>;
  readonly answer: MxAnswer;
  /** Each exchange (not the Null MX) with its address lookup. */
  readonly exchanges: readonly { readonly record: MxRecord; readonly addresses: Outcome<string[]> }[];
  readonly tlsa: readonly { readonly name: string; readonly outcome: Outcome<TlsaRecord[]> }[];
}

async function resolveExchanges(
  outcome: Outcome<MxRecord[]>,
  addressesOf: (name: string) => Promise<Outcome<string[]>>,
  tlsaOf: ((name: string) => Promise<Outcome<TlsaRecord[]>>) | undefined,
): Promise<ExchangeLookups> {
  if (!outcome.ok) return { outcome, answer: { kind: 'unknown', error: outcome.error }, exchanges: [], tlsa: [] };
  const sorted = [...outcome.value].sort((a, b) => a.preference - b.preference || a.exchange.localeCompare(b.exchange));
  // RFC 7505 §3: a Null MX is the single record with preference 0 and the exchange ".".
  if (sorted.length === 1 && sorted[0]!.exchange === '.' && sorted[0]!.preference === 0) return { outcome, answer: { kind: 'null' }, exchanges: [], tlsa: [] };
  const real = sorted.filter((record) => record.exchange !== '.');
  if (real.length === 0) return { outcome, answer: sorted.length === 0 ? { kind: 'none' } : { kind: 'null' }, exchanges: [], tlsa: [] };
  const [exchanges, tlsa] = await Promise.all([
    Promise.all(real.map(async (record) => ({ record, addresses: await addressesOf(record.exchange) }))),
    tlsaOf === undefined
      ? []
      : Promise.all(real.map(async (record) => ({ name: `_25._tcp.${record.exchange}`, outcome: await tlsaOf(`_25._tcp.${record.exchange}`) }))),
  ]);
  const hosts: MxHost[] = exchanges.map(({ record, addresses }) => ({
    name: record.exchange,
    preference: record.preference,
    addresses: addresses.ok ? addresses.value : [],
  }));
  return { outcome, answer: { kind: 'hosts', hosts }, exchanges, tlsa };
}

async function resolveTargets(
  records: readonly SrvRecord[],
  addressesOf: (name: string) => Promise<Outcome<string[]>>,
): Promise<{ record: SrvRecord; addresses: Outcome<string[]> }[]> {
  const offered = [...records].filter((record) => record.target !== '.').sort((a, b) => a.priority - b.priority || b.weight - a.weight);
  return Promise.all(offered.map(async (record) => ({ record, addresses: await addressesOf(record.target) })));
}
