import type { ProtocolName } from '../core/protocols.js';
import type { Finding } from './findings.js';

/**
 * What `mailprobe probe DOMAIN` learns before it connects to any mail port:
 * the DNS records (src/probe/dns) and the discovery documents fetched over
 * HTTPS (src/probe/discovery). domain-probe.ts turns both into the hosts and
 * ports to probe, and says where they disagree. These shapes are the seam
 * between the three, so each can be tested without the others.
 */

/** The RFC 6186 / RFC 8314 §5.1 SRV services a mail client may look up. */
export const SRV_SERVICES = ['_submissions._tcp', '_submission._tcp', '_imaps._tcp', '_imap._tcp', '_pop3s._tcp', '_pop3._tcp'] as const;
export type SrvService = (typeof SRV_SERVICES)[number];

/** The names a mail client guesses when nothing is published (Thunderbird's account setup does). */
export const CONVENTIONAL_PREFIXES = ['mail', 'imap', 'pop', 'pop3', 'smtp'] as const;

/** A DNS name and the addresses it resolved to, A then AAAA; none when it does not resolve. */
export interface NamedAddresses {
  readonly name: string;
  readonly addresses: readonly string[];
}

export interface MxHost extends NamedAddresses {
  readonly preference: number;
}

/**
 * none: no MX record (mail then goes to the domain's own A/AAAA, RFC 5321 §5.1);
 * null: the one record "0 ." that says the domain takes no mail (RFC 7505 §3);
 * hosts: the exchanges, lowest preference first.
 */
export type MxAnswer =
  | { readonly kind: 'none' }
  | { readonly kind: 'null' }
  | { readonly kind: 'hosts'; readonly hosts: readonly MxHost[] }
  /** The MX lookup itself failed (SERVFAIL, timeout…): whether the domain has MX records is not known. */
  | { readonly kind: 'unknown'; readonly error: string };

/** A DNS question that went unanswered: its record is neither present nor absent, only not known. */
export interface DnsLookupFailure {
  readonly name: string;
  /** "A/AAAA", "MX", "SRV", "TXT", "TLSA". */
  readonly type: string;
  readonly error: string;
}

/** One SRV answer; `name` is its target. A target of "." is kept out of here: it lands in DomainRecords.notOffered. */
export interface SrvAnswer extends NamedAddresses {
  readonly service: SrvService;
  readonly port: number;
  readonly priority: number;
  readonly weight: number;
}

export interface TlsaRecord {
  readonly usage: number;
  readonly selector: number;
  readonly matchingType: number;
  /** The certificate association data, lower-case hex. */
  readonly data: string;
}

export interface DomainRecords {
  readonly domain: string;
  /** The domain's own A/AAAA. */
  readonly self: NamedAddresses;
  readonly mx: MxAnswer;
  readonly srv: readonly SrvAnswer[];
  /** Services whose SRV record has the target ".": the service is "decidedly not available" (RFC 2782, which RFC 6186 builds on). */
  readonly notOffered: readonly SrvService[];
  /** Every conventional name, resolving or not, in CONVENTIONAL_PREFIXES order. */
  readonly names: readonly NamedAddresses[];
  /** The TXT records, each joined from its strings; absent when there is none (or the lookup failed); the first when there are several (a finding then says they are void). */
  readonly txt: { readonly spf?: string; readonly dmarc?: string; readonly mtaSts?: string; readonly tlsRpt?: string };
  /** TLSA at _25._tcp.<exchange> for every MX host; records empty when there are none. */
  readonly tlsa: readonly { readonly name: string; readonly records: readonly TlsaRecord[] }[];
  /** DNS findings (ids in the catalogue's DNS section). */
  readonly findings: readonly Finding[];
  /** Every lookup that failed; a name listed here with no addresses is not known to be unresolvable. */
  readonly failures?: readonly DnsLookupFailure[];
}

/** A server a discovery document names for a protocol. */
export interface DiscoveredServer {
  readonly protocol: ProtocolName;
  readonly host: string;
  readonly port: number;
  /** autoconfig socketType SSL → tls, STARTTLS → starttls, plain → none. */
  readonly security: 'tls' | 'starttls' | 'none';
}

export interface DiscoveryReport {
  /** Mozilla autoconfig, from the first URL that served a valid document. */
  readonly autoconfig?: { readonly url: string; readonly servers: readonly DiscoveredServer[] };
  /** Microsoft Autodiscover: only whether it answers, and with what HTTP status. */
  readonly autodiscover?: { readonly url: string; readonly status: number };
  /** The MTA-STS policy (RFC 8461 §3.2), when one was fetched and parsed. */
  readonly mtaSts?: { readonly url: string; readonly mode: string; readonly mx: readonly string[]; readonly maxAge: number };
  /** Discovery findings (ids in the catalogue's discovery section). */
  readonly findings: readonly Finding[];
}

/** Resolves a name to its addresses (A then AAAA) through the probe's own resolver, never dns.lookup. */
export type ResolveAddresses = (name: string) => Promise<readonly string[]>;
