import { z } from 'zod';
import type { ImapWorkspace } from '../protocols/imap/workspace.js';
import type { ActionContext } from './context.js';
import { sweepUntilArrived } from './awaited-mail.js';
import { defineAction } from './define-action.js';
import { SPECIAL_USE_ATTRIBUTES } from './imap-mailbox.js';

/**
 * Removes everything the run made in an account: the run's folder tree (and
 * its subscriptions), and the run's messages in INBOX and the special-use
 * mailboxes. Runs in a fresh session so a broken scenario session cannot stop
 * it, and checks afterwards; what is still there is reported by name.
 */
/** INBOX and every special-use mailbox a scenario could have put a message in. */
async function sharedMailboxes(ws: ImapWorkspace): Promise<string[]> {
  const listed = await ws.session.call('LIST', (c) => c.list());
  const paths = new Set(['INBOX']);
  for (const m of listed) {
    if (m.specialUse && SPECIAL_USE_ATTRIBUTES.some((u) => u.toLowerCase() === m.specialUse!.toLowerCase())) paths.add(m.path);
  }
  return [...paths];
}

async function runFolders(ws: ImapWorkspace): Promise<{ existing: string[]; subscribed: string[] }> {
  const listed = await ws.session.call('LIST', (c) => c.list());
  const existing: string[] = [];
  const subscribed: string[] = [];
  for (const m of listed) {
    if ((await ws.relative(m.path)) === undefined) continue;
    // A \NonExistent parent (RFC 5258 §3) is only a name for its children: nothing to delete.
    if (m.listed && !hasFlag(m.flags, '\\NonExistent')) existing.push(m.path);
    if (m.subscribed) subscribed.push(m.path);
  }
  return { existing, subscribed };
}

function hasFlag(flags: ReadonlySet<string>, flag: string): boolean {
  return [...flags].some((f) => f.toLowerCase() === flag.toLowerCase());
}

async function leftovers(ws: ImapWorkspace, runId: string): Promise<string[]> {
  const found: string[] = [];
  for (const path of (await runFolders(ws)).existing) found.push(`IMAP folder '${path}'`);
  for (const path of await sharedMailboxes(ws)) {
    for (const uid of await ws.ownUids(path)) found.push(`IMAP message UID ${uid} in '${path}' (X-Mailprobe-Run: ${runId})`);
  }
  return found;
}

type Attempt = (what: string, fn: () => Promise<unknown>) => Promise<boolean>;

/** Removes this run's messages from INBOX and the special-use mailboxes; returns how many. */
async function expungeOwnMail(ws: ImapWorkspace, problems: string[], attempt: Attempt): Promise<number> {
  let removed = 0;
  for (const path of await sharedMailboxes(ws)) {
    const uids = await ws.ownUids(path);
    if (uids.length === 0) continue;
    if (!ws.session.has('UIDPLUS')) {
      // Without UID EXPUNGE, removing our messages would expunge other \Deleted mail too.
      problems.push(`cannot expunge only this run's messages from '${path}' without UIDPLUS`);
      continue;
    }
    const range = uids.join(',');
    const done = await attempt(`expunge from ${path}`, async () => {
      await ws.open(path, 'write');
      await ws.session.call(`UID EXPUNGE ${range}`, (c) => c.messageDelete(range, { uid: true }));
    });
    if (done) removed += uids.length;
  }
  return removed;
}

export const imapCleanup = defineAction({
  name: 'imap.cleanup',
  cleansUp: true,
  summary: "Delete the run's folders and its messages in INBOX and special-use mailboxes, in a fresh session, and check they are gone",
  protocol: 'imap',
  params: z.strictObject({}),
  async run(ctx: ActionContext) {
    const ws = await ctx.openExtraImap(`${ctx.sessionName ?? 'imap'}~cleanup`);
    const problems: string[] = [];
    const attempt: Attempt = async (what, fn) => {
      try {
        await fn();
        return true;
      } catch (err) {
        problems.push(`${what}: ${(err as Error).message}`);
        return false;
      }
    };
    let messages = 0;
    const sweepShared = async () => {
      messages += await expungeOwnMail(ws, problems, attempt);
    };
    await sweepShared();
    // Mail sent but not delivered yet would arrive after cleanup and stay: wait for it, bounded.
    const neverArrived = await sweepUntilArrived(ctx, sweepShared);
    const { existing, subscribed } = await runFolders(ws);
    for (const path of subscribed) await attempt(`unsubscribe ${path}`, () => ws.session.call(`UNSUBSCRIBE ${path}`, (c) => c.mailboxUnsubscribe(path)));
    // Children before parents.
    const byDepth = [...existing].sort((a, b) => b.length - a.length);
    for (const path of byDepth) await attempt(`delete ${path}`, () => ws.session.call(`DELETE ${path}`, (c) => c.mailboxDelete(path)));
    const remaining = await leftovers(ws, ctx.runId);
    await ws.session.logout();
    for (const item of remaining) ctx.addLeftover(`${item} is still there after cleanup`);
    return { folders_deleted: byDepth.length, messages_deleted: messages, remaining: remaining.length, never_arrived: neverArrived, problems };
  },
});
