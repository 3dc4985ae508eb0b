import { finding, type Finding, type Place } from '../findings.js';
import type { DiscoveredServer, DiscoveryReport, DomainRecords, ResolveAddresses } from '../domain-model.js';
import { parseAutoconfig } from './autoconfig.js';
import { type FetchedResponse, type FetchFailure, type FetchResult, type FetchTimeouts, httpsFetch, type HttpsFetchOptions } from './https-fetch.js';
import { type MtaStsMode, mxCovered, parseMtaStsPolicy } from './mta-sts.js';

/**
 * What a mail client and a sending server can learn about `domain` over HTTPS:
 * Mozilla autoconfig, whether Microsoft Autodiscover answers, and (when DNS
 * announced it) the MTA-STS policy checked against the MX hosts. The three run
 * at once; each request goes to an address `resolve` gave, with TLS verified.
 */
export interface DiscoverOptions {
  readonly resolve: ResolveAddresses;
  /** Trusted CA(s) in PEM instead of the system roots (the CLI's --ca-file). */
  readonly ca?: string | Buffer;
  readonly timeouts?: Partial<FetchTimeouts>;
  readonly signal?: AbortSignal;
  /** Port for every discovery URL (default 443); tests use a high port. */
  readonly port?: number;
  /** What MTA-STS needs from DNS: the `_mta-sts` TXT (fetch the policy only when present) and the MX answer. */
  readonly dns?: Pick<DomainRecords, 'txt' | 'mx'>;
  /**
   * The user's address, when known: sent as Thunderbird sends it
   * (?emailaddress=…) and used for %EMAILADDRESS%/%EMAILLOCALPART%. Without it
   * no address is sent (the probe has no user to name), and %EMAILDOMAIN% is
   * still filled from `domain`.
   */
  readonly emailAddress?: string;
  readonly maxBodyBytes?: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** An ASCII DNS name of two labels or more (an IDN arrives here as its A-labels). */
const DOMAIN_NAME = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)+$/;

/**
 * Throws on a `domain` that is no DNS name: the CLI refuses such input as a
 * usage error before calling, so reaching here with one is a caller's bug,
 * and "no autoconfig for <garbage>" would be a made-up finding.
 */
export async function discover(domain: string, options: DiscoverOptions): Promise<DiscoveryReport> {
  const name = domain.toLowerCase().replace(/\.$/, '');
  if (!DOMAIN_NAME.test(name)) throw new TypeError(`not a domain name: ${JSON.stringify(domain)}`);
  const [autoconfig, autodiscover, mtaSts] = await Promise.all([
    discoverAutoconfig(name, options),
    discoverAutodiscover(name, options),
    checkMtaSts(name, options),
  ]);
  const report: Mutable<DiscoveryReport> = { findings: [...autoconfig.findings, ...autodiscover.findings, ...mtaSts.findings] };
  if (autoconfig.found !== undefined) report.autoconfig = autoconfig.found;
  if (autodiscover.found !== undefined) report.autodiscover = autodiscover.found;
  if (mtaSts.found !== undefined) report.mtaSts = mtaSts.found;
  return report;
}

interface Part<T> {
  readonly found?: T;
  readonly findings: readonly Finding[];
}

function fetchOptions(options: DiscoverOptions, extra: Partial<HttpsFetchOptions> = {}): HttpsFetchOptions {
  return {
    resolve: options.resolve,
    ...(options.ca === undefined ? {} : { ca: options.ca }),
    ...(options.timeouts === undefined ? {} : { timeouts: options.timeouts }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }),
    ...extra,
  };
}

/** The URL with the test port written in, so what a finding names is where the request went. */
function url(host: string, path: string, options: DiscoverOptions): string {
  const port = options.port === undefined || options.port === 443 ? '' : `:${options.port}`;
  return `https://${host}${port}${path}`;
}

/** A finding's place: the URL's host, and its port when it is not 443. */
function placeOfUrl(target: string): Place {
  const parsed = new URL(target);
  return parsed.port === '' ? { host: parsed.hostname } : { host: parsed.hostname, port: Number(parsed.port) };
}

function describeFailure(result: FetchFailure): string {
  return `${result.url}: ${result.code === undefined ? '' : `${result.code}: `}${result.message}`;
}

function outcome(result: FetchResult): string {
  if (result.kind === 'failure') return describeFailure(result);
  return `${result.url}: HTTP ${result.status}${result.status === 200 && isWebPage(result) ? ' with a web page, not an autoconfig document' : ''}`;
}

/**
 * A hosting provider's catch-all page (text/html, or a body that starts as
 * HTML) answers any path with 200. A client ignores it as it ignores a 404, so
 * it is no broken document of the customer's: report it as what was tried.
 */
function isWebPage(response: FetchedResponse): boolean {
  const type = response.headers['content-type'];
  if (typeof type === 'string' && /^\s*(text\/html|application\/xhtml\+xml)\b/i.test(type)) return true;
  return /^\s*(<!doctype\s+html\b|<html\b)/i.test(response.body.subarray(0, 512).toString('utf8'));
}

