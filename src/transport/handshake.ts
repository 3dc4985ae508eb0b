import { connect as tlsConnect, type ConnectionOptions, type TLSSocket, type TLSSocketOptions } from 'node:tls';
import type { Socket } from 'node:net';
import { TransportError, endpoint, type Phase } from './errors.js';
import { waitPhase } from './phase.js';
import { tlsConnectOptions, tlsFailureHint, sniName, type TlsOptions, withSharedContext } from './tls.js';

export interface HandshakeOptions {
  readonly socket: Socket;
  /** The host name the user gave: certificates are checked against it. */
  readonly host: string;
  readonly port: number;
  readonly tls?: TlsOptions | undefined;
  readonly timeoutMs: number;
  readonly phase: Extract<Phase, 'tls' | 'starttls'>;
  readonly signal?: AbortSignal | undefined;
  /**
   * Overrides for this one handshake (the probe: versions, ciphers, an empty
   * trust store, requestOCSP). Applied after the harness's own options.
   */
  readonly override?: (ConnectionOptions & Pick<TLSSocketOptions, 'requestOCSP'>) | undefined;
  /** Sees the TLS socket before the handshake starts, to listen for 'OCSPResponse'. */
  readonly onSocket?: ((socket: TLSSocket) => void) | undefined;
}

/**
 * TLS handshake over an already connected TCP socket. Used for implicit TLS
 * (right after connect) and for STARTTLS (after the server said go), so both
 * modes verify identically.
 */
export function handshake(options: HandshakeOptions): Promise<TLSSocket> {
  const where = endpoint(options.host, options.port);
  const checkedName = sniName(options.host, options.tls) ?? options.host;
  const verify = options.tls?.verify !== false;
  return waitPhase<TLSSocket>({
    phase: options.phase,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    onTimeout: () =>
      new TransportError('ETIMEOUT', options.phase, `TLS handshake with ${where} did not finish within ${options.timeoutMs} ms`, {
        host: options.host,
        port: options.port,
      }),
    start: (resolve, reject) => {
      // The TLS socket reports failures; an 'error' on the wrapped TCP socket
      // must not become an uncaught exception.
      if (options.socket.listenerCount('error') === 0) options.socket.on('error', () => undefined);
      const own = tlsConnectOptions(options.host, options.tls);
      const socket = tlsConnect({ socket: options.socket, ...(options.override === undefined ? withSharedContext(own) : { ...own, ...options.override }) });
      options.onSocket?.(socket);
      const onError = (error: Error): void => {
        socket.destroy();
        const detail = error.message;
        reject(
          new TransportError('ETLS', options.phase, `TLS handshake with ${where} failed: ${detail}${tlsFailureHint(error, checkedName, verify)}`, {
            host: options.host,
            port: options.port,
            cause: error,
          }),
        );
      };
      const onClose = (): void => onError(new Error('the server closed the connection during the handshake'));
      socket.once('error', onError);
      socket.once('close', onClose);
      socket.once('secureConnect', () => {
        socket.off('error', onError);
        socket.off('close', onClose);
        resolve(socket);
      });
      return () => socket.destroy();
    },
  });
}
