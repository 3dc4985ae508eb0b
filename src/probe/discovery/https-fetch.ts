import { request } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { ResolveAddresses } from '../domain-model.js';

/**
 * A small HTTPS client for the discovery documents (autoconfig, Autodiscover,
 * the MTA-STS policy). It exists instead of fetch() because discovery must:
 * - connect only to addresses the probe's own resolver gave (`resolve`), never
 *   dns.lookup, so `--dns-server` decides where every request goes;
 * - verify TLS (system roots, or the CLI's --ca-file instead) and say exactly
 *   which verify error failed, since that is a finding;
 * - bound every wait (connect + handshake, response head, body) and the body size,
 *   because the servers it talks to are the customer's, and may be broken.
 */

export interface FetchTimeouts {
  /** TCP connect plus TLS handshake, per address tried. */
  readonly connectMs: number;
  /** From the request sent to the response's status line and headers. */
  readonly headMs: number;
  /** From the response head to the body's last byte (a trickling body is cut here). */
  readonly bodyMs: number;
}

export const DEFAULT_FETCH_TIMEOUTS: FetchTimeouts = Object.freeze({ connectMs: 5_000, headMs: 5_000, bodyMs: 5_000 });

/**
 * 256 KiB. The largest Thunderbird ISPDB documents are a few KiB, an MTA-STS
 * policy is a handful of lines, and an Autodiscover reply is one small XML
 * document: a quarter of a MiB is far above any honest answer and still a
 * bound a hostile or misrouted server (a big HTML page, an endless stream)
 * cannot push memory past.
 */
export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

/** Redirects followed at most, when following is allowed (Thunderbird follows a few for autoconfig). */
export const MAX_REDIRECTS = 3;

export interface HttpsFetchOptions {
  readonly resolve: ResolveAddresses;
  readonly method?: 'GET' | 'POST';
  readonly body?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Trusted CA(s) in PEM; replaces Node's root store when given (as --ca-file does for the mail ports). */
  readonly ca?: string | Buffer;
  readonly timeouts?: Partial<FetchTimeouts>;
  readonly maxBodyBytes?: number;
  readonly signal?: AbortSignal;
  /** The port every https URL is taken to use when it names none (default 443); tests use a high port. */
  readonly port?: number;
  /**
   * Follow 3xx to another https URL, at most MAX_REDIRECTS times. Off by default:
   * MTA-STS forbids following them (RFC 8461 §3.3: "HTTP 3xx redirects MUST NOT
   * be followed"), and for Autodiscover only the answer itself matters. A
   * redirect to anything but https, or to an address literal, is never followed.
   */
  readonly followRedirects?: boolean;
}

export interface FetchedResponse {
  readonly kind: 'response';
  /** The URL that answered (after redirects, if any were followed). */
  readonly url: string;
  /** The address it answered from. */
  readonly address: string;
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
  /** The URLs redirected from, in order. */
  readonly redirects: readonly string[];
}

export type FetchFailureReason =
  /** The name has no address in the probe's resolver, or the resolver failed. */
  | 'unresolved'
  /** TCP refused, reset, unreachable, or a TLS failure that is not a verify error. */
  | 'connect'
  /** The certificate did not verify; `code` is Node's verify error code. */
  | 'tls-verify'
  | 'timeout'
  | 'too-large'
  /** A redirect that may not be followed (to http, too many, or following is off and the caller asked to know). */
  | 'redirect-refused'
  /** The response was not HTTP (or was cut mid-head). */
  | 'protocol'
  | 'aborted';

export interface FetchFailure {
  readonly kind: 'failure';
  readonly url: string;
  readonly reason: FetchFailureReason;
  /** Node's error code where there is one (ECONNREFUSED, UNABLE_TO_VERIFY_LEAF_SIGNATURE, …). */
  readonly code?: string;
  /** The exact error text, for the finding's evidence. */
  readonly message: string;
  readonly address?: string;
}

export type FetchResult = FetchedResponse | FetchFailure;