async function discoverAutoconfig(domain: string, options: DiscoverOptions): Promise<Part<NonNullable<DiscoveryReport['autoconfig']>>> {
  const query = options.emailAddress === undefined ? '' : `?emailaddress=${encodeURIComponent(options.emailAddress)}`;
  // The order Thunderbird tries: the provider's own autoconfig host, then the domain's well-known path.
  const urls = [
    url(`autoconfig.${domain}`, `/mail/config-v1.1.xml${query}`, options),
    url(domain, `/.well-known/autoconfig/mail/config-v1.1.xml${query}`, options),
  ];
  const findings: Finding[] = [];
  const tried: string[] = [];
  // Both at once, judged in order: a dead first host then costs no extra timeout
  // (a support engineer is waiting). Thunderbird follows redirects here;
  // httpsFetch follows https ones only.
  const results = await Promise.all(urls.map((target) => httpsFetch(target, fetchOptions(options, { followRedirects: true }))));
  for (const result of results) {
    tried.push(outcome(result));
    if (result.kind === 'failure') {
      if (result.reason === 'tls-verify') {
        findings.push(finding('autoconfig-cert-untrusted', placeOfUrl(result.url), describeFailure(result), { reason: result.code ?? result.message }));
      }
      // An interrupted lookup is no evidence of absence: keep what was found, claim nothing more.
      if (result.reason === 'aborted') return { findings };
      continue;
    }
    if (result.status !== 200 || isWebPage(result)) continue;
    const parsed = parseAutoconfig(result.body.toString('utf8'), {
      domain,
      ...(options.emailAddress === undefined ? {} : { emailAddress: options.emailAddress }),
    });
    if (!parsed.ok) {
      findings.push(
        finding('autoconfig-invalid', placeOfUrl(result.url), `${result.url}: HTTP 200, ${result.body.length} bytes: ${parsed.reason}`, {
          url: result.url,
          reason: parsed.reason,
        }),
      );
      continue;
    }
    const names = parsed.servers.map(describeServer).join(', ');
    const skipped = parsed.skipped.map((s) => `skipped ${s.element}: ${s.why}`);
    findings.push(finding('autoconfig-found', placeOfUrl(result.url), [`${result.url}: HTTP 200`, ...skipped].join('; '), { url: result.url, servers: names }));
    for (const server of parsed.servers.filter((s) => s.security === 'none')) {
      findings.push(
        finding(
          'autoconfig-plaintext',
          placeOfUrl(result.url),
          `${result.url}: <socketType>plain</socketType> for ${server.protocol} ${server.host}:${server.port}`,
          {
            protocol: server.protocol.toUpperCase(),
            server: server.host,
            serverPort: server.port,
          },
        ),
      );
    }
    return { found: { url: result.url, servers: parsed.servers }, findings };
  }
  if (!findings.some((f) => f.id === 'autoconfig-invalid')) findings.push(finding('autoconfig-absent', { host: domain }, tried.join('; '), { domain }));
  return { findings };
}

function describeServer(server: DiscoveredServer): string {
  const security = { tls: 'SSL/TLS', starttls: 'STARTTLS', none: 'no encryption' }[server.security];
  return `${server.protocol.toUpperCase()} ${server.host}:${server.port} ${security}`;
}

/**
 * The POX request Outlook sends; without the user's address it names none,
 * which is enough to learn whether a service answers (Exchange asks for
 * credentials first: 401 is the usual answer).
 */
