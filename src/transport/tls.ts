import { isIP } from 'node:net';
import { type ConnectionOptions, createSecureContext, type PeerCertificate, type SecureContext, type TLSSocket } from 'node:tls';
import type { Security } from '../core/protocols.js';

/** The security modes that negotiate TLS: implicit on connect, or upgraded after the greeting. */
export type TlsMode = Exclude<Security, 'none'>;

/** What the user asked for. Verification is on unless `verify: false`. */
export interface TlsOptions {
  /** false = accept any certificate (insecure; recorded on the connection). */
  readonly verify?: boolean;
  /** Trusted CA(s) in PEM; replaces Node's default root store when given. */
  readonly ca?: string | Buffer;
  /** Name sent as SNI and checked against the certificate. */
  readonly servername?: string;
}

export interface PeerCertificateInfo {
  readonly subject: string;
  readonly issuer: string;
  readonly validFrom: string;
  readonly validTo: string;
  /** "DNS:mail.example.org", "IP Address:127.0.0.1", as OpenSSL prints them. */
  readonly subjectAltNames: string[];
  readonly fingerprint256: string;
  readonly serialNumber: string;
}

/** What was negotiated, for the probe command and the report. */
export interface TlsInfo {
  readonly mode: TlsMode;
  /** Whether verification was requested. false means `insecure` was set. */
  readonly verify: boolean;
  /** Whether the chain and name verified (also computed when verify is off). */
  readonly authorized: boolean;
  /** Why it did not verify, e.g. "DEPTH_ZERO_SELF_SIGNED_CERT". */
  readonly authorizationError?: string;
  /** The name the certificate was checked against (servername, or the host). */
  readonly checkedName: string;
  /** SNI sent, if any (never an IP address: RFC 6066 forbids that). */
  readonly servername?: string;
  readonly protocol: string | null;
  readonly cipher: string;
  readonly peer?: PeerCertificateInfo;
}

/**
 * Options for tls.connect on an already connected socket. `host` is the name
 * the user gave (not the resolved address): Node checks the certificate
 * against `servername || host`, so an IP host is matched against IP SANs.
 */
export function tlsConnectOptions(host: string, options: TlsOptions = {}): ConnectionOptions {
  const servername = sniName(host, options);
  return {
    host,
    ...(servername === undefined ? {} : { servername }),
    rejectUnauthorized: options.verify !== false,
    ...(options.ca === undefined ? {} : { ca: options.ca }),
    // TLS 1.0/1.1 are off in Node by default; say so explicitly so a future
    // default change cannot weaken what the harness accepts silently.
    minVersion: MIN_VERSION,
  };
}

const MIN_VERSION = 'TLSv1.2';
/** A few CAs at most in one run (one per target); bounded anyway. */
const MAX_CONTEXTS = 16;
const contexts = new Map<string, SecureContext>();

/**
 * tlsConnectOptions' result with its CA and minimum version as one secure
 * context shared by every connection that trusts the same CA: building one
 * parses the PEM into a fresh certificate store (about 0.4 ms here), and a run
 * opens hundreds of connections with the same CA. Verification itself (chain,
 * name, rejectUnauthorized) stays per connection. Not for handshakes with
 * options of their own (the probe's version ranges): tls.connect takes those
 * from the context once one is given, and would ignore them.
 */
export function withSharedContext(options: ConnectionOptions): ConnectionOptions {
  if (options.ca === undefined || options.minVersion !== MIN_VERSION) return options;
  const { ca, minVersion: _, ...rest } = options;
  return { ...rest, secureContext: contextTrusting(ca as string | Buffer) };
}

function contextTrusting(ca: string | Buffer): SecureContext {
  const key = typeof ca === 'string' ? ca : ca.toString('latin1');
  let context = contexts.get(key);
  if (context === undefined) {
    if (contexts.size >= MAX_CONTEXTS) contexts.clear();
    context = createSecureContext({ ca, minVersion: MIN_VERSION });
    contexts.set(key, context);
  }
  return context;
}

export function sniName(host: string, options: TlsOptions = {}): string | undefined {
  if (options.servername !== undefined && options.servername.length > 0) return options.servername;
  return isIP(host) === 0 ? host : undefined;
}

