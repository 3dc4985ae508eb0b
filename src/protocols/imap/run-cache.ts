import type { ListedMailbox } from './results.js';
import { accountKey, RunStore } from '../run-store.js';

/**
 * What an IMAP run looks up once per account and keeps: the special-use
 * mailboxes (RFC 6154). They live outside the run's own tree and a run never
 * creates, renames or deletes one, so one LIST of the whole hierarchy per run
 * and account finds them, however many folders the account holds; every other
 * lookup lists only the run's subtree.
 *
 * Kept per run and account in a RunStore (src/protocols/run-store.ts).
 */
export interface ImapRunCache {
  /** The special-use mailboxes, listed on first use; a failed listing is not kept, so the next use asks again. */
  specialUse(list: () => Promise<ListedMailbox[]>): Promise<ListedMailbox[]>;
}

const listings = new RunStore<Promise<ListedMailbox[]>>();

export interface AccountKey {
  readonly runId: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
}

export function imapRunCache(k: AccountKey): ImapRunCache {
  const account = accountKey(k);
  return {
    specialUse(list) {
      let fresh: Promise<ListedMailbox[]> | undefined;
      const listing = listings.get(k.runId, account, () => (fresh = specialUseOf(list)));
      // A failed listing is not kept: the next use asks again.
      fresh?.catch(() => listings.forget(k.runId, account));
      return listing;
    },
  };
}

/** No caching: each call lists again (a workspace made outside a run, e.g. in a test). */
export const uncachedRun: ImapRunCache = { specialUse: specialUseOf };

function specialUseOf(list: () => Promise<ListedMailbox[]>): Promise<ListedMailbox[]> {
  return list().then((all) => all.filter((m) => m.specialUse !== undefined));
}
