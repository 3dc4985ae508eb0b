import type { DiscoveryReport, DomainRecords, NamedAddresses } from './domain-model.js';
import { allDomainFindings, type DomainReport } from './domain-probe.js';
import { findingsBlock, painter, portTable, type RenderOptions } from './render.js';

/**
 * The terminal report of `mailprobe probe DOMAIN`: what DNS said, what
 * discovery said, then the port table of every host probed (under the sources
 * that named it), the targets that could not be probed, and every finding
 * that is not ok, with its hint. Everything that came from outside (DNS
 * names, URLs, TXT, banners) goes through oneLine.
 */
export function renderDomain(report: DomainReport, options: RenderOptions): string {
  const paint = painter(options.color);
  const one = options.oneLine;
  const out: string[] = [
    `mailprobe probe ${one(report.domain)}`,
    '',
    'DNS',
    ...dnsLines(report.records, one),
    'discovery',
    ...discoveryLines(report.discovery, one),
  ];

  for (const host of report.hosts) {
    const targets = report.plan.targets.filter((t) => t.host === host.host);
    const named = targets.map((t) => `${t.port}: ${t.sources.join(', ')}`).join('; ');
    out.push('', `${one(host.host)}  (${one(named)})`, ...portTable(host.ports, paint));
  }
  const unprobed = report.plan.targets.filter((t) => t.addresses.length === 0);
  if (unprobed.length > 0) {
    out.push('', 'not probed (the name does not resolve):');
    for (const t of unprobed) out.push(`  ${one(`${t.host}:${t.port}`)}  (${one(t.sources.join(', '))})`);
  }
  out.push('', ...findingsBlock(allDomainFindings(report), paint, one, true));
  return `${out.join('\n')}\n`;
}

/** Two columns: a label, then the lines of its value, continued under the first. */
function section(label: string, values: readonly string[]): string[] {
  const lead = `  ${label.padEnd(13)} `;
  return (values.length === 0 ? ['-'] : values).map((value, i) => `${i === 0 ? lead : ' '.repeat(lead.length)}${value}`);
}

function addresses(named: NamedAddresses, one: (text: string) => string): string {
  return named.addresses.length === 0 ? 'does not resolve' : one(named.addresses.join(', '));
}

function dnsLines(records: DomainRecords, one: (text: string) => string): string[] {
  const mx =
    records.mx.kind === 'none'
      ? ['none: mail goes to the domain itself']
      : records.mx.kind === 'null'
        ? ['Null MX (0 .): the domain takes no mail']
        : records.mx.kind === 'unknown'
          ? [`unknown: the lookup failed (${one(records.mx.error)})`]
          : records.mx.hosts.map((h) => `${h.preference} ${one(h.name)}  ${addresses(h, one)}`);
  const srv = [
    ...records.srv.map((s) => `${s.service} ${one(`${s.name}:${s.port}`)} (priority ${s.priority}, weight ${s.weight})  ${addresses(s, one)}`),
    ...records.notOffered.map((s) => `${s} "." (not offered)`),
  ];
  const txt = records.txt;
  const yes = (value: string | undefined): string => (value === undefined ? 'no' : 'yes');
  const tlsa = records.tlsa.map((t) => `${one(t.name)} ${t.records.length}`).join(', ');
  return [
    ...section('domain', [`${one(records.self.name)}  ${addresses(records.self, one)}`]),
    ...section('MX', mx),
    ...section('SRV', srv.length === 0 ? ['none'] : srv),
    ...section(
      'names',
      records.names.map((n) => `${one(n.name)}  ${addresses(n, one)}`),
    ),
    ...section('records', [
      `SPF ${yes(txt.spf)}, DMARC ${yes(txt.dmarc)}, MTA-STS ${yes(txt.mtaSts)}, TLS-RPT ${yes(txt.tlsRpt)}, TLSA ${tlsa === '' ? 'none' : tlsa}`,
    ]),
  ];
}

function discoveryLines(discovery: DiscoveryReport, one: (text: string) => string): string[] {
  const autoconfig = discovery.autoconfig;
  const policy = discovery.mtaSts;
  return [
    ...section(
      'autoconfig',
      autoconfig === undefined
        ? ['none']
        : [one(autoconfig.url), ...autoconfig.servers.map((s) => `${s.protocol} ${one(`${s.host}:${s.port}`)} ${s.security}`)],
    ),
    ...section('autodiscover', [discovery.autodiscover === undefined ? 'none' : `${one(discovery.autodiscover.url)}  HTTP ${discovery.autodiscover.status}`]),
    ...section('MTA-STS', [
      policy === undefined ? 'none' : `${one(policy.mode)}, mx ${one(policy.mx.join(' '))}, max_age ${policy.maxAge}  ${one(policy.url)}`,
    ]),
  ];
}
