import type { Transcript } from '../transport/transcript.js';
import type { SessionKind, SessionOf, SessionOptionsOf } from '../protocols/registry.js';
import type { EndpointName, RunAccount, RunTarget } from './run-target.js';

export interface SentMessage {
  readonly messageId: string;
  /** Addresses the server accepted. */
  readonly recipients: readonly string[];
}

/** A message of this run in a mailbox, as the run found or put it there. */
export interface RecordedMessage {
  /** Full server path of the mailbox. */
  readonly mailbox: string;
  /** Its UID there, when known (APPENDUID, COPYUID, a search). */
  readonly uid?: number;
  readonly messageId: string;
}

/** One thing in the record, by its name: a folder, a subscription, or a message. */
export type RecordItem = { folder: string } | { subscription: string } | { messageId: string };

/**
 * The run's own record of what it created in the step's session's account
 * (see runner/creation-record.ts). Actions record what they create or find
 * before they rely on the server to show it; cleanup deletes from it, and
 * confirms each item gone by name.
 */
export interface CreationRecord {
  /** A folder (full server path) this run is creating, or renaming to: cleanup deletes it. */
  folder(path: string): void;
  /** A recorded folder that must now be gone (the scenario deleted it): cleanup only checks it. */
  folderGone(path: string): void;
  /** A successful RENAME: `from` and its children must be gone, `to` and its children are the run's. */
  renamed(from: string, to: string, delimiter: string): void;
  /** A message of this run in a mailbox (appended, moved there, or found delivered). */
  message(message: RecordedMessage): void;
  /**
   * A subscription this run is making (SUBSCRIBE, or one the client library makes with CREATE):
   * cleanup unsubscribes it and checks by name that it is gone, since a subscription outlives
   * its folder (RFC 9051 §6.3.7).
   */
  subscribed(path: string): void;
  folders(): Array<{ path: string; delete: boolean }>;
  subscriptions(): string[];
  messages(): RecordedMessage[];
  /** Message-IDs of this account's mail: recorded, or accepted by SMTP for its address. */
  messageIds(): string[];
  /** Cleanup checked by name that this is gone. */
  confirmGone(item: RecordItem): void;
  /** Cleanup found this still there, and says why. */
  remains(item: RecordItem, reason: string): void;
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
  /**
   * Announces a wait that may last (delivery, IDLE): a terminal shows it live.
   * Returns the function that ends it; call it in a `finally`.
   */
  readonly waiting?: (what: string, limitMs: number) => () => void;
  /** Aborted on Ctrl-C; every socket wait listens to it. */
  readonly signal: AbortSignal;
  /** Where local copies of retrieved messages are saved for this scenario. */
  readonly messageDir: string;
  /**
   * The step's session of a kind, connected and logged in on first use:
   * `session('pop3')` a Pop3Session, `session('imap')` the IMAP session with the
   * run's folder workspace on it, `session('imap-raw')` a raw tagged-command IMAP
   * connection for wire-level checks. Kinds come from the protocol registry.
   */
  session<K extends SessionKind>(kind: K): Promise<SessionOf<K>>;
  /** A new, separate, logged-in connection of a kind for the step's session's endpoint and account. */
  extraSession<K extends SessionKind>(kind: K, label: string, options?: SessionOptionsOf<K>): Promise<SessionOf<K>>;
  /** The target's account with this role, or a could-not-run error naming it. */
  account(role: string): RunAccount;
  /** Password of an account role, for SMTP AUTH. Never logged. */
  password(role: string): string;
  /** Resolve an endpoint name to connection details, or throw a could-not-run error. */
  endpoint(name: EndpointName): RunTarget['endpoints'][EndpointName] & object;
  /** The account of the step's session. */
  sessionAccount(): RunAccount;
  /** What this run created in the step's session's account (a could-not-run error for a step without a session). */
  readonly record: CreationRecord;
  /**
   * Opens and logs in every reading session the scenario's steps use, once,
   * before the first message is sent: a reader that cannot connect then stops
   * the scenario before mail is delivered that nothing could clean up.
   */
  openReaders(): Promise<void>;
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
