import { RUN_HEADER, runPrefix } from '../../core/run-identity.js';
import { ImapReplyError } from './errors.js';
import type { ListedMailbox, SelectedMailbox } from './results.js';
import { type ImapRunCache, uncachedRun } from './run-cache.js';
import type { ImapSession } from './session.js';

/**
 * The part of a mailbox a run may change: one folder tree named after the run
 * (`<namespace prefix>mailprobe-<run id>`), and messages carrying the run's
 * X-Mailprobe-Run header. Scenarios name folders relative to the run's root
 * with "/" as the level separator; the workspace maps that onto the server's
 * own namespace prefix and hierarchy delimiter (read from NAMESPACE, or LIST),
 * never assuming "/".
 */
export class NotOwnImapError extends Error {
  readonly code = 'ENOT_OWN_MESSAGE';
  constructor(what: string) {
    super(`refusing to change ${what}: mailprobe only changes folders under its run's root and messages its own run created`);
    this.name = 'NotOwnImapError';
  }
}

/** The server reports no hierarchy delimiter: folders cannot nest, so the run's tree cannot exist. */
export class FlatNamespaceError extends Error {
  readonly code = 'ENO_HIERARCHY';
  constructor() {
    super('the server has a flat namespace (no hierarchy delimiter), so the run cannot make folders under its own root');
    this.name = 'FlatNamespaceError';
  }
}

export interface FolderLayout {
  readonly prefix: string;
  /** The hierarchy delimiter, or '' for a flat namespace. */
  readonly delimiter: string;
  /** Full path of the run's root folder. */
  readonly root: string;
  /** Where the layout came from, for the report. */
  readonly source: 'NAMESPACE' | 'LIST';
}

export class ImapWorkspace {
  #layout: FolderLayout | undefined;

  constructor(
    readonly session: ImapSession,
    readonly runId: string,
    /** Told of every own message found (mailbox, UID, Message-ID), so the run's record has it and cleanup knows what has arrived. */
    private readonly onFound: (found: { mailbox: string; uid: number; messageId: string }) => void = () => {},
    /** What the run looks up once per account (the special-use mailboxes). */
    private readonly runCache: ImapRunCache = uncachedRun,
  ) {}

  get rootName(): string {
    return runPrefix(this.runId);
  }

