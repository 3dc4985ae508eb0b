import { RUN_HEADER } from '../smtp/compose.js';
import type { Pop3Client } from './client.js';
import { parseHeaderBlock } from '../headers.js';

/**
 * A named POP3 connection ("laptop", "phone") plus what this run knows it may
 * touch. POP3 message numbers are per connection, so ownership is too: a
 * message is ours when its headers, read with TOP n 0 in this connection, carry
 * this run's X-Mailprobe-Run value. RETR and DELE refuse anything else, which
 * is what keeps a run against a production mailbox from reading (and so
 * marking seen) or deleting somebody's real mail.
 */
export class NotOwnMessageError extends Error {
  readonly code = 'ENOT_OWN_MESSAGE';
  constructor(msg: number, reason: string) {
    super(`refusing to touch message ${msg}: ${reason}; mailprobe only reads or deletes mail its own run created`);
    this.name = 'NotOwnMessageError';
  }
}

export interface OwnMessage {
  readonly msg: number;
  readonly messageId: string;
}

export class Pop3Session {
  readonly #owned = new Map<number, OwnMessage>();

  constructor(
    readonly name: string,
    readonly client: Pop3Client,
    readonly runId: string,
    /** Told the Message-ID of every own message found, so cleanup knows what has arrived. */
    private readonly onSeen: (messageId: string) => void = () => {},
  ) {}

  get closed(): boolean {
    return this.client.closed;
  }

  /** Reads message `msg`'s header block with TOP n 0 and returns its headers. */
  async headersOf(msg: number): Promise<Map<string, string>> {
    const top = await this.client.top(msg, 0);
    return parseHeaderBlock(top);
  }

  /**
   * Finds this run's message with the given Message-ID. Newest first, since a
   * message just delivered is at the end of the maildrop; stops at the first
   * match so a large real mailbox costs little.
   */
  async findOwn(messageId: string): Promise<{ msg: number; uid?: string; size: number } | undefined> {
    const listing = await this.client.list();
    for (const entry of [...listing].reverse()) {
      const headers = await this.headersOf(entry.msg);
      if (headers.get('message-id') === messageId && headers.get(RUN_HEADER.toLowerCase()) === this.runId) {
        this.#owned.set(entry.msg, { msg: entry.msg, messageId });
        this.onSeen(messageId);
        return { msg: entry.msg, size: entry.size };
      }
    }
    return undefined;
  }

  /** Every message in the maildrop that this run created. */
  async findAllOwn(): Promise<OwnMessage[]> {
    const found: OwnMessage[] = [];
    const listing = await this.client.list();
    for (const entry of listing) {
      const headers = await this.headersOf(entry.msg);
      if (headers.get(RUN_HEADER.toLowerCase()) === this.runId) {
        const own = { msg: entry.msg, messageId: headers.get('message-id') ?? '' };
        this.#owned.set(entry.msg, own);
        this.onSeen(own.messageId);
        found.push(own);
      }
    }
    return found;
  }

  /** Throws unless `msg` is known, or shown by its headers, to be this run's. */
  async assertOwn(msg: number): Promise<void> {
    if (this.#owned.has(msg)) return;
    let headers: Map<string, string>;
    try {
      headers = await this.headersOf(msg);
    } catch (err) {
      throw new NotOwnMessageError(msg, `its headers could not be read to check (${(err as Error).message})`);
    }
    if (headers.get(RUN_HEADER.toLowerCase()) !== this.runId) {
      throw new NotOwnMessageError(msg, `it has no ${RUN_HEADER}: ${this.runId} header`);
    }
    this.#owned.set(msg, { msg, messageId: headers.get('message-id') ?? '' });
  }
}
