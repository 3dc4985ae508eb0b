import type { Severity } from './findings.js';

/**
 * Every finding `mailprobe probe` can report (ports, TLS, DNS, discovery and
 * a domain's disagreements), keyed by its stable id. Ids never change
 * meaning once released (scripts, monitoring and JUnit cases key on them);
 * add a new id rather than reword an old one into something else.
 * Titles and hints are templates: {host} always, {port} and {address} where
 * the finding has them, others where named; {name:word} is a count with its
 * word, plural when it is not 1 ({daysLeft:day} → "1 day", "9 days";
 * {daysLeft:more day} → "9 more days"). Severities are defaults; port-probe.ts lowers starttls-missing
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
  // ── per-port checks: whether TLS is required before MAIL/USER/LOGIN, and the --login check ──
  'tls-not-required': {
    severity: 'warn',
    title: 'port {port} accepts {command} before STARTTLS',
    hint: 'port {port} accepts {command} before STARTTLS: a mail client set to "no encryption" works there, and sends {exposes} in clear; configure the server to refuse it until STARTTLS',
  },
  'mx-requires-starttls': {
    severity: 'info',
    title: 'the MX on port {port} refuses mail before STARTTLS',
    hint: 'port {port} answers {code} to MAIL FROM until STARTTLS: servers that cannot do TLS cannot deliver mail here; a public MX must not require STARTTLS (RFC 3207), so this is fine only if it is meant',
  },
  'login-ok': {
    severity: 'ok',
    title: 'login as {user} works on port {port}',
    hint: 'the account {user} can log in on port {port} (inside TLS); the mail client can use the same settings',
  },
  'login-refused': {
    severity: 'fail',
    title: 'login as {user} refused on port {port}',
    hint: 'the server refused the login of {user} on port {port} inside TLS: check the user name and password, or whether the account is locked or needs an app password; the reply says which',
  },
  'login-not-tried': {
    severity: 'info',
    title: 'no login tried on port {port}',
    hint: 'no login was tried on port {port}: {why}',
  },
  'tls-requirement-unclear': {
    severity: 'info',
    title: 'port {port} refused {command} before STARTTLS for another reason',
    hint: 'port {port} refused {command} in clear, but not because TLS is missing; whether it insists on TLS first is not known; the reply says why',
  },

  // ── TLS facts (tls-facts.ts): the certificate, versions, key and OCSP of each TLS port ──
  // The one producer of certificate and TLS-version findings: tlsFindings in tls-facts.ts, from handshakes of its own.
  'tls-expired': {
    severity: 'fail',
    title: 'certificate expired',
    hint: 'certificate expired {daysAgo:day} ago; renew it',
  },
  'tls-expires-soon': {
    severity: 'warn',
    title: 'certificate expires soon',
    hint: 'certificate expires in {daysLeft:day}; renew it before then',
  },
  'tls-name-mismatch': {
    severity: 'fail',
    title: 'certificate does not name the server',
    hint: 'certificate is for {names}, not {servername}',
  },
  'tls-untrusted': {
    severity: 'fail',
    title: 'certificate is not trusted',
    // The advice depends on OpenSSL's verify error (self-signed, private CA, unknown issuer …): tls-facts.ts picks it.
    hint: '{advice}',
  },
  'tls-chain-incomplete': {
    severity: 'warn',
    title: 'intermediate certificate missing',
    hint: 'the server does not send its intermediate certificate; some mail apps will refuse the connection: add the intermediate to the certificate file on the server',
  },
  'tls-only-legacy': {
    severity: 'fail',
    title: 'only legacy TLS is offered',
    hint: 'only {version} is offered; current mail apps refuse it: enable TLS 1.2 and 1.3 on the server',
  },
  'tls-legacy-offered': {
    severity: 'warn',
    title: 'legacy TLS versions are offered',
    hint: '{versions} {isAre} still offered; RFC 8996 deprecates them: turn them off on the server',
  },
  'tls-legacy-not-tested': {
    severity: 'info',
    title: 'some legacy versions could not be tested',
    hint: 'whether the server offers {versions} is unknown: this machine could not complete that test, which says nothing about the server',
  },
  'tls-weak-key': {
    // An RSA or DSA key under 2048 bits fails; an EC key under 256 bits is lowered to warn by tls-facts.ts.
    severity: 'fail',
    title: 'weak certificate key',
    hint: 'the certificate key is too small ({keyType}, {keyBits} bits); issue a new certificate with an RSA 2048+ or EC P-256 key',
  },
  'tls-no-ocsp-stapling': {
    severity: 'info',
    title: 'no OCSP stapling',
    hint: 'the server does not staple OCSP; clients check revocation themselves, which is slower but works',
  },
  'tls-ok': {
    severity: 'ok',
    title: 'TLS is in order',
    hint: 'TLS works: {version}, a certificate valid for {servername} for {daysLeft:more day}',
  },

  // ── DNS (src/probe/dns): MX, SRV, conventional names, SPF, DMARC, MTA-STS, TLS-RPT, TLSA ──
  // {host} is the record's owner name. A failed lookup is never reported as an absent record.
  'dns-lookup-failed': {
    severity: 'warn',
    title: 'the {type} record of {host} could not be looked up ({reason})',
    hint: "the DNS server gave no answer about {type} at {host} ({reason}), so nothing is known about it: this does not mean the record is missing; check that the domain's DNS servers answer, then probe again",
  },
  'dns-mx-present': {
    severity: 'info',
    title: '{host} receives mail at {exchanges}',
    hint: 'other servers deliver mail for {host} to {exchanges} (lowest preference first)',
  },
  'dns-mx-null': {
    severity: 'info',
    title: '{host} publishes a Null MX: it accepts no mail',
    hint: '{host} says in DNS that it receives no mail at all (the MX record "0 .", RFC 7505): every message to an address at {host} bounces at once; remove that record and publish real MX records if the domain should receive mail',
  },
  'dns-mx-null-mixed': {
    severity: 'warn',
    title: '{host} publishes a Null MX together with other MX records',
    hint: 'the "0 ." record says {host} takes no mail, but other MX records say it does; RFC 7505 forbids mixing them and senders may treat the domain either way: keep only the real MX records, or only "0 ."',
  },
  'dns-mx-none': {
    severity: 'info',
    title: '{host} has no MX record; mail goes to its own address',
    hint: '{host} has no MX record, so senders deliver to the address of {host} itself ({addresses}, RFC 5321 §5.1): that machine must run a mail server on port 25, or publish MX records naming the real one',
  },
  'dns-mx-none-no-address': {
    severity: 'fail',
    title: '{host} has neither an MX record nor an address',
    hint: '{host} has no MX record and no A or AAAA record, so nobody can deliver mail to it: publish MX records naming the mail server',
  },
  'dns-mx-unresolvable': {
    severity: 'fail',
    title: 'the MX host {exchange} of {host} does not resolve',
    hint: 'the MX record of {host} names {exchange}, but {exchange} has no A or AAAA record: mail cannot be delivered there; fix the name in the MX record or add the address record',
  },
  'dns-srv-present': {
    severity: 'info',
    title: '{host} points mail clients to {target}:{port}',
    hint: 'the SRV record {host} tells mail clients to use {target} on port {port} (RFC 6186)',
  },
  'dns-srv-not-offered': {
    severity: 'info',
    title: '{host} says this service is not offered',
    hint: 'the SRV record {host} has the target ".", which tells mail clients that this service is "decidedly not available" at this domain (RFC 2782, on which RFC 6186 builds)',
  },
  'dns-srv-unresolvable': {
    severity: 'fail',
    title: 'the SRV record {host} points to {target}, which does not resolve',
    hint: 'the SRV record {host} sends mail clients to {target}:{port}, but {target} has no A or AAAA record: clients that use SRV records cannot connect; fix the target or remove the record',
  },
  'dns-srv-none': {
    severity: 'info',
    title: '{host} publishes no mail SRV records',
    hint: 'no SRV records for mail clients (RFC 6186) are published for {host}: clients find the server through autoconfig or by guessing names, so settings may have to be entered by hand',
  },
  'dns-names-resolve': {
    severity: 'info',
    title: 'conventional mail names of {host} that resolve: {names}',
    hint: 'mail clients that guess server names will find {names}; make sure each of them really runs the mail service a client expects there',
  },
  'dns-names-none': {
    severity: 'info',
    title: 'none of the conventional mail names of {host} resolves',
    hint: 'none of {names} exists, so mail clients that guess server names find nothing: customers must type the server name in by hand unless SRV or autoconfig is published',
  },
  'dns-spf-present': {
    severity: 'info',
    title: '{host} publishes SPF',
    hint: '{host} lists the servers allowed to send its mail (SPF): receivers can reject forged senders; mail sent through a server not on the list may be rejected',
  },
  'dns-spf-absent': {
    severity: 'info',
    title: '{host} publishes no SPF record',
    hint: '{host} does not say which servers may send its mail (SPF): some receivers treat its mail as more likely spam, and forged senders are harder to reject; publish a TXT record starting "v=spf1"',
  },
  'dns-spf-multiple': {
    severity: 'warn',
    title: '{host} publishes {count} SPF records',
    hint: '{host} has {count} TXT records starting "v=spf1"; with more than one, receivers must treat SPF as broken (a permanent error, RFC 7208 §4.5) and may reject the mail: merge them into one record',
  },
  'dns-dmarc-present': {
    severity: 'info',
    title: '{host} publishes a DMARC policy',
    hint: 'a DMARC policy is published at {host}: receivers know what to do with mail that fails SPF and DKIM checks, and may send reports to the domain owner',
  },
  'dns-dmarc-absent': {
    severity: 'info',
    title: 'no DMARC policy at {host}',
    hint: 'no DMARC policy is published at {host}: large mailbox providers may file or reject mail from the domain more readily, and the owner gets no reports on forged mail; publish a TXT record starting "v=DMARC1"',
  },
  'dns-dmarc-multiple': {
    severity: 'warn',
    title: '{host} publishes {count} DMARC records',
    hint: '{host} has {count} TXT records starting "v=DMARC1"; with more than one, receivers apply no DMARC policy at all (RFC 7489 §6.6.3): keep exactly one',
  },
  'dns-mta-sts-present': {
    severity: 'info',
    title: '{host} announces an MTA-STS policy',
    hint: 'senders that support MTA-STS will fetch the policy from https://mta-sts.{domain}/.well-known/mta-sts.txt and then insist on TLS with a valid certificate when delivering mail',
  },
  'dns-mta-sts-absent': {
    severity: 'info',
    title: 'no MTA-STS record at {host}',
    hint: 'the domain publishes no MTA-STS record, so sending servers may fall back to unencrypted delivery if TLS fails; that is common and not an error',
  },
  'dns-mta-sts-multiple': {
    severity: 'warn',
    title: '{host} publishes {count} MTA-STS records',
    hint: '{host} has {count} TXT records starting "v=STSv1"; with more than one, senders must assume there is no MTA-STS policy (RFC 8461 §3.1): keep exactly one',
  },
  'dns-tls-rpt-present': {
    severity: 'info',
    title: '{host} asks for TLS reports',
    hint: 'sending servers that support TLS-RPT send the domain owner daily reports of TLS problems when delivering to the domain',
  },
  'dns-tls-rpt-absent': {
    severity: 'info',
    title: 'no TLS-RPT record at {host}',
    hint: 'the domain asks for no TLS reports (TLS-RPT), so its owner hears nothing when other servers fail to deliver over TLS; optional',
  },
  'dns-tls-rpt-multiple': {
    severity: 'warn',
    title: '{host} publishes {count} TLS-RPT records',
    hint: '{host} has {count} TXT records starting "v=TLSRPTv1"; with more than one, senders treat the domain as not asking for reports (RFC 8460 §3): keep exactly one',
  },
  'dns-tlsa-present': {
    severity: 'info',
    title: '{host} publishes {count} TLSA record(s) (DANE)',
    hint: "the mail server's certificate is pinned in DNS (DANE, RFC 7672): senders that check DANE refuse to deliver if the certificate does not match, so a new certificate needs a new TLSA record first; DANE also needs the zone to be signed with DNSSEC, which mailprobe does not check",
  },
  'dns-tlsa-absent': {
    severity: 'info',
    title: 'no TLSA record at {host}',
    hint: 'the MX host publishes no TLSA record (DANE), so senders rely on ordinary certificate checks or none; optional',
  },

  // ── discovery over HTTPS (src/probe/discovery): autoconfig, Autodiscover, the MTA-STS policy ──
  // Place: the host of the URL fetched (and its port when not 443); the domain when no URL answered.
  'autoconfig-found': {
    severity: 'info',
    title: 'autoconfig at {url} names {servers}',
    hint: 'mail clients such as Thunderbird that read the autoconfig document set up accounts with: {servers}',
  },
  'autoconfig-absent': {
    severity: 'info',
    title: 'no autoconfig document for {domain}',
    hint: 'there is no autoconfig document, so mail clients such as Thunderbird guess server names and ports; publishing one at https://autoconfig.{domain}/mail/config-v1.1.xml lets them set up accounts without guessing',
  },
  'autoconfig-invalid': {
    severity: 'warn',
    title: 'the autoconfig document at {url} is not usable: {reason}',
    hint: 'mail clients cannot use the autoconfig document at {url} ({reason}) and fall back to guessing server names; fix the document or remove it',
  },
  'autoconfig-plaintext': {
    severity: 'warn',
    title: 'autoconfig sets {protocol} on {server}:{serverPort} without encryption',
    hint: 'the autoconfig document tells mail clients to use {server} port {serverPort} with no encryption: the client would send the password in clear; set its socketType to SSL (or STARTTLS) and offer TLS there',
  },
  'autoconfig-cert-untrusted': {
    severity: 'warn',
    title: 'the HTTPS certificate of {host} does not verify ({reason})',
    hint: 'mail clients will not read the autoconfig document from {host} because its HTTPS certificate does not verify ({reason}); install a certificate from a public CA that names {host}, with its full chain',
  },
  'autodiscover-answers': {
    severity: 'info',
    title: 'Autodiscover answers at {url} (HTTP {status})',
    hint: 'Outlook-style clients find an Autodiscover service at {url} (it answered HTTP {status})',
  },
  'autodiscover-absent': {
    severity: 'info',
    title: 'no Autodiscover service for {domain}',
    hint: 'nothing answers Autodiscover for {domain}, so Outlook will not find settings by itself; that is normal for a domain that is not on Exchange or Microsoft 365',
  },
  'mta-sts-policy-unavailable': {
    severity: 'warn',
    title: 'MTA-STS is announced but its policy cannot be fetched: {reason}',
    hint: 'the _mta-sts DNS record says this domain uses MTA-STS, but its policy at {url} cannot be fetched ({reason}); sending servers then deliver as if there were no MTA-STS, or keep using an old copy, so the protection is lost; serve the policy there over valid HTTPS, or remove the record',
  },
  'mta-sts-policy-invalid': {
    severity: 'warn',
    title: 'the MTA-STS policy at {url} is invalid: {reason}',
    hint: 'sending servers cannot use the MTA-STS policy at {url} ({reason}) and deliver as if there were none, so the protection is lost; fix the policy file',
  },
  'mta-sts-mx-not-covered': {
    severity: 'fail',
    title: 'MX {mx} is not covered by the MTA-STS policy ({mode})',
    hint: 'the MTA-STS policy allows {patterns}, but the MX {mx} matches none of them: {consequence}; add an mx line for {mx} to the policy',
  },
  'mta-sts-policy-ok': {
    severity: 'info',
    title: 'MTA-STS policy in {mode} mode covers {covered}',
    hint: 'the MTA-STS policy (mode {mode}, kept by senders for {maxAge} seconds) covers {covered}: {meaning}',
  },

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
