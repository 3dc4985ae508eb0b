import type { Transcript } from '../transport/index.js';
import type { Finding } from './findings.js';
import { probePort, type Budget, type ExpectedService, type PortProbeOptions, type PortReport, type ProbeTimeouts } from './port-probe.js';
import { inspectTls, tlsFindings } from './tls-facts.js';
import { DEFAULT_PORT_MAP } from './default-ports.js';

export { DEFAULT_PORT_MAP } from './default-ports.js';

export const DEFAULT_HOST_BUDGET = 4;

export interface HostProbeOptions {
  /** The name the customer uses: the TLS name, and the name in every finding. */
  readonly host: string;
  /** Addresses resolved explicitly (IPv4 and IPv6); each is probed on every port. */
  readonly addresses: readonly string[];
  readonly ports?: Readonly<Record<number, ExpectedService>>;
  /** Connections talking to the host at once; a port that has not greeted yet holds none. */
  readonly budget?: number;
  /**
   * The budget of each address, when it is shared beyond this host (a domain's
   * probe: two names on one address share one budget); replaces `budget`.
   */
  readonly budgetFor?: (address: string) => Budget;
  readonly timeouts?: ProbeTimeouts;
  readonly tls?: { readonly ca?: string | Buffer; readonly servername?: string };
  readonly signal?: AbortSignal;
  readonly transcript: Transcript;
  /** How a TLS port's facts are found; default: the handshakes of tls-facts.ts. */
  readonly inspectTls?: PortProbeOptions['inspectTls'];
}

/**
 * The TLS facts of a port that did TLS, each from a handshake of its own
 * (version, cipher, group, chain, name, expiry, key, OCSP, legacy versions
 * offered), graded as findings.
 */
export const inspectTlsFacts: NonNullable<PortProbeOptions['inspectTls']> = async (target) => tlsFindings(await inspectTls(target), target);

export interface HostReport {
  readonly host: string;
  readonly ports: PortReport[];
  readonly findings: Finding[];
}

/**
 * Every port of every address at once. Connecting and waiting for a greeting
 * is free (a silent or dropped port costs one timeout, in parallel with all
 * the others, so a blackholed host ends in about one timeout, not seven); the
 * budget limits the conversations after the greeting, which are what loads a
 * server and trips its per-client connection limits.
 */
export async function probeHost(options: HostProbeOptions): Promise<HostReport> {
  const ports = options.ports ?? DEFAULT_PORT_MAP;
  const hostBudget = semaphore(options.budget ?? DEFAULT_HOST_BUDGET);
  const budgetOf = options.budgetFor ?? ((): Budget => hostBudget);
  const jobs = options.addresses.flatMap((address) =>
    Object.entries(ports).map(([port, expected]) =>
      probePort({
        host: options.host,
        address,
        port: Number(port),
        expected,
        tls: options.tls ?? {},
        transcript: options.transcript,
        budget: budgetOf(address),
        ...(options.timeouts === undefined ? {} : { timeouts: options.timeouts }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        inspectTls: options.inspectTls ?? inspectTlsFacts,
      }),
    ),
  );
  const reports = await Promise.all(jobs);
  return { host: options.host, ports: reports, findings: reports.flatMap((r) => r.findings) };
}

/** At most `limit` of the works at once, in the order they asked. */
export function semaphore(limit: number): Budget {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`a connection budget must be a positive integer, got ${String(limit)}`);
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(work: () => Promise<T>): Promise<T> => {
    // A freed slot is handed straight to the next waiter, so a newcomer can never slip in between.
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    else active += 1;
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next === undefined) active -= 1;
      else next();
    }
  };
}
