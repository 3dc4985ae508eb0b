import type { Socket } from 'node:net';
import type { ConnectionOptions, TLSSocket, TLSSocketOptions } from 'node:tls';
import { tcpConnect } from './connect.js';
import { handshake } from './handshake.js';
import { resolveTimeouts, type Timeouts } from './timeouts.js';

/** Where one probing handshake goes, and what comes before it on a STARTTLS port. */
export interface ProbeEndpoint {
  /** The name the customer uses: SNI, and the name in error messages. */
  readonly host: string;
  /** The address to connect to, resolved by the caller (dns.lookup is not used). */
  readonly address: string;
  readonly port: number;
  readonly timeouts?: Partial<Timeouts> | undefined;
  readonly signal?: AbortSignal | undefined;
  /**
   * The plaintext exchange before the handshake on a STARTTLS port (greeting,
   * EHLO, STARTTLS, 220). Resolves when the server has said go; must leave no
   * unread bytes behind. Absent for implicit TLS.
   */
  readonly upgrade?: ((socket: Socket, signal: AbortSignal | undefined) => Promise<void>) | undefined;
  /**
   * Instead of the TCP connect (and upgrade): a socket the caller opened and
   * took to the server's STARTTLS go-ahead itself, e.g. with connect(), the
   * protocol's exchange on the Connection, then Connection.releaseForTls().
   */
  readonly open?: ((signal: AbortSignal | undefined) => Promise<Socket>) | undefined;
}

/** tls.connect passes requestOCSP on to the TLSSocket; @types/node lists it only there. */
export type ProbeTlsOptions = ConnectionOptions & Pick<TLSSocketOptions, 'requestOCSP'>;

export interface ProbeHandshake {
  readonly socket: TLSSocket;
  /** The stapled OCSP response, or null when none was stapled (or none requested). */
  readonly ocsp: Buffer | null;
}

/**
 * One TLS handshake on a fresh connection with options of its own (a version
 * range, ciphers, a trust store). Each fact the probe reports comes from a
 * handshake like this, so one test's settings never leak into another's.
 * The certificate is never rejected here: the probe judges it itself.
 */
export async function probeHandshake(endpoint: ProbeEndpoint, override: ProbeTlsOptions): Promise<ProbeHandshake> {
  const timeouts = resolveTimeouts(endpoint.timeouts);
  const plain =
    endpoint.open === undefined
      ? await tcpConnect(endpoint.host, endpoint.address, endpoint.port, timeouts.tcp, endpoint.signal)
      : await endpoint.open(endpoint.signal);
  try {
    if (endpoint.upgrade !== undefined) await endpoint.upgrade(plain, endpoint.signal);
    let ocsp: Buffer | null = null;
    const socket = await handshake({
      socket: plain,
      host: endpoint.host,
      port: endpoint.port,
      tls: { verify: false },
      timeoutMs: timeouts.tls,
      phase: endpoint.upgrade === undefined && endpoint.open === undefined ? 'tls' : 'starttls',
      signal: endpoint.signal,
      override: { rejectUnauthorized: false, ...override },
      onSocket: (tls) => {
        // Node emits it with null when the server stapled nothing.
        tls.once('OCSPResponse', (response: Buffer | null) => {
          ocsp = response !== null && response.length > 0 ? response : null;
        });
      },
    });
    return { socket, ocsp };
  } catch (error) {
    plain.destroy();
    throw error;
  }
}
