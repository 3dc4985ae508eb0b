/**
 * The runner's view of a target: endpoints resolved, CA read, defaults filled.
 * The target loader (src/target) produces it from a YAML file; tests build it
 * directly for in-process servers.
 */
import type { EndpointName, ProtocolName, Security } from '../core/protocols.js';
import type { ConnectOptions } from '../transport/connect.js';
import type { Timeouts as ConnectionTimeouts } from '../transport/timeouts.js';
import type { Transcript } from '../transport/transcript.js';
import type { ConnectGate } from '../transport/budget.js';
import type { KnownDeviation } from '../core/checks.js';

export type { EndpointName } from '../core/protocols.js';

/** The connection phases' timeouts, plus how long to wait for mail to arrive or be pushed. */
export interface Timeouts extends ConnectionTimeouts {
  readonly delivery: number;
  /** How long an IDLE session waits for a pushed EXISTS. */
  readonly push: number;
}

export interface RunEndpoint {
  readonly host: string;
  readonly port: number;
  readonly security: Security;
  readonly tls: {
    readonly verify: boolean;
    /** PEM of an extra CA to trust. */
    readonly ca?: string;
    readonly servername?: string;
  };
  /** The run's connection budget for this host (set by the runner); every connection to it asks first. */
  readonly gate?: ConnectGate;
}

export interface RunAccount {
  readonly role: string;
  readonly user: string;
  readonly address: string;
  readonly passwordEnv: string;
  /**
   * The other mailboxes of this role's pool (the target's `stand_ins:`; for a stand-in bound to the role
   * in one scenario, the account itself and the other stand-ins), so that what asks for every mailbox of
   * the target (the claims of an alias, the secrets) still finds them all.
   */
  readonly standIns?: readonly RunAccount[];
}

/** Every mailbox the target names, its accounts and their stand-ins, once per user (case-insensitive). */
export function everyMailbox(target: { readonly accounts: Readonly<Record<string, RunAccount>> }): RunAccount[] {
  const byUser = new Map<string, RunAccount>();
  for (const account of Object.values(target.accounts)) {
    for (const mailbox of [account, ...(account.standIns ?? [])]) if (!byUser.has(mailbox.user.toLowerCase())) byUser.set(mailbox.user.toLowerCase(), mailbox);
  }
  return [...byUser.values()];
}

export interface RunTarget {
  readonly name: string;
  readonly host: string;
  /** Path of the target file, for reports. */
  readonly file: string;
  readonly endpoints: Readonly<Partial<Record<EndpointName, RunEndpoint>>>;
  readonly accounts: Readonly<Record<string, RunAccount>>;
  readonly timeouts: Timeouts;
  /** A capability listed here is a failure when missing, not a skip. */
  readonly capabilitiesRequired: Readonly<Partial<Record<ProtocolName, readonly string[]>>>;
  /** Checks the server is known to fail (the target file's `deviations:`): reported as known deviations, not failures. */
  readonly deviations?: readonly KnownDeviation[];
}

export function isInsecure(target: RunTarget): boolean {
  return Object.values(target.endpoints).some((e) => e !== undefined && e.security !== 'none' && !e.tls.verify);
}

/** Transport options for one connection to an endpoint; `security` may be narrowed (e.g. plain, to check STARTTLS by hand). */
export function connectOptionsFor(
  endpoint: RunEndpoint,
  context: { readonly timeouts: Timeouts; readonly transcript: Transcript; readonly signal: AbortSignal },
  session: string,
  security: Security = endpoint.security,
): ConnectOptions {
  return {
    host: endpoint.host,
    port: endpoint.port,
    security,
    tls: endpoint.tls,
    timeouts: context.timeouts,
    transcript: context.transcript,
    session,
    signal: context.signal,
    ...(endpoint.gate ? { gate: endpoint.gate } : {}),
  };
}
