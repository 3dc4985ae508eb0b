import type { ProtocolName } from '../core/protocols.js';
import type { DiscoveryReport, DomainRecords, SrvService } from './domain-model.js';
import { finding, type Finding } from './findings.js';
import { DEFAULT_PORT_MAP } from './host-probe.js';
import type { ExpectedService } from './port-probe.js';

/**
 * Which source named a (host, port): an MX exchange, an SRV record, the
 * autoconfig document, a conventional name (mail., imap. …) that resolves, or
 * the domain itself.
 */
export type PlanSource = 'mx' | `srv:${SrvService}` | 'autoconfig' | 'name' | 'domain';

export interface PlannedTarget {
  readonly host: string;
  readonly port: number;
  readonly expected: ExpectedService;
  /** Empty when the name does not resolve: the target is then not probed. */
  readonly addresses: readonly string[];
  /** Every source that named this (host, port), strongest first. */
  readonly sources: readonly PlanSource[];
}

export interface DomainPlan {
  readonly targets: readonly PlannedTarget[];
  /** The cap cutting the plan, sources that expect different services on one port, names that do not resolve. */
  readonly findings: readonly Finding[];
}

export interface PlanOptions {
  /**
   * --ports: the ports of the rules that use conventional ports (MX, conventional
   * names, the domain), each picked by its service: an entry with mx is an MX
   * port, the others go to the names whose protocol they serve. SRV and
   * autoconfig keep the port they publish: that port is what is being checked.
   */
  readonly ports?: Readonly<Record<number, ExpectedService>>;
  /** At most this many (host, port) pairs; the rest are dropped with a finding. */
  readonly maxTargets?: number;
  /** Addresses of names the DNS records do not carry (autoconfig's servers), resolved by the caller. */
  readonly resolved?: ReadonlyMap<string, readonly string[]>;
  /** Names whose lookup failed (not "no such name"), with the error: a warning, never "does not resolve". */
  readonly lookupFailed?: ReadonlyMap<string, string>;
}

/** Seven ports on each of the five conventional names, plus MX, SRV and autoconfig: room for a real domain, not for a runaway one. */
export const DEFAULT_MAX_TARGETS = 48;

/** What each SRV service is: RFC 6186 §3.1 (submission), §3.2 (IMAP), §3.3 (POP3); _submissions is RFC 8314's implicit-TLS submission. */
export const SRV_EXPECTS: Readonly<Record<SrvService, ExpectedService>> = {
  '_submissions._tcp': { protocol: 'smtp', security: 'tls' },
  '_submission._tcp': { protocol: 'smtp', security: 'starttls' },
  '_imaps._tcp': { protocol: 'imap', security: 'tls' },
  '_imap._tcp': { protocol: 'imap', security: 'starttls' },
  '_pop3s._tcp': { protocol: 'pop3', security: 'tls' },
  '_pop3._tcp': { protocol: 'pop3', security: 'starttls' },
};

/** The protocols a conventional name suggests; mail. serves them all. */
const NAME_PROTOCOLS: Readonly<Record<string, readonly ProtocolName[]>> = {
  mail: ['smtp', 'pop3', 'imap'],
  imap: ['imap'],
  pop: ['pop3'],
  pop3: ['pop3'],
  smtp: ['smtp'],
};

/**
 * The (host, port) pairs a domain's probe connects to, deduplicated by
 * (name, port), each with every source that named it. The rules:
 * - SRV target:port, with the protocol and security of its service;
 * - autoconfig servers on their port; socketType plain is probed as STARTTLS,
 *   so the report shows whether STARTTLS exists where the document sends clients in clear;
 * - each MX exchange on the MX port (25); with no MX record at all, the domain
 *   itself is the implicit MX (RFC 5321 §5.1); a Null MX plans nothing;
 * - a conventional name that resolves, on the client ports of the protocols
 *   its name suggests (imap. → 143, 993; pop./pop3. → 110, 995; smtp. → 465,
 *   587; mail. → all six). Port 25 is not among them: it is the port servers
 *   send to, and only an MX must answer there; a mail. that is an MX gets 25 as one;
 * - the domain itself, on the client ports of a protocol no other source
 *   names: it is the last name left to guess once none of the others is
 *   published or resolves, and the apex is
 *   usually a web server, whose closed mail ports say nothing about mail.
 * Published sources come first, so they keep their place under the cap and
 * their expectation of a port wins over a guessed one.
 */
