import { RUN_HEADER } from '../smtp/compose.js';
import type { Pop3Client } from './client.js';
import { parseHeaderBlock } from '../headers.js';
import { Pop3ProtocolError, Pop3ReplyError } from './errors.js';
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
/**
 * A maildrop of at least this many messages is searched from its newest messages first: below it, LIST and
 * UIDL of the whole maildrop are a few kilobytes in two round trips, no dearer than looking at the newest.
 */
const SEARCH_NEWEST_FROM = 256;
/** How many of the newest messages that search covers before it lists the maildrop whole. */
const HEAD_DEPTH = 64;
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
    const looks = { left: options.newLooks ?? Number.POSITIVE_INFINITY };
    const newest = await this.#searchNewest(messageId, looks);
    if (newest !== undefined || looks.left <= 0) return newest;
    return this.#searchWhole(messageId, looks);
  }

  /**
   * The search through the newest HEAD_DEPTH messages of a big maildrop, by LIST n, UIDL n and TOP n 0: where
   * the run's own mail is (just delivered, appended at the end), found for a few lines whatever the maildrop
   * holds. Not taken in a small maildrop (listed whole for a couple of round trips) or before the run has
   * listed this maildrop whole once: that listing is what a later absence check compares against, so that it
   * reads only what is new since (see #couldStillBe), not every message.
   */
  async #searchNewest(messageId: string, looks: { left: number }): Promise<{ msg: number; size: number } | undefined> {
    if (!this.memory.listedWhole) return undefined;
    const highest = await this.#highestOrUndefined();
    if (highest === undefined || highest < SEARCH_NEWEST_FROM) return undefined;
    const withUid = this.#mayAskUidl();
    let batch = 1;
    for (let next = highest, covered = 0; next >= 1 && covered < HEAD_DEPTH && looks.left > 0; ) {
      const msgs: number[] = [];
      for (; msgs.length < batch && next >= 1 && covered < HEAD_DEPTH; covered++) msgs.push(next--);
      batch = Math.min(batch * 2, MAX_BATCH);
      const entries = (await this.client.scanMany(msgs, withUid)).filter((e) => e !== undefined);
      // Judged before they are noted: noted first, every entry would count as listed before.
      const candidates = this.#candidates(entries, messageId, this.#notListedBefore(messageId));
      this.memory.listed(entries, { whole: false });
      const found = await this.#readCandidates(candidates, messageId, looks);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  /**
   * STAT's count, or undefined when STAT is refused or malformed: the search then lists the maildrop whole, as
   * it did before it looked at the newest first, and a broken STAT is judged by the scenario step that asks it
   * (RFC 1939 §5), not blamed on a search for a message.
   */
  async #highestOrUndefined(): Promise<number | undefined> {
    try {
      return await this.client.highestMessageNumber();
    } catch (err) {
      if (err instanceof Pop3ReplyError || err instanceof Pop3ProtocolError) return undefined;
      throw err;
    }
  }

  /** LIST and UIDL of the whole maildrop, then the headers of whatever could be the message, newest first. */
  async #searchWhole(messageId: string, looks: { left: number }): Promise<{ msg: number; size: number } | undefined> {
    const entries = (await this.#catalogue()).reverse();
    const couldBeIt = this.#couldStillBe(entries, messageId);
    this.memory.listed(entries, { whole: true });
    return this.#readCandidates(this.#candidates(entries, messageId, couldBeIt), messageId, looks);
  }

  /** What could be the message among `entries`: unread ones (narrowed by `couldBeIt`), and ones known to be it. */
  #candidates(entries: readonly Entry[], messageId: string, couldBeIt?: (e: Entry) => boolean): Entry[] {
    return entries.filter((e) => {
      const known = this.#known(e);
      return (known === undefined && (couldBeIt === undefined || couldBeIt(e))) || (known?.own === true && known.messageId === messageId);
    });
  }

  /**
   * Reads the headers of `candidates` in order, in batches growing 1, 2, 4 … (pipelined when offered), until one
   * is the message; each message not looked at before uses one of `looks`.
   */
  async #readCandidates(candidates: readonly Entry[], messageId: string, looks: { left: number }): Promise<{ msg: number; size: number } | undefined> {
    // Read in this session already: no need to ask again.
    const here = candidates.find((e) => this.#isLookedOwn(e.msg, messageId));
    if (here) return this.#foundOwn(here, messageId);
    let batch = 1;
    for (let i = 0; i < candidates.length && looks.left > 0; ) {
      const take = candidates.slice(i, i + Math.min(batch, looks.left));
      i += take.length;
      looks.left -= take.filter((e) => this.#known(e) === undefined).length;
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
    if (!this.#mayAskUidl()) return undefined;
    try {
      return new Map((await this.client.uidl()).map((u) => [u.msg, u.uid]));
    } catch (err) {
      if (err instanceof Pop3ReplyError) return undefined;
      throw err;
    }
  }

  #mayAskUidl(): boolean {
    return !(this.client.capaSupported === true && !this.client.hasCapability('UIDL'));
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
    return this.#notListedBefore(messageId);
  }

  /**
   * For a message the run has seen before: which unread entries could be it, if it is not where it was seen
   * (an entry under that unique-id is known, and a candidate anyway). One whose unique-id and size no listing
   * showed before, or one of the message's own size (see #couldStillBe). The search of the newest messages
   * uses it without #couldStillBe's evidence: whatever it passes over there, the whole search after it still
   * judges. Undefined for a message never seen: every unread entry could be it.
   */
  #notListedBefore(messageId: string): ((e: Entry) => boolean) | undefined {
    const seenAs = this.memory.sightingsOf(messageId);
    if (seenAs.length === 0) return undefined;
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
