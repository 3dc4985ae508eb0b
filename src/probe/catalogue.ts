import type { Severity } from './findings.js';

/**
 * Every finding the port probe can report, keyed by its stable id. Ids never
 * change meaning once released (scripts, monitoring and JUnit cases key on
 * them); add a new id rather than reword an old one into something else.
 * Titles and hints are templates: {port}, {host}, {address} always, others
 * where named; {name:word} is a count with its word, plural when it is not
 * 1 ({daysLeft:day} → "1 day", "9 days"; {daysLeft:more day} → "9 more days"). Severities are defaults; port-probe.ts lowers starttls-missing
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
  // ── per-port checks added later (requires TLS before MAIL/LOGIN/USER, --login): add them here ──
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

  // ── TLS facts (tls-facts.ts): fold its ids in here ──
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

  // ── discovery over HTTPS (src/probe/discovery): autoconfig, Autodiscover, the MTA-STS policy ──

  // ── a domain's sources disagreeing (src/probe/domain-probe.ts): SRV, autoconfig, MX and the ports ──
} as const satisfies Record<string, CatalogueEntry>;

export type FindingId = keyof typeof CATALOGUE;

export const FINDING_IDS = Object.keys(CATALOGUE) as FindingId[];