export function describeTls(socket: TLSSocket, mode: TlsMode, host: string, options: TlsOptions = {}): TlsInfo {
  const cert = socket.getPeerCertificate(false);
  const cipher = socket.getCipher();
  const servername = sniName(host, options);
  const authorizationError = socket.authorizationError as unknown;
  return {
    mode,
    verify: options.verify !== false,
    authorized: socket.authorized,
    ...(authorizationError === undefined || authorizationError === null ? {} : { authorizationError: errorText(authorizationError) }),
    checkedName: servername ?? host,
    ...(servername === undefined ? {} : { servername }),
    protocol: socket.getProtocol(),
    cipher: cipher.standardName ?? cipher.name,
    ...(cert !== undefined && Object.keys(cert).length > 0 ? { peer: describeCertificate(cert) } : {}),
  };
}

function describeCertificate(cert: PeerCertificate): PeerCertificateInfo {
  return {
    subject: distinguishedName(cert.subject),
    issuer: distinguishedName(cert.issuer),
    validFrom: cert.valid_from,
    validTo: cert.valid_to,
    subjectAltNames: cert.subjectaltname === undefined ? [] : cert.subjectaltname.split(/,\s*/).filter((s) => s !== ''),
    fingerprint256: cert.fingerprint256,
    serialNumber: cert.serialNumber,
  };
}

function distinguishedName(name: object | undefined): string {
  if (name === undefined || name === null) return '';
  return Object.entries(name as Record<string, string | string[]>)
    .map(([key, value]) => (Array.isArray(value) ? value.map((v) => `${key}=${v}`).join(', ') : `${key}=${value}`))
    .join(', ');
}

function errorText(error: unknown): string {
  if (error instanceof Error) return (error as NodeJS.ErrnoException).code ?? error.message;
  return String(error);
}

const VERIFY_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);

/**
 * Node's certificate error messages, for libraries (imapflow) that
 * pass on the text of a TLS failure but not its code.
 */
const CODE_BY_MESSAGE: ReadonlyArray<readonly [RegExp, string]> = [
  [/certificate has expired/i, 'CERT_HAS_EXPIRED'],
  [/certificate is not yet valid/i, 'CERT_NOT_YET_VALID'],
  [/self[- ]signed certificate in certificate chain/i, 'SELF_SIGNED_CERT_IN_CHAIN'],
  [/self[- ]signed certificate/i, 'DEPTH_ZERO_SELF_SIGNED_CERT'],
  [/unable to verify the first certificate/i, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
  [/unable to get local issuer certificate/i, 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'],
  [/Hostname\/IP does not match certificate's altnames/i, 'ERR_TLS_CERT_ALTNAME_INVALID'],
];

/** The OpenSSL/Node code of a TLS failure, from the error's code or, failing that, its text. */
export function tlsErrorCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && (VERIFY_CODES.has(code) || code.startsWith('CERT_') || code.startsWith('ERR_TLS'))) return code;
  const message = error instanceof Error ? error.message : String(error);
  return CODE_BY_MESSAGE.find(([pattern]) => pattern.test(message))?.[1] ?? code;
}

/**
 * The part of a TLS failure message that tells a mail admin what to do next.
 * Node's own text ("self-signed certificate") says what, not why or how to fix.
 */
export function tlsFailureHint(error: unknown, checkedName: string, verify: boolean): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = tlsErrorCode(error) ?? '';
  if (VERIFY_CODES.has(code)) {
    return verify ? ' (certificate verification is on; pass the CA with tls.ca_file or set insecure)' : '';
  }
  if (code === 'CERT_HAS_EXPIRED') return ' (the server certificate has expired; renew it)';
  if (code === 'CERT_NOT_YET_VALID') return ' (the server certificate is not valid yet; check its dates and the clocks)';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return ` (the certificate does not name "${checkedName}"; connect by a name it carries or set tls.servername)`;
  }
  if (/wrong version number|packet length too long|unknown protocol|http request/i.test(message)) {
    return ' (the port does not seem to speak TLS right away; if it expects STARTTLS/STLS, use security: starttls)';
  }
  if (/ECONNRESET|socket disconnected|socket hang up/i.test(`${code} ${message}`)) {
    return ' (the server closed the connection during the handshake; it may not accept our TLS versions or ciphers)';
  }
  return '';
}