export function planDomain(records: DomainRecords, discovery: DiscoveryReport, options: PlanOptions = {}): DomainPlan {
  const ports = options.ports ?? DEFAULT_PORT_MAP;
  const entries = Object.entries(ports).map(([port, expected]) => ({ port: Number(port), expected }));
  const mxPorts = entries.filter((e) => e.expected.mx === true);
  const clientPorts = (protocol: ProtocolName): typeof entries => entries.filter((e) => e.expected.mx !== true && e.expected.protocol === protocol);

  const known = new Map<string, string[]>();
  const remember = (name: string, addresses: readonly string[]): void => {
    const list = known.get(canonical(name)) ?? [];
    for (const address of addresses) if (!list.includes(address)) list.push(address);
    known.set(canonical(name), list);
  };
  remember(records.self.name, records.self.addresses);
  for (const name of records.names) remember(name.name, name.addresses);
  if (records.mx.kind === 'hosts') for (const mx of records.mx.hosts) remember(mx.name, mx.addresses);
  for (const srv of records.srv) remember(srv.name, srv.addresses);
  for (const [name, addresses] of options.resolved ?? []) remember(name, addresses);

  const byKey = new Map<string, { host: string; port: number; expected: ExpectedService; sources: PlanSource[] }>();
  const findings: Finding[] = [];
  const add = (host: string, port: number, expected: ExpectedService, source: PlanSource): void => {
    const name = canonical(host);
    const key = `${name}:${port}`;
    const existing = byKey.get(key);
    if (existing === undefined) {
      byKey.set(key, { host: name, port, expected, sources: [source] });
      return;
    }
    if (!existing.sources.includes(source)) existing.sources.push(source);
    // Two published sources that expect different services on one port: a client set up by one fails where the other works.
    if (published(source) && published(existing.sources[0]!) && describe(existing.expected) !== describe(expected))
      findings.push(
        finding(
          'sources-disagree-on-port',
          { host: name, port },
          `${existing.sources[0]!} expects ${describe(existing.expected)}; ${source} expects ${describe(expected)}`,
          {
            first: sourceLabel(existing.sources[0]!),
            firstExpects: describe(existing.expected),
            second: sourceLabel(source),
            secondExpects: describe(expected),
          },
        ),
      );
  };

  for (const srv of records.srv) add(srv.name, srv.port, SRV_EXPECTS[srv.service], `srv:${srv.service}`);
  for (const server of discovery.autoconfig?.servers ?? [])
    add(server.host, server.port, { protocol: server.protocol, security: server.security === 'tls' ? 'tls' : 'starttls' }, 'autoconfig');
  if (records.mx.kind === 'hosts') {
    const sorted = [...records.mx.hosts].sort((a, b) => a.preference - b.preference);
    for (const mx of sorted) for (const { port, expected } of mxPorts) add(mx.name, port, expected, 'mx');
  } else if (records.mx.kind === 'none' && records.self.addresses.length > 0) {
    for (const { port, expected } of mxPorts) add(records.domain, port, expected, 'domain');
  }
  for (const name of records.names) {
    if (name.addresses.length === 0) continue;
    const prefix = canonical(name.name).split('.')[0] ?? '';
    for (const protocol of NAME_PROTOCOLS[prefix] ?? []) for (const { port, expected } of clientPorts(protocol)) add(name.name, port, expected, 'name');
  }
  if (records.self.addresses.length > 0) {
    const named = new Set([...byKey.values()].filter((t) => t.expected.mx !== true).map((t) => t.expected.protocol));
    for (const protocol of ['smtp', 'pop3', 'imap'] as const)
      if (!named.has(protocol)) for (const { port, expected } of clientPorts(protocol)) add(records.domain, port, expected, 'domain');
  }

  const all = [...byKey.values()].map((t) => ({ ...t, addresses: known.get(t.host) ?? [] }));
  for (const name of new Set(all.filter((t) => t.addresses.length === 0).map((t) => t.host))) {
    const sources = [...new Set(all.filter((t) => t.host === name).flatMap((t) => t.sources))];
    // DNS reports the MX and SRV names it could not resolve (a warning or worse on that name); say it only where it did not.
    if (records.findings.some((f) => canonical(f.host) === name && (f.severity === 'warn' || f.severity === 'fail'))) continue;
    const failure = options.lookupFailed?.get(name);
    if (failure !== undefined) {
      findings.push(finding('source-host-lookup-failed', { host: name }, failure, { sources: sources.map(sourceLabel).join(', ') }));
      continue;
    }
    findings.push(finding('source-host-unresolved', { host: name }, `no A or AAAA record for ${name}`, { sources: sources.map(sourceLabel).join(', ') }));
  }

  const cap = options.maxTargets ?? DEFAULT_MAX_TARGETS;
  const targets = all.slice(0, cap);
  if (all.length > cap) {
    const dropped = all.slice(cap);
    findings.push(
      finding('domain-plan-capped', { host: records.domain }, `not probed: ${dropped.map((t) => `${t.host}:${t.port}`).join(', ')}`, {
        cap,
        total: all.length,
        dropped: dropped.length,
      }),
    );
  }
  return { targets, findings };
}

/** DNS names compare without case and without the root's trailing dot. */
export function canonical(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

export function describe(expected: ExpectedService): string {
  return `${expected.protocol}/${expected.security}`;
}

/** How a finding names a source to a person: "the SRV record _imaps._tcp", "the MX record". */
export function sourceLabel(source: PlanSource): string {
  switch (source) {
    case 'mx':
      return 'the MX record';
    case 'autoconfig':
      return 'autoconfig';
    case 'name':
      return 'the conventional name';
    case 'domain':
      return 'the domain itself';
    default:
      return `the SRV record ${source.slice('srv:'.length)}`;
  }
}

function published(source: PlanSource): boolean {
  return source === 'autoconfig' || source.startsWith('srv:');
}