function autodiscoverRequest(emailAddress: string | undefined): string {
  const address = emailAddress === undefined ? '' : `<EMailAddress>${escapeXml(emailAddress)}</EMailAddress>`;
  return (
    '<?xml version="1.0" encoding="utf-8"?>' +
    '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">' +
    `<Request>${address}<AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request>` +
    '</Autodiscover>'
  );
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * An Autodiscover service "answers" with 200 (settings), 401/403 (it wants the
 * user's credentials, as Exchange does) or a redirect (Autodiscover's own way
 * to point elsewhere, reported, not followed). 404, other statuses and no
 * answer at all count as absent: a plain web server answers 404 or 405.
 */
function autodiscoverAnswered(response: FetchedResponse): boolean {
  const status = response.status;
  if (status === 200) return !isWebPage(response);
  return status === 401 || status === 403 || (status >= 301 && status <= 308 && status !== 304);
}

async function discoverAutodiscover(domain: string, options: DiscoverOptions): Promise<Part<NonNullable<DiscoveryReport['autodiscover']>>> {
  const urls = [url(`autodiscover.${domain}`, '/autodiscover/autodiscover.xml', options), url(domain, '/autodiscover/autodiscover.xml', options)];
  const tried: string[] = [];
  // Both at once, judged in order, for the same reason as autoconfig.
  const request = fetchOptions(options, { method: 'POST', body: autodiscoverRequest(options.emailAddress), headers: { 'content-type': 'text/xml' } });
  const results = await Promise.all(urls.map((target) => httpsFetch(target, request)));
  for (const result of results) {
    tried.push(
      result.kind === 'response' && result.status === 200 && isWebPage(result) ? `${result.url}: HTTP ${result.status} with a web page` : outcome(result),
    );
    if (result.kind === 'response' && autodiscoverAnswered(result)) {
      return {
        found: { url: result.url, status: result.status },
        findings: [finding('autodiscover-answers', placeOfUrl(result.url), `${result.url}: HTTP ${result.status}`, { url: result.url, status: result.status })],
      };
    }
    if (result.kind === 'failure' && result.reason === 'aborted') return { findings: [] };
  }
  return { findings: [finding('autodiscover-absent', { host: domain }, tried.join('; '), { domain })] };
}

const MODE_CONSEQUENCE: Readonly<Record<Exclude<MtaStsMode, 'none'>, string>> = {
  enforce: 'sending servers that honour MTA-STS will refuse to deliver mail to it',
  testing: 'sending servers still deliver (the mode is testing) but report a failure, and would refuse once the mode is enforce',
};

const MODE_MEANING: Readonly<Record<MtaStsMode, string>> = {
  enforce: 'sending servers that honour MTA-STS deliver to these MX hosts only over TLS with a valid certificate',
  testing: 'sending servers report TLS problems with these MX hosts but still deliver; switch to enforce once the reports are clean',
  none: 'the policy is switched off, and sending servers treat the domain as having no MTA-STS',
};

async function checkMtaSts(domain: string, options: DiscoverOptions): Promise<Part<NonNullable<DiscoveryReport['mtaSts']>>> {
  if (options.dns?.txt.mtaSts === undefined) return { findings: [] };
  const target = url(`mta-sts.${domain}`, '/.well-known/mta-sts.txt', options);
  const place = placeOfUrl(target);
  // Redirects are not followed: RFC 8461 §3.3 says "HTTP 3xx redirects MUST NOT be
  // followed", so a policy behind one is as unreachable for senders as for us.
  //
  // Graded warn, not fail: §3.3 has senders then "continue with delivery as though
  // the domain has not implemented MTA-STS" (or apply a policy they cached): mail
  // still flows, but the protection the TXT record announces is not there.
  // An invalid policy is, for a sender, a policy that could not be fetched.
  const result = await httpsFetch(target, fetchOptions(options));
  if (result.kind === 'failure') {
    if (result.reason === 'aborted') return { findings: [] };
    return {
      findings: [
        finding('mta-sts-policy-unavailable', place, describeFailure(result), {
          url: target,
          reason: result.reason === 'tls-verify' ? (result.code ?? result.message) : result.message,
        }),
      ],
    };
  }
  if (result.status !== 200) {
    const reason = result.status >= 300 && result.status < 400 ? `HTTP ${result.status} redirect (not followed by senders)` : `HTTP ${result.status}`;
    return { findings: [finding('mta-sts-policy-unavailable', place, `${target}: HTTP ${result.status}`, { url: target, reason })] };
  }
  const parsed = parseMtaStsPolicy(result.body.toString('utf8'));
  if (!parsed.ok) {
    const reason = parsed.problems.join('; ');
    return { findings: [finding('mta-sts-policy-invalid', place, `${target}: ${reason}`, { url: target, reason })] };
  }
  const policy = parsed.policy;
  const found = { url: target, mode: policy.mode, mx: policy.mx, maxAge: policy.maxAge };
  const evidence = `${target}: version STSv1; mode ${policy.mode}; mx ${policy.mx.join(', ') || '(none)'}; max_age ${policy.maxAge}`;
  const exchanges = mxHosts(domain, options.dns.mx);
  const findings: Finding[] = [];
  if (policy.mode !== 'none') {
    for (const mx of exchanges.filter((host) => !mxCovered(host, policy))) {
      findings.push(
        finding(
          'mta-sts-mx-not-covered',
          place,
          evidence,
          { mx, mode: policy.mode, patterns: policy.mx.join(', '), consequence: MODE_CONSEQUENCE[policy.mode] },
          policy.mode === 'testing' ? 'warn' : 'fail',
        ),
      );
    }
  }
  if (findings.length === 0) {
    const covered =
      policy.mode === 'none'
        ? 'no MX (it is off)'
        : options.dns.mx.kind === 'unknown'
          ? 'no MX checked (the MX lookup failed)'
          : exchanges.length === 0
            ? 'no MX (the domain takes no mail)'
            : `every MX (${exchanges.join(', ')})`;
    findings.push(finding('mta-sts-policy-ok', place, evidence, { mode: policy.mode, maxAge: policy.maxAge, covered, meaning: MODE_MEANING[policy.mode] }));
  }
  return { found, findings };
}

/**
 * The hosts mail for `domain` goes to: the MX hosts; the domain itself when
 * there is no MX (RFC 5321 §5.1); none for a Null MX, and none to check when
 * the MX lookup failed (the DNS part reports that failure).
 */
function mxHosts(domain: string, mx: DomainRecords['mx']): string[] {
  if (mx.kind === 'null' || mx.kind === 'unknown') return [];
  if (mx.kind === 'none') return [domain];
  return [...new Set(mx.hosts.map((host) => host.name.toLowerCase().replace(/\.$/, '')))];
}
