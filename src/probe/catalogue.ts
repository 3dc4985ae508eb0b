import type { Severity } from './findings.js';

/**
 * Every finding the port probe can report, keyed by its stable id. Ids never
 * change meaning once released (scripts, monitoring and JUnit cases key on
 * them); add a new id rather than reword an old one into something else.
 * Titles and hints are templates: {port}, {host}, {address} always, others
 * where named. Severities are defaults; port-probe.ts lowers starttls-missing
 * on a public MX (port 25) to warn: an MX must not require STARTTLS
 * (RFC 3207 §4), so taking mail in clear there is no failure, only a risk.
 */
export interface CatalogueEntry {
  readonly severity: Severity;
  readonly title: string;
  readonly hint: string;
}

export const CATALOGUE = {
  'port-ok': {
    severity: 'ok',
    title: 'port {port} speaks {spoken}{security}',
    hint: 'port {port} works as a mail client expects',
  },
  'tcp-refused': {
    severity: 'info',
    title: 'port {port} refused the connection',
    hint: 'nothing listens on port {port} at {address} (or a firewall rejects it); that is fine only if this service is not meant to be offered there',
  },
  'tcp-timeout': {
    severity: 'warn',
    title: 'port {port} did not answer the connection',
    hint: 'connections to port {port} are silently dropped, usually by a firewall on the way or at the server{alternative}',
  },
  'tcp-reset': {
    severity: 'warn',
    title: 'port {port} reset the connection',
    hint: 'the connection to port {port} was cut at once: a firewall or a server that is shutting down',
  },
  'banner-silent': {
    severity: 'warn',
    title: 'port {port} accepts connections but never greets',
    hint: 'something takes the connection on port {port} but sends no mail greeting: an overloaded server, a proxy with nothing behind it, or a firewall that holds connections',
  },
  'tls-silent': {
    severity: 'warn',
    title: 'port {port} accepts connections but never answers the TLS handshake',
    hint: 'something takes the connection on port {port} but never answers TLS: an overloaded server, a proxy with nothing behind it, or a firewall that holds connections',
  },
  'dialogue-broken': {
    severity: 'warn',
    title: 'port {port} stopped answering after its greeting',
    hint: 'the server on port {port} greets but then stops answering or hangs up: an overloaded server, or a filter in front of it that cuts sessions',
  },
  'wrong-protocol': {
    severity: 'fail',
    title: 'port {port} speaks {spoken}, not {expected}',
    hint: 'port {port} speaks {spoken}: set the mail client to the port of its {expected} service',
  },
  'implicit-tls-expected': {
    severity: 'fail',
    title: 'port {port} expects TLS from the first byte',
    hint: 'port {port} expects TLS from the first byte: set the client to SSL/TLS, not STARTTLS',
  },
  'plaintext-on-tls-port': {
    severity: 'fail',
    title: 'port {port} speaks plain text where TLS is expected',
    hint: 'port {port} does not start with TLS: set the client to STARTTLS (or use the port for SSL/TLS)',
  },
  'temporary-refusal': {
    severity: 'warn',
    title: 'port {port} answered {code}: try again later',
    hint: "{code}: the server is rate-limiting or blocking this address; this is not a fault of the server's configuration",
  },
  'greeting-refused': {
    severity: 'warn',
    title: 'port {port} refuses this client ({code})',
    hint: 'the server refuses service to this address ({code}); ask its operator whether the address is blocked',
  },
  'starttls-missing': {
    severity: 'fail',
    title: 'STARTTLS is not offered on {port}',
    hint: 'STARTTLS is not offered on {port}: passwords and mail would travel unencrypted; enable STARTTLS on the server or use the SSL/TLS port',
  },
  'starttls-refused': {
    severity: 'fail',
    title: 'port {port} offers STARTTLS but refused it',
    hint: "the server announces STARTTLS on {port} but refuses to start it: check the server's certificate and TLS settings",
  },
  'tls-handshake-failed': {
    severity: 'fail',
    title: 'the TLS handshake on port {port} failed',
    hint: "no TLS connection could be made on port {port}: the server's TLS setup is broken or it offers nothing this client accepts (TLS 1.2 or newer)",
  },
  'tls-expired': {
    severity: 'fail',
    title: 'the certificate on port {port} has expired',
    hint: 'the certificate on port {port} expired on {validTo}: renew it; mail clients will refuse the connection',
  },
  'tls-name-mismatch': {
    severity: 'fail',
    title: 'the certificate on port {port} is not for {name}',
    hint: 'certificate is for {names}, not {name}: install a certificate for {name} or have clients use a name it carries',
  },
  'tls-untrusted': {
    severity: 'fail',
    title: 'the certificate on port {port} is not trusted ({reason})',
    hint: 'clients cannot verify the certificate on port {port} ({reason}): use a certificate from a public CA and serve its full chain',
  },
  'plaintext-auth-before-tls': {
    severity: 'warn',
    title: 'plaintext login is offered before TLS on port {port}',
    hint: 'plaintext login is offered before TLS on port {port}: a client set to "no encryption" would send the password in clear; configure the server to refuse logins until STARTTLS',
  },
  'starttls-injection': {
    severity: 'fail',
    title: 'port {port} runs commands injected before STARTTLS',
    hint: 'the server on port {port} keeps commands sent in clear before STARTTLS and runs them inside TLS (CVE-2011-0411 class): an attacker on the path can inject commands; update the server software',
  },
  // ── per-port checks added later (requires TLS before MAIL/LOGIN/USER, --login): add them here ──

  // ── TLS facts (tls-facts.ts): fold its ids in here ──

  // ── DNS (src/probe/dns): MX, SRV, conventional names, SPF, DMARC, MTA-STS, TLS-RPT, TLSA ──

  // ── discovery over HTTPS (src/probe/discovery): autoconfig, Autodiscover, the MTA-STS policy ──

  // ── a domain's sources disagreeing (src/probe/domain-probe.ts): SRV, autoconfig, MX and the ports ──
  'domain-plan-capped': {
    severity: 'info',
    title: 'only {cap} of the {total} host:port pairs the domain names were probed',
    hint: 'the domain names more servers and ports than one probe takes ({dropped} left out, listed in the evidence); probe those by name with mailprobe probe HOST',
  },
  'sources-disagree-on-port': {
    severity: 'warn',
    title: '{first} and {second} expect different services on {host}:{port}',
    hint: '{first} says {host}:{port} is {firstExpects}, {second} says it is {secondExpects}: a client set up from one of them fails; publish the same service in both',
  },
  'source-host-unresolved': {
    severity: 'fail',
    title: '{host} does not resolve, but {sources} names it',
    hint: '{sources} sends mail clients or servers to {host}, which has no address (no A or AAAA record): add the record or correct the name that is published',
  },
  'source-host-lookup-failed': {
    severity: 'warn',
    title: 'the address of {host}, which {sources} names, could not be looked up',
    hint: 'the DNS lookup of {host} failed from here (the evidence says how), so it was not probed: try again, or check the DNS servers of its domain',
  },
  'srv-target-refused': {
    severity: 'fail',
    title: 'the SRV record {service} says {host}:{port}, but nothing answers there',
    hint: 'the SRV record {service} says {host}:{port}, but nothing answers there (the connection is refused): start the service on that port or correct the SRV record',
  },
  'srv-target-unreachable': {
    severity: 'warn',
    title: 'the SRV record {service} says {host}:{port}, but it did not answer from here',
    hint: '{host}:{port} ({service}) did not answer from this network; a firewall on the way may drop it: check from another network before changing the record',
  },
  'autoconfig-server-refused': {
    severity: 'fail',
    title: 'autoconfig sends {protocol} clients to {host}:{port}, but nothing answers there',
    hint: 'the autoconfig document sends {protocol} clients to {host}:{port}, where the connection is refused: start the service on that port or correct the document',
  },
  'autoconfig-server-unreachable': {
    severity: 'warn',
    title: 'autoconfig sends {protocol} clients to {host}:{port}, but it did not answer from here',
    hint: '{host}:{port} (from autoconfig) did not answer from this network; a firewall on the way may drop it: check from another network before changing the document',
  },
  'srv-autoconfig-disagree': {
    severity: 'warn',
    title: 'SRV and autoconfig name different servers for {service}',
    hint: 'the SRV record {service} names {srv}, autoconfig names {autoconfig}: clients that read one get a different server from clients that read the other; publish the same server in both',
  },
  'mx-not-answering': {
    severity: 'warn',
    title: 'MX {host} did not take a connection on port {port}, while another MX did',
    hint: 'senders skip {host} ({outcome}) and deliver to the other MX hosts, with delays while they retry it: repair it, or remove its MX record',
  },
  'mx-none-answering': {
    severity: 'fail',
    title: 'no MX host of {domain} takes connections on port {port}',
    hint: 'every MX host refused the connection on port {port}: mail sent to {domain} cannot be delivered; start the mail server or correct the MX records',
  },
  'mx-unreachable-here': {
    severity: 'warn',
    title: 'no MX host of {domain} answered on port {port} from here',
    hint: 'no MX host answered on port {port} from this network, which may block or filter it: check from another network before blaming the mail server',
  },
  'mx-port-blocked-here': {
    severity: 'info',
    title: 'port {port} timed out on every MX while {working} works',
    hint: '{port} timed out while {working} works: many ISPs block outbound {port}, so this network cannot see the MX; it says nothing about the mail server. For sending from a mail client use 587 with STARTTLS',
  },
} as const satisfies Record<string, CatalogueEntry>;

export type FindingId = keyof typeof CATALOGUE;

export const FINDING_IDS = Object.keys(CATALOGUE) as FindingId[];
