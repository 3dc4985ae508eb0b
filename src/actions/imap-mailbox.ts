import { z } from 'zod';
import type { ImapWorkspace } from '../protocols/imap/workspace.js';
import { SkipScenario } from '../protocols/outcomes.js';

/**
 * How scenarios name a mailbox: `INBOX`, a special-use attribute such as
 * `\Drafts` or `\Sent` (RFC 6154, found through LIST), or a folder under the
 * run's own root written with "/" between levels (`work/2026`).
 */
export const mailboxParam = z
  .string()
  .min(1)
  .describe('INBOX, a special-use attribute (\\Drafts, \\Sent, \\Trash, \\Junk, \\Archive), or a folder under the run root ("a/b")');

export type MailboxKind = 'inbox' | 'special-use' | 'run';

export interface ResolvedMailbox {
  readonly path: string;
  readonly kind: MailboxKind;
  /** For special-use mailboxes: how it was found ("extension" = SPECIAL-USE, "name" = a name guess). */
  readonly foundBy?: string;
}

/** RFC 6154 attributes a scenario may name; cleanup looks in every one of them. */
export const SPECIAL_USE_ATTRIBUTES = ['\\Drafts', '\\Sent', '\\Trash', '\\Junk', '\\Archive', '\\All', '\\Flagged'] as const;
const SPECIAL_USE = new RegExp(`^(${SPECIAL_USE_ATTRIBUTES.map((a) => a.replace('\\', '\\\\')).join('|')})$`, 'i');

export async function resolveMailbox(ws: ImapWorkspace, ref: string): Promise<ResolvedMailbox> {
  if (ref.toUpperCase() === 'INBOX') return { path: 'INBOX', kind: 'inbox' };
  if (SPECIAL_USE.test(ref)) {
    const found = await findSpecialUse(ws, ref);
    if (!found) throw new SkipScenario(`the server lists no ${ref} mailbox (neither by SPECIAL-USE attribute nor by a known name)`);
    return { path: found.path, kind: 'special-use', foundBy: found.foundBy };
  }
  return { path: await ws.path(ref), kind: 'run' };
}

export async function findSpecialUse(ws: ImapWorkspace, use: string): Promise<{ path: string; foundBy: string } | undefined> {
  const wanted = use.toLowerCase();
  const listed = await ws.specialUseMailboxes();
  // Cyrus reports the attributes in lower case; compare without case.
  const match = listed.find((m) => m.specialUse?.toLowerCase() === wanted);
  return match ? { path: match.path, foundBy: match.specialUseSource ?? 'extension' } : undefined;
}