/** GET or POST `url` (https only) through the addresses `resolve` gives its host. Never throws. */
export async function httpsFetch(url: string, options: HttpsFetchOptions): Promise<FetchResult> {
  const redirects: string[] = [];
  let current = url;
  for (;;) {
    const result = await fetchOnce(current, options);
    if (result.kind === 'failure') return result;
    const location = header(result.headers, 'location');
    if (!isRedirect(result.status) || location === undefined || options.followRedirects !== true) return { ...result, redirects };
    let next: URL;
    try {
      next = new URL(location, current);
    } catch {
      return failure(current, 'redirect-refused', `redirect to an unparsable Location: ${location}`);
    }
    // A downgrade to http would hand the document (and the query) to anyone on the path.
    if (next.protocol !== 'https:')
      return failure(current, 'redirect-refused', `redirect to ${next.protocol}// refused: only https is followed (${next.href})`);
    // The probe connects only where its resolver pointed: a redirect may name another host, never an address.
    if (isIP(next.hostname.replace(/^\[|\]$/g, '')) !== 0) return failure(current, 'redirect-refused', `redirect to an address literal refused (${next.href})`);
    if (redirects.length >= MAX_REDIRECTS) return failure(current, 'redirect-refused', `more than ${MAX_REDIRECTS} redirects (last to ${next.href})`);
    redirects.push(current);
    current = next.href;
  }
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

function header(headers: FetchedResponse['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function fetchOnce(url: string, options: HttpsFetchOptions): Promise<FetchResult> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return failure(url, 'protocol', `not a URL: ${url}`);
  }
  if (parsed.protocol !== 'https:') return failure(url, 'protocol', `only https URLs are fetched, not ${parsed.protocol}`);
  if (options.signal?.aborted === true) return failure(url, 'aborted', 'aborted before the request');
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  let addresses: readonly string[];
  if (isIP(host) !== 0) addresses = [host];
  else {
    try {
      addresses = await options.resolve(host);
    } catch (error) {
      return failure(url, 'unresolved', `${host} did not resolve: ${errorMessage(error)}`, errorCode(error));
    }
  }
  if (addresses.length === 0) return failure(url, 'unresolved', `${host} has no A or AAAA record`);
  const port = parsed.port === '' ? (options.port ?? 443) : Number(parsed.port);
  // Try the addresses in turn only while nothing was exchanged: a failure after
  // TLS (a timeout, a bad body) is the server's answer, not a bad address.
  let last: FetchFailure | undefined;
  for (const address of addresses) {
    const result = await requestAt(parsed, host, address, port, options);
    if (result.kind === 'response' || !(result.reason === 'connect' || (result.reason === 'timeout' && result.code === 'ECONNECT_TIMEOUT'))) return result;
    last = result;
  }
  return last!;
}

function requestAt(url: URL, host: string, address: string, port: number, options: HttpsFetchOptions): Promise<FetchResult> {
  const timeouts = { ...DEFAULT_FETCH_TIMEOUTS, ...options.timeouts };
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const hostHeader = (isIP(host) === 6 ? `[${host}]` : host) + (port === 443 ? '' : `:${port}`);
  return new Promise<FetchResult>((resolvePromise) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const done = (result: FetchResult): void => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      req.destroy();
      resolvePromise(result);
    };
    const fail = (reason: FetchFailureReason, message: string, code?: string): void => done(failure(url.href, reason, message, code, address));
    const arm = (ms: number, code: string, what: string): void => {
      if (timer !== undefined) clearTimeout(timer);
      timer = setTimeout(() => fail('timeout', `${what} within ${ms} ms`, code), ms);
    };
    const onAbort = (): void => fail('aborted', 'aborted');

    // host is the resolved address, so Node never looks the name up; servername
    // (SNI and the name the certificate is checked against) and Host carry the name.
    const req = request({
      host: address,
      port,
      method: options.method ?? 'GET',
      path: url.pathname + url.search,
      ...(isIP(host) === 0 ? { servername: host } : {}),
      headers: { host: hostHeader, 'user-agent': 'mailprobe', accept: '*/*', ...options.headers },
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      // One request per connection: no pooled socket may carry a request to another name.
      agent: false,
    });
    options.signal?.addEventListener('abort', onAbort, { once: true });
    arm(timeouts.connectMs, 'ECONNECT_TIMEOUT', 'no TLS connection');
    req.on('socket', (socket) => {
      (socket as TLSSocket).once('secureConnect', () => arm(timeouts.headMs, 'EHEAD_TIMEOUT', 'no response head'));
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      const code = error.code;
      if (code !== undefined && isVerifyError(code)) fail('tls-verify', error.message, code);
      else if (code === 'HPE_INVALID_CONSTANT' || code?.startsWith('HPE_') === true) fail('protocol', `not an HTTP answer: ${error.message}`, code);
      else fail('connect', error.message, code);
    });
    req.on('response', (response: IncomingMessage) => {
      arm(timeouts.bodyMs, 'EBODY_TIMEOUT', 'body not complete');
      const declared = Number(response.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBodyBytes) {
        fail('too-large', `Content-Length ${declared} is above the ${maxBodyBytes}-byte limit`);
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBodyBytes) {
          fail('too-large', `body passed the ${maxBodyBytes}-byte limit`);
          return;
        }
        chunks.push(chunk);
      });
      response.on('end', () =>
        done({
          kind: 'response',
          url: url.href,
          address,
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks),
          redirects: [],
        }),
      );
      response.on('error', (error) => fail('connect', `body cut: ${error.message}`, errorCode(error)));
      response.on('aborted', () => fail('connect', 'body cut: the server closed the connection mid-body'));
    });
    req.end(options.body);
  });
}

/**
 * The OpenSSL verify errors Node reports by name, plus its own name check.
 * Anything else during the handshake (a reset, an alert) is a connect failure.
 */
const VERIFY_ERRORS = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_CRL',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CRL_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CRL_NOT_YET_VALID',
  'CRL_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'ERROR_IN_CRL_LAST_UPDATE_FIELD',
  'ERROR_IN_CRL_NEXT_UPDATE_FIELD',
  'OUT_OF_MEM',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function isVerifyError(code: string): boolean {
  return VERIFY_ERRORS.has(code);
}

function failure(url: string, reason: FetchFailureReason, message: string, code?: string, address?: string): FetchFailure {
  return { kind: 'failure', url, reason, message, ...(code === undefined ? {} : { code }), ...(address === undefined ? {} : { address }) };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
