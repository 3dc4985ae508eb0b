import type { Transcript } from '../transport/transcript.js';
import type { ImapRawClient } from '../protocols/imap/raw/index.js';
import type { ImapWorkspace } from '../protocols/imap/workspace.js';
import type { Pop3Session } from '../runner/pop3-session.js';
import type { EndpointName, RunAccount, RunTarget } from '../runner/run-target.js';

export interface SentMessage {
  readonly messageId: string;
  /** Addresses the server accepted. */
  readonly recipients: readonly string[];
}

/**
 * What an action may use. Actions never read process.env, argv or the
 * terminal: the CLI builds a context once and passes it down.
 */
export interface ActionContext {
  readonly runId: string;
  readonly scenarioId: string;
  /** The step's session name, when the action belongs to a protocol. */
  readonly sessionName?: string;
  readonly target: RunTarget;
  readonly transcript: Transcript;
  /** Aborted on Ctrl-C; every socket wait listens to it. */
  readonly signal: AbortSignal;
  /** Where local copies of retrieved messages are saved for this scenario. */
  readonly messageDir: string;
  /** The step's POP3 session, connected and logged in on first use. */
  pop3(): Promise<Pop3Session>;
  /** A new, separate, logged-in POP3 connection for the step's session's endpoint and account. */
  openExtraPop3(label: string, options?: { retryInUse?: boolean }): Promise<Pop3Session>;
  /** The step's IMAP session and the run's folder workspace on it, connected and logged in on first use. */
  imap(): Promise<ImapWorkspace>;
  /** A new, separate, logged-in IMAP connection for the step's session's endpoint and account. */
  openExtraImap(label: string): Promise<ImapWorkspace>;
  /** A raw tagged-command IMAP connection for the step's session (wire-level checks), logged in on first use. */
  imapRaw(): Promise<ImapRawClient>;
  /** The target's account with this role, or a could-not-run error naming it. */
  account(role: string): RunAccount;
  /** Password of an account role, for SMTP AUTH. Never logged. */
  password(role: string): string;
  /** Resolve an endpoint name to connection details, or throw a could-not-run error. */
  endpoint(name: EndpointName): RunTarget['endpoints'][EndpointName] & object;
  /** The account of the step's session. */
  sessionAccount(): RunAccount;
  /** Remember a message the server accepted for delivery, so cleanup can wait for it. */
  noteSent(message: SentMessage): void;
  /** Every message this scenario had accepted for delivery. */
  sentMessages(): readonly SentMessage[];
  /** Whether any session of this scenario has found the message with this Message-ID. */
  wasSeen(messageId: string): boolean;
  /** Record a fact for the report (e.g. delivery time); shown as a JUnit property. */
  setProperty(key: string, value: string): void;
  /** Name something cleanup could not remove, so the report lists it. */
  addLeftover(description: string): void;
}
