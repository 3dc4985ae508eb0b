import type { CreationRecord, RecordedMessage, RecordItem, SentMessage } from '../actions/context.js';
import type { RunAccount } from '../actions/run-target.js';

/**
 * What one scenario created, as the run itself saw it happen, never as the
 * server later shows it: folders it CREATEd or RENAMEd to, subscriptions it
 * made, messages it APPENDed, moved or found delivered, and the messages SMTP
 * accepted. Cleanup deletes from this record and confirms each item gone by
 * name; whatever it could not confirm is a leftover, named by folder,
 * subscription and Message-ID. A server
 * that hides folders from other sessions, or lists them wrongly, therefore
 * cannot make cleanup skip them or report success.
 *
 * Entries are kept per account user: two sessions on the same mailbox share
 * them, a cleanup session sees only its own account's.
 */
interface AccountEntries {
  /** Full server path → whether cleanup deletes it ('ours') or only checks that it is gone ('check'). */
  readonly folders: Map<string, 'ours' | 'check'>;
  readonly messages: RecordedMessage[];
  /** Full server paths this run subscribed (or had subscribed): cleanup unsubscribes each. */
  readonly subscriptions: Set<string>;
}

/** The keys confirmations and leftovers share, per account: one spelling for both. */
const messageKey = (account: RunAccount, messageId: string) => `message ${account.user} ${messageId}`;
const folderKey = (account: RunAccount, path: string) => `folder ${account.user} ${path}`;
const subscriptionKey = (account: RunAccount, path: string) => `subscription ${account.user} ${path}`;
const keyOf = (account: RunAccount, item: RecordItem) =>
  'folder' in item
    ? folderKey(account, item.folder)
    : 'subscription' in item
      ? subscriptionKey(account, item.subscription)
      : messageKey(account, item.messageId);

export class ScenarioRecord {
  readonly #accounts = new Map<string, AccountEntries>();
  readonly #sent: SentMessage[] = [];
  /** Items cleanup confirmed gone, by key. */
  readonly #gone = new Set<string>();
  /** Why an item is still there, as cleanup found it, by key. */
  readonly #remains = new Map<string, string>();

  #entries(user: string): AccountEntries {
    let entries = this.#accounts.get(user);
    if (!entries) {
      entries = { folders: new Map(), messages: [], subscriptions: new Set() };
      this.#accounts.set(user, entries);
    }
    return entries;
  }

  noteSent(message: SentMessage): void {
    this.#sent.push(message);
  }

  sent(): readonly SentMessage[] {
    return this.#sent;
  }

  /** The record as one account's actions and cleanup see it. */
  forAccount(account: RunAccount): CreationRecord {
    const entries = () => this.#entries(account.user);
    return {
      folder: (path) => {
        entries().folders.set(path, 'ours');
      },
      folderGone: (path) => {
        if (entries().folders.has(path)) entries().folders.set(path, 'check');
      },
      renamed: (from, to, delimiter) => {
        const folders = entries().folders;
        // RENAME takes the children along (RFC 9051 §6.3.6): each old name now must be gone, its new name is ours.
        for (const [path, state] of [...folders]) {
          if (state !== 'ours' || (path !== from && !path.startsWith(from + delimiter))) continue;
          folders.set(path, 'check');
          folders.set(to + path.slice(from.length), 'ours');
        }
        folders.set(to, 'ours');
        for (const m of [...entries().messages]) {
          if (m.mailbox === from || m.mailbox.startsWith(from + delimiter)) entries().messages.push({ ...m, mailbox: to + m.mailbox.slice(from.length) });
        }
      },
      message: (m) => {
        const list = entries().messages;
        if (!list.some((e) => e.mailbox === m.mailbox && e.uid === m.uid && e.messageId === m.messageId)) list.push(m);
      },
      subscribed: (path) => {
        entries().subscriptions.add(path);
      },
      folders: () => [...entries().folders].map(([path, state]) => ({ path, delete: state === 'ours' })),
      subscriptions: () => [...entries().subscriptions],
      messages: () => [...entries().messages],
      messageIds: () => this.#messageIds(account),
      confirmGone: (item) => {
        this.#gone.add(keyOf(account, item));
        this.#remains.delete(keyOf(account, item));
      },
      remains: (item, reason) => {
        this.#remains.set(keyOf(account, item), reason);
      },
    };
  }

  /** Message-IDs of this account's mail: recorded in its mailboxes, or accepted by SMTP for its address. */
  #messageIds(account: RunAccount): string[] {
    const address = account.address.toLowerCase();
    const ids = new Set(
      this.#entries(account.user)
        .messages.map((m) => m.messageId)
        .filter((id) => id !== ''),
    );
    for (const m of this.#sent) if (m.recipients.some((r) => r.toLowerCase() === address)) ids.add(m.messageId);
    return [...ids];
  }

  /**
   * Everything recorded for these accounts that cleanup did not confirm gone,
   * one line each, by folder name or Message-ID. `why` explains an item cleanup
   * gave no reason for (e.g. the cleanup step itself could not run).
   */
  leftovers(accounts: readonly RunAccount[], why: (account: RunAccount) => string): string[] {
    const lines: string[] = [];
    for (const account of accounts) {
      const record = this.forAccount(account);
      const reason = (key: string) => this.#remains.get(key) ?? why(account);
      for (const { path } of record.folders()) {
        const key = folderKey(account, path);
        if (!this.#gone.has(key)) lines.push(`folder '${path}' (account ${account.user}): ${reason(key)}`);
      }
      for (const path of record.subscriptions()) {
        const key = subscriptionKey(account, path);
        if (!this.#gone.has(key)) lines.push(`subscription '${path}' (account ${account.user}): ${reason(key)}`);
      }
      for (const id of record.messageIds()) {
        const key = messageKey(account, id);
        if (!this.#gone.has(key)) lines.push(`message ${id} (account ${account.user}): ${reason(key)}`);
      }
    }
    return lines;
  }
}

/**
 * What the whole run has left on the server so far, readable at any moment:
 * the final leftovers of every scenario that ended, and for a scenario still
 * running, what its record says was created and not yet confirmed gone. The
 * CLI reads it when it must leave before the reports are done (a third
 * Ctrl-C, or the bound after the second), so even then the leftovers are named.
 */
export class RunLedger {
  readonly #ended: string[] = [];
  readonly #running = new Map<string, () => readonly string[]>();

  /** A scenario starts: `pending` says what it has not confirmed gone. Returns the call that records its final leftovers. */
  open(scenarioId: string, pending: () => readonly string[]): (leftovers: readonly string[]) => void {
    this.#running.set(scenarioId, pending);
    return (leftovers) => {
      this.#running.delete(scenarioId);
      this.#ended.push(...leftovers.map((item) => `${scenarioId}: ${item}`));
    };
  }

  /** Every leftover known now, one line each, prefixed with its scenario's id. */
  pending(): string[] {
    const running = [...this.#running].flatMap(([id, pending]) => pending().map((item) => `${id}: ${item}`));
    return [...this.#ended, ...running];
  }
}
