import type { ListedMailbox } from './results.js';

/**
 * What an IMAP run looks up once per account and keeps: the special-use
 * mailboxes (RFC 6154). They live outside the run's own tree and a run never
 * creates, renames or deletes one, so one LIST of the whole hierarchy per run
 * and account finds them, however many folders the account holds; every other
 * lookup lists only the run's subtree.
 *
 * Module state, because sessions are opened by the protocol module and the
 * runner has no per-run store for protocols; only the latest few runs are kept.
 */
export interface ImapRunCache {
  /** The special-use mailboxes, listed on first use; a failed listing is not kept, so the next use asks again. */
  specialUse(list: () => Promise<ListedMailbox[]>): Promise<ListedMailbox[]>;
}

const RUNS_KEPT = 4;
const byRun = new Map<string, Map<string, Promise<ListedMailbox[]>>>();

export interface AccountKey {
  readonly runId: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
}

export function imapRunCache(k: AccountKey): ImapRunCache {
  const account = `${k.host}\0${k.port}\0${k.user}`;
  return {
    specialUse(list) {
      const run = byRun.get(k.runId) ?? new Map<string, Promise<ListedMailbox[]>>();
      if (!byRun.has(k.runId)) {
        byRun.set(k.runId, run);
        while (byRun.size > RUNS_KEPT) byRun.delete(byRun.keys().next().value as string);
      }
      const cached = run.get(account);
      if (cached) return cached;
      const listing = list().then((all) => all.filter((m) => m.specialUse !== undefined));
      run.set(account, listing);
      listing.catch(() => run.delete(account));
      return listing;
    },
  };
}

/** No caching: each call lists again (a workspace made outside a run, e.g. in a test). */
export const uncachedRun: ImapRunCache = { specialUse: (list) => list().then((all) => all.filter((m) => m.specialUse !== undefined)) };
