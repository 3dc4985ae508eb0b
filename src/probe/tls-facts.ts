import { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import { checkServerIdentity, rootCertificates, type DetailedPeerCertificate, type TLSSocket } from 'node:tls';
import { abortedError } from '../transport/phase.js';
import type { Timeouts } from '../transport/timeouts.js';
import { probeHandshake, type ProbeHandshake, type ProbeTlsOptions } from '../transport/tls-probe.js';
import type { FindingId } from './catalogue.js';
import { finding, type Finding, type Severity, type TemplateValues } from './findings.js';

export type LegacyVersion = 'TLSv1' | 'TLSv1.1';
export type LegacyOutcome = 'offered' | 'not offered' | 'not tested';

/** What the TLS handshakes with one port showed. Every field comes from a real handshake. */
export interface TlsFacts {
  version: string;
  cipher: string;
  /** Key-exchange group ("X25519", "prime256v1", "DH 2048"); absent when Node cannot tell. */
  group?: string;
  /** Chain and name verified against the given CA, or Node's root store. */
  authorized: boolean;
  /** OpenSSL's code for why not, e.g. "UNABLE_TO_VERIFY_LEAF_SIGNATURE". */
  verifyError?: string;
  nameMatches: boolean;
  /** Whole days until notAfter, rounded down: negative once expired. */
  daysLeft: number;
  notAfter: string;
  keyType: string;
  keyBits?: number;
  ocspStapled: boolean;
  /** Whether the server sends every certificate between its own and a root; undefined when that cannot be decided. */
  chainComplete?: boolean;
  legacy: Record<LegacyVersion, LegacyOutcome>;
  /** What Node cannot test at all (SSLv3, 3DES, RC4): never "not offered". */
  untested: string[];
  /** The name the certificate was checked against (the one the customer uses). */
  servername: string;
  /** The names the certificate carries (DNS and IP SANs, or the CN when there are none). */
  names: string[];
  /** Why a legacy version came out "not offered" or "not tested" (the error the server or Node gave). */
  legacyNotes: Partial<Record<LegacyVersion, string>>;
}

export interface TlsTarget {
  /** The host as the probe knows it (reported in findings). */
  readonly host: string;
  /** The resolved address to connect to. */
  readonly address: string;
  readonly port: number;
  /** The name the customer uses: sent as SNI and matched against the certificate. Default: host. */
  readonly servername?: string | undefined;
  /** CA(s) in PEM to trust instead of Node's root store. */
  readonly ca?: string | undefined;
  readonly timeouts?: Partial<Timeouts> | undefined;
  readonly signal?: AbortSignal | undefined;
  /**
   * For STARTTLS ports: the plaintext exchange up to the server's go-ahead, on
   * a socket the transport connected. Called once per handshake (each on its
   * own connection).
   */
  readonly upgrade?: ((socket: Socket, signal: AbortSignal | undefined) => Promise<void>) | undefined;
  /**
   * Or: open the connection and do the STARTTLS exchange entirely (connect(),
   * the protocol client, Connection.releaseForTls()). Called once per handshake.
   */
  readonly open?: ((signal: AbortSignal | undefined) => Promise<Socket>) | undefined;
}

/** Node's OpenSSL has no SSLv3, and its cipher lists have no 3DES or RC4 suites left to offer. */
const UNTESTABLE = ['SSLv3', '3DES', 'RC4'];
const LEGACY: readonly LegacyVersion[] = ['TLSv1', 'TLSv1.1'];

/**
 * Codes that mean the server itself turned the version down: it sent a
 * protocol_version alert, or answered with a version outside the one we
 * allowed. Node refusing a legacy signature, a handshake_failure alert (no
 * shared cipher: the server may offer the version with 3DES or RC4 only, which
 * Node cannot send) or a timeout do not prove the version is off: "not tested".
 */
const SERVER_REFUSED_VERSION = new Set(['ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'ERR_SSL_UNSUPPORTED_PROTOCOL', 'ERR_SSL_WRONG_VERSION_NUMBER']);

/**
 * The server hung up on our hello without a word. Dovecot with ssl_min_protocol
 * does this to a TLS 1.0 or 1.1 hello (it reads it and closes, no alert). It is
 * taken as "not offered" only when the modern handshake with the same port
 * worked, so that a port that resets everyone is not judged by it.
 */
function hungUp(code: string | undefined, message: string): boolean {
  return code === 'ECONNRESET' || /closed the connection during the handshake|socket disconnected before secure TLS connection/i.test(message);
}

/**
 * Handshakes with one port: the modern one (TLS 1.2+, what clients use), one
 * per legacy version, and one that trusts nothing, to see which certificates
 * the server itself sends. Throws the modern handshake's error when no
 * handshake at all succeeds.
 */
export async function inspectTls(target: TlsTarget): Promise<TlsFacts> {
  const servername = target.servername ?? target.host;
  const endpoint = { ...target, host: servername };
  const trust: ProbeTlsOptions = target.ca === undefined ? {} : { ca: target.ca };
  const attempt = (override: ProbeTlsOptions): Promise<ProbeHandshake> => probeHandshake(endpoint, { ...trust, requestOCSP: true, ...override });

  const sockets: TLSSocket[] = [];
  try {
    const [modern, ...parallelTries] = await Promise.allSettled([attempt({}), ...LEGACY.map((version) => attempt(legacyOptions(version)))]);
    if (modern.status === 'fulfilled') sockets.push(modern.value.socket);
    rethrowAbort(target.signal);
    const legacy = {} as Record<LegacyVersion, LegacyOutcome>;
    const legacyNotes: Partial<Record<LegacyVersion, string>> = {};
    const legacyWins: Array<{ version: LegacyVersion; handshake: ProbeHandshake }> = [];
    for (const [i, version] of LEGACY.entries()) {
      let result = parallelTries[i]!;
      // A hang-up while three handshakes ran at once may be a limit on parallel
      // connections, not a refusal of the version: ask once more, alone.
      if (result.status === 'rejected' && modern.status === 'fulfilled' && isHangUp(result.reason)) {
        [result] = await Promise.allSettled([attempt(legacyOptions(version))]);
        rethrowAbort(target.signal);
      }
      if (result.status === 'fulfilled') {
        sockets.push(result.value.socket);
        legacy[version] = 'offered';
        legacyWins.push({ version, handshake: result.value });
      } else {
        const judged = judgeLegacyFailure(result.reason, modern.status === 'fulfilled');
        legacy[version] = judged.outcome;
        legacyNotes[version] = judged.why;
      }
    }
    // The newest version that worked is what a client gets.
    const primary = modern.status === 'fulfilled' ? { handshake: modern.value, options: {} } : newest(legacyWins);
    if (primary === undefined) throw (modern as PromiseRejectedResult).reason;

    // ca: [] replaces the root store with nothing, so the chain Node returns is only what the server sent.
    const bare = await attempt({ ...primary.options, ca: [], requestOCSP: false }).catch(() => undefined);
    if (bare !== undefined) sockets.push(bare.socket);
    rethrowAbort(target.signal);

    const facts = describe(primary.handshake, servername);
    const chainComplete = bare === undefined ? undefined : judgeChain(sentChain(bare.socket), anchors(target.ca), facts.authorized);
    return {
      ...facts,
      ...(chainComplete === undefined ? {} : { chainComplete }),
      legacy,
      legacyNotes,
      untested: [...UNTESTABLE],
    };
  } finally {
    for (const socket of sockets) socket.destroy();
  }
}

/** One legacy version alone; OpenSSL 3 refuses its SHA-1 signatures below security level 0. */
function legacyOptions(version: LegacyVersion): ProbeTlsOptions {
  return { minVersion: version, maxVersion: version, ciphers: 'DEFAULT@SECLEVEL=0' };
}

function newest(wins: Array<{ version: LegacyVersion; handshake: ProbeHandshake }>): { handshake: ProbeHandshake; options: ProbeTlsOptions } | undefined {
  const best = wins.find((w) => w.version === 'TLSv1.1') ?? wins.find((w) => w.version === 'TLSv1');
  return best === undefined ? undefined : { handshake: best.handshake, options: legacyOptions(best.version) };
}

/** Whether a failed legacy handshake proves the server does not offer that version. */
export function judgeLegacyFailure(error: unknown, modernWorked: boolean): { outcome: 'not offered' | 'not tested'; why: string } {
  const code = causeCode(error);
  if (code !== undefined && SERVER_REFUSED_VERSION.has(code)) return { outcome: 'not offered', why: code };
  if (isHangUp(error)) {
    return modernWorked
      ? { outcome: 'not offered', why: `${code ?? 'closed'}: the server hung up on a hello offering only this version` }
      : { outcome: 'not tested', why: `${code ?? 'closed'}: the server hung up, and on the modern handshake too` };
  }
  return { outcome: 'not tested', why: code ?? firstLine(error instanceof Error ? error.message : String(error)) };
}

function causeCode(error: unknown): string | undefined {
  const cause = (error as { cause?: unknown } | undefined)?.cause ?? error;
  return (cause as NodeJS.ErrnoException | undefined)?.code;
}

function isHangUp(error: unknown): boolean {
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  const message = `${error instanceof Error ? error.message : String(error)} ${cause instanceof Error ? cause.message : ''}`;
  return hungUp(causeCode(error), message);
}

/** An interrupted probe is interrupted, never a fact: a handshake cut short by the abort must not be judged. */
function rethrowAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedError('tls', signal);
}

function describe(handshake: ProbeHandshake, servername: string): Omit<TlsFacts, 'legacy' | 'legacyNotes' | 'untested' | 'chainComplete'> {
  const { socket } = handshake;
  const cert = socket.getPeerCertificate(true);
  const x509 = new X509Certificate(cert.raw);
  const cipher = socket.getCipher();
  const verifyError = errorCode(socket.authorizationError as unknown);
  const notAfter = new Date(x509.validTo);
  const key = keyOf(x509, cert.bits);
  const group = groupOf(socket);
  return {
    version: socket.getProtocol() ?? 'unknown',
    cipher: cipher.standardName ?? cipher.name,
    ...(group === undefined ? {} : { group }),
    authorized: socket.authorized,
    ...(verifyError === undefined ? {} : { verifyError }),
    nameMatches: checkServerIdentity(servername, cert) === undefined,
    daysLeft: Math.floor((notAfter.getTime() - Date.now()) / 86_400_000),
    notAfter: notAfter.toISOString(),
    keyType: key.type,
    ...(key.bits === undefined ? {} : { keyBits: key.bits }),
    ocspStapled: handshake.ocsp !== null,
    servername,
    names: certificateNames(cert),
  };
}

function groupOf(socket: TLSSocket): string | undefined {
  const info = socket.getEphemeralKeyInfo() as { type?: string; name?: string; size?: number } | null;
  if (info === null || info.type === undefined) return undefined;
  if (info.name !== undefined) return info.name;
  return info.size === undefined ? info.type : `${info.type} ${info.size}`;
}

function keyOf(cert: X509Certificate, bits: number | undefined): { type: string; bits?: number } {
  const key = cert.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  const type = key.asymmetricKeyType ?? 'unknown';
  const size = details.modulusLength ?? bits;
  const label = type === 'ec' && details.namedCurve !== undefined ? `EC ${details.namedCurve}` : type.toUpperCase();
  return size === undefined ? { type: label } : { type: label, bits: size };
}

function certificateNames(cert: DetailedPeerCertificate): string[] {
  const sans = (cert.subjectaltname ?? '')
    .split(/,\s*/)
    .map((entry) => entry.replace(/^(DNS|IP Address):/, ''))
    .filter((name) => name !== '');
  if (sans.length > 0) return sans;
  const cn = cert.subject?.CN;
  return cn === undefined ? [] : Array.isArray(cn) ? cn : [cn];
}

/** The certificates as the server sent them, leaf first (from a handshake with an empty trust store). */
function sentChain(socket: TLSSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  let cert: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  while (cert !== undefined && Object.keys(cert).length > 0 && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push(new X509Certificate(cert.raw));
    cert = cert.issuerCertificate;
  }
  return chain;
}

function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

let rootAnchors: X509Certificate[] | undefined;

/** The self-signed roots the client trusts: the given CA file's, or Node's store. Intermediates in a CA file are not anchors. */
function anchors(ca: string | undefined): X509Certificate[] {
  if (ca === undefined) {
    rootAnchors ??= rootCertificates.map((pem) => new X509Certificate(pem));
    return rootAnchors;
  }
  const blocks = ca.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((pem) => new X509Certificate(pem)).filter((cert) => issuedBy(cert, cert));
}

/**
 * Complete: the last certificate the server sent is a root, or is signed by
 * one the client trusts. Incomplete: it is not, yet the modern handshake
 * verified, so the missing certificates came from the local store (which
 * other clients may not have). When neither verified, a missing intermediate
 * cannot be told from an unknown CA: undefined.
 */
export function judgeChain(sent: readonly X509Certificate[], trusted: readonly X509Certificate[], authorized: boolean): boolean | undefined {
  const top = sent[sent.length - 1];
  if (top === undefined) return undefined;
  if (issuedBy(top, top) || trusted.some((root) => issuedBy(top, root))) return true;
  return authorized ? false : undefined;
}

function errorCode(error: unknown): string | undefined {
  if (error === undefined || error === null) return undefined;
  if (error instanceof Error) return (error as NodeJS.ErrnoException).code ?? error.message;
  return String(error);
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}

export interface FindingPlace {
  readonly host: string;
  readonly address: string;
  readonly port: number;
}

const EXPIRY_WARN_DAYS = 14;

/**
 * The findings, graded for a person, that one port's TLS facts give. tls-ok
 * when nothing is warn or fail. Titles, hints and severities come from the
 * one catalogue (catalogue.ts, "TLS facts"); the evidence is what the
 * handshakes showed.
 */
export function tlsFindings(facts: TlsFacts, where: FindingPlace, now: Date = new Date()): Finding[] {
  const findings: Finding[] = [];
  const add = (id: FindingId, evidence: string, values: TemplateValues = {}, severity?: Severity): void => {
    findings.push(finding(id, where, evidence, values, severity));
  };
  const expired = new Date(facts.notAfter).getTime() < now.getTime() || facts.daysLeft < 0;

  if (expired) {
    add('tls-expired', `notAfter ${facts.notAfter}`, { daysAgo: Math.max(1, -facts.daysLeft) });
  } else if (facts.daysLeft < EXPIRY_WARN_DAYS) {
    add('tls-expires-soon', `notAfter ${facts.notAfter}`, { daysLeft: facts.daysLeft });
  }
  if (!facts.nameMatches) {
    add('tls-name-mismatch', `checked ${facts.servername} against ${facts.names.length > 0 ? facts.names.join(', ') : '(no names)'}`, {
      names: facts.names.length > 0 ? facts.names.join(', ') : 'no name at all',
      servername: facts.servername,
    });
  }
  // Expiry and a wrong name have findings of their own; this one is about who signed it.
  const trustError = facts.verifyError !== undefined && !['CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID'].includes(facts.verifyError);
  if (!facts.authorized && trustError) {
    add('tls-untrusted', `verify error ${facts.verifyError ?? 'unknown'}`, { advice: untrustedHint(facts.verifyError ?? '') });
  }
  if (facts.chainComplete === false) {
    add('tls-chain-incomplete', 'the server sends no certificate signed by a trusted root; this machine completed the chain from its own store');
  }
  if (facts.version === 'TLSv1' || facts.version === 'TLSv1.1') {
    add('tls-only-legacy', `no TLS 1.2 or 1.3 handshake; best was ${facts.version}`, { version: versionName(facts.version) });
  } else {
    const offered = (Object.keys(facts.legacy) as LegacyVersion[]).filter((v) => facts.legacy[v] === 'offered');
    if (offered.length > 0) {
      add('tls-legacy-offered', `offered: ${offered.join(', ')} (each in a handshake of its own)`, {
        versions: offered.map(versionName).join(' and '),
        isAre: offered.length > 1 ? 'are' : 'is',
      });
    }
  }
  const notTested = (Object.keys(facts.legacyNotes) as LegacyVersion[]).filter((v) => facts.legacy[v] === 'not tested');
  if (notTested.length > 0) {
    add('tls-legacy-not-tested', notTested.map((v) => `${v}: ${facts.legacyNotes[v] ?? 'no reason'}`).join('; '), {
      versions: notTested.map(versionName).join(' or '),
    });
  }
  const weak = weakKey(facts);
  if (weak !== undefined) {
    add('tls-weak-key', `${facts.keyType} ${facts.keyBits ?? '?'} bits`, { keyType: facts.keyType, keyBits: facts.keyBits ?? '?' }, weak);
  }
  if (!facts.ocspStapled) add('tls-no-ocsp-stapling', 'the server stapled no OCSP response to the handshake');
  if (!findings.some((f) => f.severity === 'warn' || f.severity === 'fail')) {
    add(
      'tls-ok',
      `${facts.version} ${facts.cipher}${facts.group === undefined ? '' : `, ${facts.group}`}, ${facts.keyType}${facts.keyBits === undefined ? '' : ` ${facts.keyBits}`}, expires in ${plural(facts.daysLeft, 'day')}; ${facts.untested.join(', ')} not tested`,
      { version: versionName(facts.version), servername: facts.servername, daysLeft: facts.daysLeft },
    );
  }
  return findings;
}

function weakKey(facts: TlsFacts): 'fail' | 'warn' | undefined {
  if (facts.keyBits === undefined) return undefined;
  if ((facts.keyType === 'RSA' || facts.keyType === 'RSA-PSS' || facts.keyType === 'DSA') && facts.keyBits < 2048) return 'fail';
  if (facts.keyType.startsWith('EC') && facts.keyBits < 256) return 'warn';
  return undefined;
}

function untrustedHint(code: string): string {
  if (code === 'DEPTH_ZERO_SELF_SIGNED_CERT') return 'the certificate is self-signed; mail apps will warn or refuse: install one from a public CA';
  if (code === 'SELF_SIGNED_CERT_IN_CHAIN')
    return 'the certificate chain ends in a private CA; only machines that trust that CA will connect without a warning';
  if (code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' || code === 'UNABLE_TO_GET_ISSUER_CERT') {
    return 'the certificate is signed by a CA this machine does not trust, or the server leaves out an intermediate certificate; check the certificate file on the server';
  }
  if (code === 'CERT_NOT_YET_VALID') return 'the certificate is not valid yet; check its start date and the server clock';
  return `the certificate did not verify (${code}); mail apps will warn or refuse`;
}

function versionName(version: string): string {
  return version === 'TLSv1' ? 'TLS 1.0' : version.replace(/^TLSv/, 'TLS ');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
