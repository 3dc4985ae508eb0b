/**
 * Errors raised below the protocol layer. Each carries a stable `code` the
 * runner maps to a verdict (an error, not a failure: the check could not run)
 * and the connect `phase` it happened in, so a report can say "TLS handshake
 * failed" rather than just "error".
 */
export type Phase = 'dns' | 'tcp' | 'tls' | 'greeting' | 'starttls' | 'command';

export type TransportErrorCode =
  | 'EDNS'
  | 'ECONNREFUSED'
  | 'ECONNECT'
  | 'ETIMEOUT'
  | 'ETLS'
  | 'ESTARTTLS'
  | 'ECLOSED'
  | 'ELIMIT'
  | 'EABORTED'
  /** The port speaks another protocol, or wants TLS first, or is plain text where TLS was asked for. */
  | 'EWRONG_PROTOCOL';

export interface TransportErrorDetails {
  readonly host?: string;
  readonly port?: number;
  /** The command being answered (already redacted), for phase "command". */
  readonly command?: string;
  readonly cause?: unknown;
}

export class TransportError extends Error {
  override readonly name = 'TransportError';
  readonly code: TransportErrorCode;
  readonly phase: Phase;
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly command: string | undefined;

  constructor(code: TransportErrorCode, phase: Phase, message: string, details: TransportErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.phase = phase;
    this.host = details.host;
    this.port = details.port;
    this.command = details.command;
  }
}

export function isTransportError(value: unknown): value is TransportError {
  return value instanceof TransportError;
}

/**
 * ESTARTTLS for bytes the server sent after accepting STARTTLS (STLS) and
 * before the TLS handshake: they came in plaintext but would be read as if
 * protected (CVE-2011-0411). One wording for every STARTTLS mailprobe does,
 * on its own connections and on imapflow's.
 */
export function starttlsInjectionError(host: string, port: number, octets: number): TransportError {
  return new TransportError(
    'ESTARTTLS',
    'starttls',
    `${endpoint(host, port)} sent ${octets > 0 ? `${octets} octets` : 'data'} after accepting STARTTLS and before the TLS handshake; ` +
      'refusing to continue, since plaintext injected there would be read as if protected (CVE-2011-0411)',
    { host, port },
  );
}

/** "127.0.0.1:995", "[::1]:995" */
export function endpoint(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
