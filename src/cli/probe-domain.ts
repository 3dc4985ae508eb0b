import { discover } from '../probe/discovery/index.js';
import type { DomainRecords } from '../probe/domain-model.js';
import { probeDomain, type DomainReport } from '../probe/domain-probe.js';
import type { DnsClient } from '../probe/dns/index.js';
import type { ExpectedService, ProbeTimeouts } from '../probe/port-probe.js';
import { Transcript } from '../transport/index.js';

/**
 * `mailprobe probe DOMAIN`: what a mail client and a sending server learn
 * about a domain before they connect (DNS, then autoconfig, Autodiscover and
 * MTA-STS over HTTPS), then every host and port those sources name, probed
 * at once, and where they disagree.
 */

/**
 * A name that publishes an MX (a Null MX included) or any of the mail SRV
 * records is a mail domain; a name with none of them (mail.example.com) is a
 * host. A name whose MX lookup failed is not taken for a domain: the host
 * probe then says what it can, and the DNS failure is not hidden (the host
 * probe's own lookup reports it).
 */
export function isMailDomain(records: DomainRecords): boolean {
  return records.mx.kind === 'hosts' || records.mx.kind === 'null' || records.srv.length > 0 || records.notOffered.length > 0;
}

export interface DomainRoundOptions {
  readonly ports?: Readonly<Record<number, ExpectedService>>;
  readonly budget?: number;
  readonly timeouts?: ProbeTimeouts;
  /** One timeout for each wait of the HTTPS fetches (connect, response head, body). */
  readonly fetchTimeoutMs?: number;
  readonly ca?: string;
  /** The port of every discovery URL (443 unless a lab serves them elsewhere). */
  readonly httpsPort?: number;
  readonly signal: AbortSignal;
}

/**
 * One probe of a domain whose records are known: discovery over HTTPS (to
 * addresses from the same resolver), then the domain's hosts and ports.
 * Throws DomainUnresolvable when DNS could tell nothing at all, so the
 * probe could not happen (exit 3), rather than report a domain with nothing.
 */
export async function probeDomainRound(records: DomainRecords, dns: DnsClient, options: DomainRoundOptions): Promise<DomainReport> {
  if (nothingAnswered(records))
    throw new DomainUnresolvable(
      `the DNS server did not answer for ${records.domain} (${records.failures?.map((f) => f.error).join('; ') ?? 'no answer'}); nothing could be probed`,
    );
  const resolve = (name: string) => dns.addresses(name);
  const fetchTimeouts =
    options.fetchTimeoutMs === undefined ? undefined : { connectMs: options.fetchTimeoutMs, headMs: options.fetchTimeoutMs, bodyMs: options.fetchTimeoutMs };
  // Not awaited: the domain probe starts on what DNS names while discovery is still fetching.
  const discovery = discover(records.domain, {
    resolve,
    dns: { txt: records.txt, mx: records.mx },
    signal: options.signal,
    ...(options.ca === undefined ? {} : { ca: options.ca }),
    ...(options.httpsPort === undefined ? {} : { port: options.httpsPort }),
    ...(fetchTimeouts === undefined ? {} : { timeouts: fetchTimeouts }),
  });
  return probeDomain({
    records,
    discovery,
    resolve,
    transcript: new Transcript(),
    signal: options.signal,
    ...(options.ports === undefined ? {} : { ports: options.ports }),
    ...(options.budget === undefined ? {} : { budget: options.budget }),
    ...(options.timeouts === undefined ? {} : { timeouts: options.timeouts }),
    ...(options.ca === undefined ? {} : { tls: { ca: options.ca } }),
  });
}

/** The probe could not happen: DNS answered no question about the domain. */
export class DomainUnresolvable extends Error {}

/** Every question about the domain itself (its MX and its own addresses) went unanswered. */
function nothingAnswered(records: DomainRecords): boolean {
  const failed = new Set((records.failures ?? []).filter((f) => f.name === records.domain).map((f) => f.type));
  return records.mx.kind === 'unknown' && failed.has('A/AAAA');
}
