import { RUN_HEADER } from '../smtp/compose.js';
import type { Pop3Client } from './client.js';
import { parseHeaderBlock } from '../headers.js';
import { Pop3ReplyError } from './errors.js';
import { MaildropMemory, type Remembered } from './maildrop-memory.js';

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

export interface FindOptions {
  /**
   * Read the headers of at most this many messages not looked at before,
   * newest first (a delivery poll: mail just delivered is appended, so it is
   * at the top; the next poll goes on deeper). Default: no bound.
   */
  readonly newLooks?: number;
}

/** One message of the listing, with its unique-id when UIDL answered. */
interface Entry {
  readonly msg: number;
  readonly size: number;
  readonly uid: string | undefined;
}

/** TOP commands per round trip grow 1, 2, 4 … up to this: a message at the top costs one TOP. */
const MAX_BATCH = 32;
const ownHeader = RUN_HEADER.toLowerCase();

export class Pop3Session {
  readonly #owned = new Map<number, OwnMessage>();
  /** What this session read of each message number (numbers are stable within a session, RFC 1939 §4). */
  readonly #looked = new Map<number, Remembered>();

  constructor(
    readonly name: string,
    readonly client: Pop3Client,
    readonly runId: string,
    /** Told the Message-ID of every own message found, so cleanup knows what has arrived. */
    private readonly onSeen: (messageId: string) => void = () => {},
    /** What the run already knows of this maildrop by UIDL (shared by its sessions of this account). */
    private readonly memory: MaildropMemory = new MaildropMemory(),
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
   * match, and skips what this run has already read (see MaildropMemory), so
   * a large real mailbox costs little.
   */
  async findOwn(messageId: string, options: FindOptions = {}): Promise<{ msg: number; uid?: string; size: number } | undefined> {
    const entries = (await this.#catalogue()).reverse();
    const couldBeIt = this.#couldStillBe(entries, messageId);
    this.#noteListed(entries);
    const candidates = entries.filter((e) => {
      const known = this.#known(e);
      return (known === undefined && (couldBeIt === undefined || couldBeIt(e))) || (known?.own === true && known.messageId === messageId);
    });
    // Read in this session already: no need to ask again.
    const here = candidates.find((e) => this.#isLookedOwn(e.msg, messageId));
    if (here) return this.#foundOwn(here, messageId);
    let newLooks = options.newLooks ?? Number.POSITIVE_INFINITY;
    let batch = 1;
    for (let i = 0; i < candidates.length && newLooks > 0; ) {
      const take = candidates.slice(i, i + Math.min(batch, newLooks));
      i += take.length;
      newLooks -= take.filter((e) => this.#known(e) === undefined).length;
      batch = Math.min(batch * 2, MAX_BATCH);
      await this.#look(take);
      const match = take.find((e) => this.#isLookedOwn(e.msg, messageId));
      if (match) return this.#foundOwn(match, messageId);
    }
    return undefined;
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
    if (headers.get(ownHeader) !== this.runId) {
      throw new NotOwnMessageError(msg, `it has no ${RUN_HEADER}: ${this.runId} header`);
    }
    this.#owned.set(msg, { msg, messageId: headers.get('message-id') ?? '' });
  }

  // --- internals --------------------------------------------------------------

  /** LIST, with each message's unique-id when the server answers UIDL. */
  async #catalogue(): Promise<Entry[]> {
    const listing = await this.client.list();
    const uids = await this.#uids();
    return listing.map((e) => ({ msg: e.msg, size: e.size, uid: uids?.get(e.msg) }));
  }

  /**
   * UIDL is optional (RFC 1939 §7): when CAPA does not list it, or the server
   * refuses it, the search reads headers as it always did.
   */
  async #uids(): Promise<Map<number, string> | undefined> {
    if (this.client.capaSupported === true && !this.client.hasCapability('UIDL')) return undefined;
    try {
      return new Map((await this.client.uidl()).map((u) => [u.msg, u.uid]));
    } catch (err) {
      if (err instanceof Pop3ReplyError) return undefined;
      throw err;
    }
  }

  #noteListed(entries: readonly Entry[]): void {
    this.memory.listed(entries);
  }

  #known(e: Entry): Remembered | undefined {
    return this.#looked.get(e.msg) ?? (e.uid === undefined ? undefined : this.memory.recall(e.uid, e.size));
  }

  #isLookedOwn(msg: number, messageId: string): boolean {
    const looked = this.#looked.get(msg);
    return looked?.own === true && looked.messageId === messageId;
  }

  /**
   * The message was seen earlier in the run with a unique-id that this listing
   * no longer has, while unique-ids an earlier listing showed are still listed
   * with their sizes (so this server keeps them, RFC 1939 §7): then it is most
   * likely gone, and the messages listed before, which were not it then, need
   * no reading. Returns which unread entries could still be it: one whose
   * unique-id and size no listing of the run showed before (new mail, or the
   * message kept under a new unique-id, which a server breaking §7 may do), or
   * one of the message's own size (a unique-id handed from another message to
   * it). Without that reading, a server that kept the message under a new
   * unique-id would pass every absence check. Undefined: no such evidence (no
   * UIDL, the unique-id still listed, or a server whose unique-ids all change
   * between sessions), and every unread entry is read.
   */
  #couldStillBe(entries: readonly Entry[], messageId: string): ((e: Entry) => boolean) | undefined {
    if (entries.some((e) => e.uid === undefined)) return undefined;
    const uids = new Set(entries.map((e) => e.uid));
    const seenAs = this.memory.sightingsOf(messageId);
    if (seenAs.length === 0 || seenAs.some((seen) => uids.has(seen.uid))) return undefined;
    if (!entries.some((e) => e.uid !== undefined && this.memory.wasListed(e.uid, e.size))) return undefined;
    const sizes = new Set(seenAs.map((seen) => seen.size));
    return (e) => sizes.has(e.size) || e.uid === undefined || !this.memory.wasListed(e.uid, e.size);
  }

  /** Reads the headers of `entries` (pipelined when offered) and remembers whose each one is. */
  async #look(entries: readonly Entry[]): Promise<void> {
    const unread = entries.filter((e) => !this.#looked.has(e.msg));
    if (unread.length === 0) return;
    const tops = await this.client.topMany(
      unread.map((e) => e.msg),
      0,
    );
    let refusal: Error | undefined;
    unread.forEach((e, i) => {
      const top = tops[i];
      if (top === undefined) return;
      if (top instanceof Pop3ReplyError) {
        refusal ??= top;
        return;
      }
      const headers = parseHeaderBlock(top);
      const messageId = headers.get('message-id') ?? '';
      const what: Remembered = headers.get(ownHeader) === this.runId ? { own: true, messageId } : { own: false };
      this.#looked.set(e.msg, what);
      if (e.uid !== undefined) this.memory.remember(e.uid, e.size, what);
      if (what.own) {
        this.#owned.set(e.msg, { msg: e.msg, messageId });
        this.onSeen(messageId);
      }
    });
    if (refusal) throw refusal;
  }

  #foundOwn(e: Entry, messageId: string): { msg: number; size: number } {
    this.#owned.set(e.msg, { msg: e.msg, messageId });
    this.onSeen(messageId);
    return { msg: e.msg, size: e.size };
  }
}
