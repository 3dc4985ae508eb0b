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
  /**
   * What was read, by unique-id, then LIST size. Keyed without building a string per entry: a search
   * over a 50,000-message maildrop looks every entry up, in every session of the run.
   */
  readonly #known = new Map<string, Map<number, Remembered>>();
  /** The unique-ids and sizes each own message (by Message-ID) was seen with. */
  readonly #ownSightings = new Map<string, Array<{ readonly uid: string; readonly size: number }>>();
  /** Every unique-id a listing of this maildrop showed in the run, with the size (or sizes) it had. */
  readonly #listed = new Map<string, number | Set<number>>();
  #knownCount = 0;
  #listedWhole = false;

  /** Whether a session of the run has listed the whole maildrop (see Pop3Session's search). */
  get listedWhole(): boolean {
    return this.#listedWhole;
  }

  recall(uid: string, size: number): Remembered | undefined {
    return this.#known.get(uid)?.get(size);
  }

  remember(uid: string, size: number, what: Remembered): void {
    let sizes = this.#known.get(uid);
    if (sizes === undefined) this.#known.set(uid, (sizes = new Map()));
    if (!sizes.has(size)) this.#knownCount++;
    sizes.set(size, what);
    if (!what.own) return;
    const sightings = this.#ownSightings.get(what.messageId) ?? [];
    if (!sightings.some((s) => s.uid === uid && s.size === size)) this.#ownSightings.set(what.messageId, [...sightings, { uid, size }]);
  }

  /**
   * Notes what a session's UIDL listing showed (entries without a unique-id are passed over): `whole` for a
   * listing of the whole maildrop, not of a few messages.
   */
  listed(entries: Iterable<{ readonly uid: string | undefined; readonly size: number }>, { whole }: { whole: boolean }): void {
    if (whole) this.#listedWhole = true;
    for (const e of entries) {
      if (e.uid === undefined) continue;
      const had = this.#listed.get(e.uid);
      if (had === undefined) this.#listed.set(e.uid, e.size);
      else if (typeof had === 'number') {
        if (had !== e.size) this.#listed.set(e.uid, new Set([had, e.size]));
      } else had.add(e.size);
    }
  }

  /** Whether an earlier listing showed this unique-id with this size. */
  wasListed(uid: string, size: number): boolean {
    const had = this.#listed.get(uid);
    return had === size || (typeof had === 'object' && had.has(size));
  }

  /** The unique-ids and sizes this run has seen its message with this Message-ID under. */
  sightingsOf(messageId: string): ReadonlyArray<{ readonly uid: string; readonly size: number }> {
    return this.#ownSightings.get(messageId) ?? [];
  }

  get size(): number {
    return this.#knownCount;
  }
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
