import type { DiscoveryReport, DomainRecords } from '../../src/probe/domain-model.js';

/** DomainRecords built by hand for the domain probe's tests: the DNS part's output, without a DNS server. */
export function records(overrides: Partial<DomainRecords> = {}): DomainRecords {
  const domain = overrides.domain ?? 'example.test';
  return {
    domain,
    self: { name: domain, addresses: [] },
    mx: { kind: 'none' },
    srv: [],
    notOffered: [],
    names: ['mail', 'imap', 'pop', 'pop3', 'smtp'].map((prefix) => ({ name: `${prefix}.${domain}`, addresses: [] })),
    txt: {},
    tlsa: [],
    findings: [],
    ...overrides,
  };
}

/** The conventional names with these addresses; the others do not resolve. */
export function names(domain: string, resolving: Readonly<Record<string, readonly string[]>>): DomainRecords['names'] {
  return ['mail', 'imap', 'pop', 'pop3', 'smtp'].map((prefix) => ({ name: `${prefix}.${domain}`, addresses: resolving[prefix] ?? [] }));
}

export function discovery(overrides: Partial<DiscoveryReport> = {}): DiscoveryReport {
  return { findings: [], ...overrides };
}