  async layout(): Promise<FolderLayout> {
    if (this.#layout) return this.#layout;
    const ns = this.session.namespace;
    let prefix = ns?.prefix ?? '';
    let delimiter = ns?.delimiter ?? '';
    let source: FolderLayout['source'] = 'NAMESPACE';
    if (!ns || !this.session.has('NAMESPACE') || !delimiter) {
      // Without NAMESPACE, LIST responses carry the hierarchy delimiter (RFC 9051 §6.3.9);
      // NIL there means a flat namespace, where folders cannot nest.
      const listed = await this.session.list({ listOnly: true });
      delimiter = listed.find((m) => m.delimiter)?.delimiter ?? '';
      prefix = ns?.prefix ?? '';
      source = 'LIST';
    }
    this.#layout = { prefix, delimiter, root: `${prefix}${this.rootName}`, source };
    return this.#layout;
  }

  /**
   * The run's own folders as LIST shows them, with their subscription state:
   * `LIST "" "<root>*"`, never the whole hierarchy, so an account with
   * thousands of folders costs no more than an empty one. `*` matches the
   * hierarchy delimiter too (RFC 9051 §6.3.9), so every level under the root
   * is listed; a name that merely starts with the root's name is left out.
   */
  async listRunTree(label = 'LIST'): Promise<ListedMailbox[]> {
    const { root } = await this.layout();
    const listed = await this.session.list({ pattern: `${root}*`, label });
    const own: ListedMailbox[] = [];
    for (const m of listed) if ((await this.relative(m.path)) !== undefined) own.push(m);
    return own;
  }

  /**
   * The special-use mailboxes (RFC 6154): from one LIST of the whole hierarchy
   * per run and account (imapflow asks RETURN (SPECIAL-USE) where the server
   * offers it, and reads the attributes or guesses by name otherwise).
   */
  specialUseMailboxes(): Promise<ListedMailbox[]> {
    return this.runCache.specialUse(() => this.session.list());
  }

  /** "drafts/2026" → "<prefix>mailprobe-<run>.drafts.2026" with the server's delimiter. */
  async path(relative: string): Promise<string> {
    const { root, delimiter } = await this.layout();
    const parts = relative.split('/').filter((p) => p.length > 0);
    if (parts.length > 0 && !delimiter) throw new FlatNamespaceError();
    for (const part of parts) {
      if (part.includes(delimiter)) throw new Error(`folder name part '${part}' contains the server's hierarchy delimiter '${delimiter}'`);
    }
    return [root, ...parts].join(delimiter);
  }

  /** The inverse of path(): undefined when `full` is not inside the run's root. */
  async relative(full: string): Promise<string | undefined> {
    const { root, delimiter } = await this.layout();
    if (full === root) return '';
    if (!delimiter || !full.startsWith(root + delimiter)) return undefined;
    return full
      .slice(root.length + delimiter.length)
      .split(delimiter)
      .join('/');
  }

  /**
   * Opens a mailbox for reading or writing, reusing the one already open when
   * that will do. Mailboxes outside the run's root are opened read-only with
   * EXAMINE for reading: SELECT would clear \Recent on other people's mail
   * (RFC 3501 §6.3.1). Reusing the open mailbox also keeps this session's view
   * (sequence numbers, pending EXPUNGEs) as a real client's would be.
   */
  async open(path: string, mode: 'read' | 'write'): Promise<SelectedMailbox> {
    const current = this.session.selected;
    const readOnly = mode === 'read' && (await this.relative(path)) === undefined;
    if (current && current.path === path && (readOnly || !current.readOnly)) return current;
    return this.session.open(path, readOnly);
  }

  /** Reads the run header of a message with BODY.PEEK (never sets \Seen) and checks it is this run's. */
  async assertOwnMessage(path: string, uid: number): Promise<{ messageId: string }> {
    const headers = (await this.runHeaders(path, [uid])).get(uid);
    if (headers?.run !== this.runId) throw new NotOwnImapError(`message UID ${uid} in '${path}' (no ${RUN_HEADER}: ${this.runId} header)`);
    return { messageId: headers.messageId };
  }

  /** The X-Mailprobe-Run and Message-ID of each message (BODY.PEEK[HEADER.FIELDS]), by UID. */
  async runHeaders(path: string, uids: readonly number[]): Promise<Map<number, { run: string; messageId: string }>> {
    const found = new Map<number, { run: string; messageId: string }>();
    if (uids.length === 0) return found;
    await this.open(path, 'read');
    await this.session
      .fetchHeaderFields(uids, [RUN_HEADER, 'Message-ID'], (message) => {
        const text = message.headers.toString('latin1');
        const run = /^x-mailprobe-run:\s*(\S+)/im.exec(text)?.[1];
        if (run !== undefined) found.set(message.uid, { run, messageId: /^message-id:\s*(\S+)/im.exec(text)?.[1] ?? '' });
      })
      .catch((err: unknown) => {
        if (!(err instanceof ImapReplyError)) throw err;
      });
    return found;
  }

  /**
   * UIDs of this run's messages in a mailbox. SEARCH HEADER is a substring
   * match and may be looser still on servers with full-text search, so every
   * hit is confirmed by reading its header before anyone acts on it.
   */
  async ownUids(path: string, messageId?: string): Promise<number[]> {
    return (await this.ownMessages(path, messageId)).map((m) => m.uid);
  }

  /** This run's messages in a mailbox with their Message-IDs, UIDs ascending. */
  async ownMessages(path: string, messageId?: string): Promise<Array<{ uid: number; messageId: string }>> {
    await this.open(path, 'read');
    // A session learns of messages added elsewhere only from the server's EXISTS; a SEARCH on a
    // mailbox that was already open would not see them yet (Dovecot answers first, then EXISTS).
    await this.session.noop();
    const query: Record<string, string> = { [RUN_HEADER]: this.runId };
    if (messageId) query['Message-ID'] = messageId;
    const hits = await this.session.searchHeaders(query);
    const headers = await this.runHeaders(path, hits);
    const own = [...headers]
      .filter(([, h]) => h.run === this.runId && (messageId === undefined || h.messageId === messageId))
      .map(([uid, h]) => ({ uid, messageId: h.messageId }))
      .sort((a, b) => a.uid - b.uid);
    for (const m of own) this.onFound({ mailbox: path, ...m });
    return own;
  }
}
