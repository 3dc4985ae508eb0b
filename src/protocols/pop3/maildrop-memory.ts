import { accountKey, RunStore } from '../run-store.js';

/**
 * What one run has learnt about one account's maildrop: which messages, by
 * UIDL, it has already read the headers of, and whose they were.
 *
 * RFC 1939 §7 (UIDL): the unique-id "uniquely identifies a message within a
 * maildrop and ... persists across sessions". So a message seen once to carry
 * no X-Mailprobe-Run header of this run stays someone else's, and the next
 * search (the next delivery poll, the next session, the cleanup) need not
 * read its headers again: a search costs what the run added to the maildrop,
 * not what the maildrop holds.
 *
 * A message is remembered by its unique-id together with its LIST size, so
 * a server that hands an old unique-id to a new message (a clause it breaks)
 * is not trusted on the unique-id alone. A server whose unique-ids change
 * between sessions simply matches nothing here, and every search then reads
 * headers as before: the memory can make a search cheaper, never blinder.
 */
export type Remembered = { readonly own: false } | { readonly own: true; readonly messageId: string };

export class MaildropMemory {
  readonly #known = new Map<string, Remembered>();
  /** The unique-ids and sizes each own message (by Message-ID) was seen with. */
  readonly #ownSightings = new Map<string, Array<{ readonly uid: string; readonly size: number }>>();
  /** Every unique-id and size a listing of this maildrop showed in the run. */
  readonly #listed = new Set<string>();

  recall(uid: string, size: number): Remembered | undefined {
    return this.#known.get(key(uid, size));
  }

  remember(uid: string, size: number, what: Remembered): void {
    this.#known.set(key(uid, size), what);
    if (!what.own) return;
    const sightings = this.#ownSightings.get(what.messageId) ?? [];
    if (!sightings.some((s) => s.uid === uid && s.size === size)) this.#ownSightings.set(what.messageId, [...sightings, { uid, size }]);
  }

  /** Notes what a session's UIDL listing showed, after it has been compared with what came before. */
  listed(entries: ReadonlyArray<{ readonly uid: string; readonly size: number }>): void {
    for (const e of entries) this.#listed.add(key(e.uid, e.size));
  }

  /** Whether an earlier listing showed this unique-id with this size. */
  wasListed(uid: string, size: number): boolean {
    return this.#listed.has(key(uid, size));
  }

  /** The unique-ids and sizes this run has seen its message with this Message-ID under. */
  sightingsOf(messageId: string): ReadonlyArray<{ readonly uid: string; readonly size: number }> {
    return this.#ownSightings.get(messageId) ?? [];
  }

  get size(): number {
    return this.#known.size;
  }
}

function key(uid: string, size: number): string {
  return `${uid}\0${size}`;
}

/**
 * One memory per run, endpoint, account and UTF-8 mode (a server may show an
 * ASCII session a notice in place of a header block, RFC 6856), shared by every
 * session of that account in the run (see RunStore).
 */
const memories = new RunStore<MaildropMemory>();

export interface MaildropKey {
  readonly runId: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly utf8: boolean;
}

export function maildropMemory(k: MaildropKey): MaildropMemory {
  return memories.get(k.runId, accountKey(k, k.utf8 ? 'utf8' : 'ascii'), () => new MaildropMemory());
}
