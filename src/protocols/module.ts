/**
 * The seam between the runner and a protocol. Each src/protocols/<p>/index.ts
 * exports one `ProtocolModule`, and src/protocols/registry.ts lists them; the
 * runner's session pool, its error classification and the action context
 * only ever loop over that list, so a new protocol is a new folder plus one
 * registry line (and its actions), with no runner change.
 */
import type { CheckResult, ProblemInfo } from '../core/checks.js';
import type { EndpointOf, ProtocolName, Security } from '../core/protocols.js';
import type { CommandClauses } from './command-clauses.js';
import type { ConnectOptions } from '../transport/connect.js';
import type { ConnectGate } from '../transport/budget.js';
import type { Transcript } from '../transport/transcript.js';
import type { Timeouts as ConnectionTimeouts } from '../transport/timeouts.js';

/** A server's "no", as a step's output shows it to expectations (`error.reply`, `error.code`, …). */
export interface RefusalInfo {
  readonly reply: string;
  readonly text: string;
  readonly code?: string;
  /** The refused command as the transcript shows it ("RETR 3", "UID MOVE 4 Archive", "MAIL FROM"). */
  readonly command: string;
  /** Whose command it was: picks the table that names the command's clause. */
  readonly protocol: ProtocolName;
}

/**
 * What an error a protocol threw means for the step:
 * - reply: the server said no (-ERR, NO/BAD, 5xx), judged by the step's expectations;
 * - inconclusive: the server said "not now" (4xx, [IN-USE], [SYS/TEMP], UNAVAILABLE);
 * - failed: the server broke the protocol's grammar (malformed);
 * - errored: we could not connect, log in or finish in time (transport);
 * - skipped: the server cannot hold what the scenario needs (a flat IMAP namespace).
 */
export type ProtocolOutcome =
  | { readonly kind: 'reply'; readonly error: RefusalInfo }
  | { readonly kind: 'inconclusive'; readonly reason: string }
  | { readonly kind: 'skipped'; readonly reason: string }
  | { readonly kind: 'failed'; readonly check: CheckResult }
  | { readonly kind: 'errored'; readonly problem: ProblemInfo };

// A session that cannot open throws the outcomes of ./outcomes.ts: RequirementFailure
// when the server broke a rule it must keep (no capability list: failed), RunProblem
// when it cannot go on (login refused: errored, with its code and phase).

/** A target's endpoint as a client connects to it: address, security and the target's TLS settings. */
export interface SessionEndpoint {
  readonly host: string;
  readonly port: number;
  readonly security: Security;
  readonly tls: { readonly verify: boolean; readonly ca?: string; readonly servername?: string };
  /** The run's connection budget for this endpoint's host; every connection to it asks first. */
  readonly gate?: ConnectGate;
}

/** Where and as whom a session connects: the declared session's endpoint and account. */
export interface SessionOpenContext {
  /** The transcript label: the session's name, or the label an extra connection was given. */
  readonly label: string;
  readonly endpoint: SessionEndpoint;
  readonly user: string;
  readonly password: string;
  /** The connection phases' timeouts, and how long to wait for a push or a delivery. */
  readonly timeouts: ConnectionTimeouts & { readonly push: number; readonly delivery: number };
  readonly transcript: Transcript;
  readonly signal: AbortSignal;
  readonly runId: string;
  /** Capabilities the scenario requires of this protocol (IMAP ENABLEs CONDSTORE/QRESYNC only when asked). */
  readonly wanted: readonly string[];
  /** Told the Message-ID of every message of this run the session finds. */
  readonly onSeen: (messageId: string) => void;
  /** Told every message of this run found in a mailbox (IMAP), for the creation record. */
  readonly onFound: (found: { mailbox: string; uid: number; messageId: string }) => void;
}

/** Transport options for a session's connection to its endpoint. */
export function connectOptions(ctx: SessionOpenContext): ConnectOptions {
  const { endpoint } = ctx;
  return {
    host: endpoint.host,
    port: endpoint.port,
    security: endpoint.security,
    tls: endpoint.tls,
    timeouts: ctx.timeouts,
    transcript: ctx.transcript,
    session: ctx.label,
    signal: ctx.signal,
    ...(endpoint.gate ? { gate: endpoint.gate } : {}),
  };
}

/** A session just opened, and what it announced (omitted for wire-level side connections). */
export interface OpenedSession<S> {
  readonly session: S;
  readonly announced?: {
    readonly greeting: string;
    readonly capabilities: readonly string[];
    /** Why the list says nothing (the server does not implement CAPA); a skip then says so. */
    readonly unknown?: string;
    /** The server broke a rule while listing them: thrown after the greeting is recorded. */
    readonly problem?: Error;
  };
}

/** One kind of session a protocol opens ('pop3', 'imap', 'imap-raw'). */
export interface SessionKindSpec<S, O = Record<string, never>> {
  /** Connects and logs in, over the shared transport. */
  open(ctx: SessionOpenContext, options?: O): Promise<OpenedSession<S>>;
  /** False once the session was closed (QUIT, LOGOUT, a drop): the next use opens a new one. */
  isOpen(session: S): boolean;
  /** Ends the session politely, dropping it if it will not go. Never throws. */
  close(session: S): Promise<void>;
  /** Gets rid of a session that failed its opening checks. Never throws. */
  discard(session: S): Promise<void>;
}

/** Session kinds are stored side by side whatever their session type (method parameters are bivariant). */
export type AnySessionKind = SessionKindSpec<unknown, unknown>;

export interface ProtocolModule<P extends ProtocolName = ProtocolName> {
  readonly name: P;
  /** The endpoints this protocol speaks on (src/core/protocols.ts). */
  readonly endpoints: readonly EndpointOf<P>[];
  /** The session kinds it opens, by kind name; kind names are unique across protocols. */
  readonly sessions: Readonly<Record<string, AnySessionKind>>;
  /**
   * The kind whose opening reads the capabilities that `requires` is judged
   * against, and how: `keep` stays open for the steps (IMAP), `reopen` logs
   * out again and opens afresh for the steps (POP3 sees the maildrop as it was
   * at login, RFC 1939 §8). Undefined: no capability check before a step.
   */
  readonly primary?: { readonly kind: string; readonly readers: 'keep' | 'reopen' };
  /** How the capability list is named, for a failed check when a mandatory one is missing. */
  readonly capabilityList?: { readonly command: string; readonly rfc: string };
  /** Which RFC clause defines each command (src/protocols/<p>/clauses.ts), cited when the server refuses one. */
  readonly commandClauses: CommandClauses;
  /** Maps this protocol's errors to outcomes; undefined for an error that is not its own. */
  classify(err: unknown): ProtocolOutcome | undefined;
  /**
   * Loads what the protocol's sessions load on first use (a library), for a run that will open them: the
   * runner calls it before its clock starts, so that no scenario's time holds the load.
   */
  preload?(): Promise<void>;
}
