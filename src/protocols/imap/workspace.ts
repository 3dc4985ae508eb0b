import { RUN_HEADER } from '../smtp/compose.js';
import { ImapReplyError } from './errors.js';
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

export interface FolderLayout {
  readonly prefix: string;
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
  ) {}

  get rootName(): string {
    return `mailprobe-${this.runId}`;
  }

  async layout(): Promise<FolderLayout> {
    if (this.#layout) return this.#layout;
    const ns = this.session.client.namespace;
    let prefix = ns?.prefix ?? '';
    let delimiter = ns?.delimiter ?? '';
    let source: FolderLayout['source'] = 'NAMESPACE';
    if (!ns || !this.session.has('NAMESPACE') || !delimiter) {
      // RFC 3501 §6.3.8: LIST "" "" returns the hierarchy delimiter.
      const listed = await this.session.call('LIST', (c) => c.list({ listOnly: true }));
      delimiter = listed.find((m) => m.delimiter)?.delimiter ?? '/';
      prefix = ns?.prefix ?? '';
      source = 'LIST';
    }
    this.#layout = { prefix, delimiter, root: `${prefix}${this.rootName}`, source };
    return this.#layout;
  }

  /** "drafts/2026" → "<prefix>mailprobe-<run>.drafts.2026" with the server's delimiter. */
  async path(relative: string): Promise<string> {
    const { root, delimiter } = await this.layout();
    const parts = relative.split('/').filter((p) => p.length > 0);
    for (const part of parts) {
      if (part.includes(delimiter)) throw new Error(`folder name part '${part}' contains the server's hierarchy delimiter '${delimiter}'`);
    }
    return [root, ...parts].join(delimiter);
  }

  /** The inverse of path(): undefined when `full` is not inside the run's root. */
  async relative(full: string): Promise<string | undefined> {
    const { root, delimiter } = await this.layout();
    if (full === root) return '';
    if (!full.startsWith(root + delimiter)) return undefined;
    return full.slice(root.length + delimiter.length).split(delimiter).join('/');
  }

  async assertInside(full: string): Promise<void> {
    if ((await this.relative(full)) === undefined) throw new NotOwnImapError(`folder '${full}'`);
  }

  /** Reads the run header of a message with BODY.PEEK (never sets \Seen) and checks it is this run's. */
  async assertOwnMessage(path: string, uid: number): Promise<void> {
    const run = await this.runHeaderOf(path, uid);
    if (run !== this.runId) throw new NotOwnImapError(`message UID ${uid} in '${path}' (no ${RUN_HEADER}: ${this.runId} header)`);
  }

  async runHeaderOf(path: string, uid: number): Promise<string | undefined> {
    const { client } = this.session;
    await this.session.call(`SELECT ${path}`, (c) => c.mailboxOpen(path));
    const message = await this.session.call(`UID FETCH ${uid}`, async () => (await client.fetchOne(String(uid), { uid: true, headers: [RUN_HEADER] }, { uid: true })) || undefined).catch(
      (err: unknown) => {
        if (err instanceof ImapReplyError) return undefined;
        throw err;
      },
    );
    if (!message?.headers) return undefined;
    const match = /^x-mailprobe-run:\s*(\S+)/im.exec(message.headers.toString('latin1'));
    return match?.[1];
  }

  /** UIDs of this run's messages in a mailbox, found with SEARCH HEADER (read-only). */
  async ownUids(path: string, messageId?: string): Promise<number[]> {
    await this.session.call(`SELECT ${path}`, (c) => c.mailboxOpen(path));
    const query: Record<string, string> = { [RUN_HEADER]: this.runId };
    if (messageId) query['Message-ID'] = messageId;
    const uids = await this.session.call('UID SEARCH', (c) => c.search({ header: query }, { uid: true }));
    return [...(uids || [])].sort((a, b) => a - b);
  }
}
