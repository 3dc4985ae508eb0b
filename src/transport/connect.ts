import { lookup as dnsLookup } from 'node:dns/promises';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Connection, tlsSummary, type PhaseTimings, type Security } from './connection.js';
import { TransportError, endpoint } from './errors.js';
import { plainTextPortError, type MailProtocol } from './greeting-kind.js';
import { handshake } from './handshake.js';
import { resolveLimits, type Limits } from './limits.js';
import { abortedError, waitPhase } from './phase.js';
import { resolveTimeouts, type Timeouts } from './timeouts.js';
import { describeTls, type TlsInfo, type TlsOptions } from './tls.js';
import type { Transcript } from './transcript.js';
import { admitted, type ConnectGate, type Release } from './budget.js';

export interface ConnectOptions {
  readonly host: string;
  readonly port: number;
  /** "tls": TLS from the first byte; "starttls": plain, upgraded when the protocol says; "none": plain. */
  readonly security: Security;
  readonly tls?: TlsOptions;
  readonly timeouts?: Partial<Timeouts>;
  readonly limits?: Partial<Limits>;
  readonly transcript: Transcript;
  /** Name of the session (device) for the transcript. */
  readonly session: string;
  /** Cancels any phase and any later read (Ctrl-C). */
  readonly signal?: AbortSignal;
  /** Resolver used in the DNS phase; default dns.lookup (the system resolver, /etc/hosts included). */
  readonly lookup?: (host: string) => Promise<{ address: string }>;
  /** The protocol the client will speak: a TLS failure against a plain-text port then says what the port speaks. */
  readonly protocol?: MailProtocol;
  /**
   * The run's connection budget for this host (src/transport/budget.ts). Asked before the
   * DNS phase, so every phase's timeout starts only once it granted a slot; the slot is given
   * back when the TCP socket closes, whatever was layered on it (TLS, STARTTLS).
   */
  readonly gate?: ConnectGate;
}

/**
 * DNS → TCP → (implicit TLS). The greeting is the protocol's business and is
 * read through {@link Connection.readGreeting}. Each phase has its own timeout
 * and its own error; each one's duration lands in `connection.timings`.
 */
export async function connect(options: ConnectOptions): Promise<Connection> {
  const { port, signal } = options;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`invalid port ${String(port)}`);
  if (signal?.aborted) throw abortedError('dns', signal);
  const timings: PhaseTimings = {};
  const info = (text: string): void => options.transcript.info(options.session, text);
  const release = await admitted(options.gate, signal);
  try {
    return await open(options, timings, info, release);
  } catch (error) {
    release();
    throw error;
  }
}

/**
 * The transcript's line for a connection attempt: every transport words it alike, so that a reader (and the
 * bench's raw replay) finds each connection's endpoint and security mode the same way, whichever client opened it.
 */
export function connectingLine(host: string, port: number, security: Security, address?: string): string {
  return `connecting to ${endpoint(host, port)}${address === undefined || address === host ? '' : ` (${address})`}, security ${security}`;
}

async function open(options: ConnectOptions, timings: PhaseTimings, info: (text: string) => void, release: Release): Promise<Connection> {
  const timeouts = resolveTimeouts(options.timeouts);
  const limits = resolveLimits(options.limits);
  const { host, port, signal } = options;
  // DNS, done here rather than inside net.connect so that its time and its
  // failure are reported on their own.
  let started = performance.now();
  const address = await resolve(host, timeouts.dns, signal, options.lookup ?? dnsLookup);
  timings.dns = Math.round(performance.now() - started);

  info(connectingLine(host, port, options.security, address));
  started = performance.now();
  const socket = await tcpConnect(host, address, port, timeouts.tcp, signal);
  // The TCP socket closes last, under TLS and after a STARTTLS upgrade alike: the slot goes with it.
  socket.once('close', release);
  timings.tcp = Math.round(performance.now() - started);

  let active: Socket | TLSSocket = socket;
  let tlsInfo: TlsInfo | undefined;
  if (options.security === 'tls') {
    started = performance.now();
    const secure = await handshake({
      socket,
      host,
      port,
      tls: options.tls,
      timeoutMs: timeouts.tls,
      phase: 'tls',
      signal,
    }).catch(async (error: unknown) => {
      socket.destroy();
      const plain = options.protocol === undefined ? undefined : await plainTextPortError(options.protocol, error, { host, port }, timeouts.greeting);
      throw plain ?? error;
    });
    timings.tls = Math.round(performance.now() - started);
    tlsInfo = describeTls(secure, 'tls', host, options.tls);
    info(tlsSummary(tlsInfo));
    active = secure;
  }

  return new Connection({
    socket: active,
    host,
    port,
    address,
    security: options.security,
    tlsOptions: options.tls,
    tls: tlsInfo,
    timings,
    timeouts,
    limits,
    transcript: options.transcript,
    session: options.session,
    signal,
  });
}

async function resolve(
  host: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  lookup: (host: string) => Promise<{ address: string }>,
): Promise<string> {
  if (isIP(host) !== 0) return host;
  return waitPhase<string>({
    phase: 'dns',
    timeoutMs,
    signal,
    onTimeout: () => new TransportError('ETIMEOUT', 'dns', `DNS lookup of ${host} did not answer within ${timeoutMs} ms`, { host }),
    start: (ok, fail) => {
      lookup(host).then(
        (result) => ok(result.address),
        (error: NodeJS.ErrnoException) => {
          const why =
            error.code === 'ENOTFOUND' ? 'no such host' : error.code === 'EAI_AGAIN' ? 'temporary DNS failure; try again or check the resolver' : error.message;
          fail(new TransportError('EDNS', 'dns', `DNS lookup of ${host} failed: ${why} (${error.code ?? 'error'})`, { host, cause: error }));
        },
      );
      // dns.lookup cannot be cancelled; a late answer is simply ignored.
      return () => undefined;
    },
  });
}

/** TCP to an address already resolved (the probe resolves explicitly), with the tcp phase's timeout and errors. */
export function tcpConnect(host: string, address: string, port: number, timeoutMs: number, signal: AbortSignal | undefined): Promise<Socket> {
  const where = endpoint(address, port);
  const name = address === host ? where : `${where} (${host})`;
  return waitPhase<Socket>({
    phase: 'tcp',
    timeoutMs,
    signal,
    onTimeout: () =>
      new TransportError('ETIMEOUT', 'tcp', `TCP connection to ${name} not established within ${timeoutMs} ms (a firewall may be dropping packets)`, {
        host,
        port,
      }),
    start: (ok, fail) => {
      // noDelay: commands are single small writes and replies are awaited;
      // Nagle would only add latency.
      const socket = netConnect({ host: address, port, noDelay: true });
      socket.once('connect', () => {
        socket.off('error', onError);
        ok(socket);
      });
      const onError = (error: NodeJS.ErrnoException): void => {
        socket.destroy();
        if (error.code === 'ECONNREFUSED') {
          fail(
            new TransportError('ECONNREFUSED', 'tcp', `TCP connection to ${name} refused (nothing is listening on that port, or a firewall rejects it)`, {
              host,
              port,
              cause: error,
            }),
          );
        } else {
          fail(new TransportError('ECONNECT', 'tcp', `TCP connection to ${name} failed: ${error.message}`, { host, port, cause: error }));
        }
      };
      socket.once('error', onError);
      return () => socket.destroy();
    },
  });
}
