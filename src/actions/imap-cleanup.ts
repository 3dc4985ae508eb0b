import { z } from 'zod';
import { ImapReplyError } from '../protocols/imap/errors.js';
import type { ImapWorkspace } from '../protocols/imap/workspace.js';
import type { ActionContext, RecordedMessage } from './context.js';
import { sweepUntilArrived } from './awaited-mail.js';
import { defineAction } from './define-action.js';
import { folderGone, messageGone, subscriptionGone, subscriptionReader } from './imap-gone.js';
import { SPECIAL_USE_ATTRIBUTES } from './imap-mailbox.js';

/**
 * Removes everything the run made in an account, working from the run's own
 * record (ctx.record), never from what LIST shows: a server that hides new
 * folders from other sessions would otherwise make cleanup delete nothing and
 * report success. It deletes every recorded message by UID after confirming
 * its run header, every recorded folder deepest first and the run's root, and
 * sweeps INBOX and the special-use mailboxes for run mail it never located.
 * It runs in a fresh session so a broken scenario session cannot stop it, then
 * checks each item by name on another connection (see imap-gone.ts).
 */
const DELETE_ATTEMPTS = 3;
/**
 * Cyrus with delete_mode: delayed renames a deleted mailbox to
 * DELETED.<name>.<unix seconds>, so a second DELETE of the same name within
 * the same second answers "NO Mailbox already exists". Every scenario deletes
 * the same run root, so a refused DELETE is tried again after the second has
 * turned (RFC 9051 §6.3.5 allows the NO: "can't delete mailbox with that name").
 */
const DELETE_RETRY_MS = 1_100;

/** INBOX, every special-use mailbox, and every other mailbox outside the run's tree where the run recorded mail. */
async function sharedMailboxes(ws: ImapWorkspace, outside: readonly RecordedMessage[]): Promise<string[]> {
  const listed = await ws.specialUseMailboxes();
  const paths = new Set(['INBOX']);
  for (const m of listed) {
    if (m.specialUse && SPECIAL_USE_ATTRIBUTES.some((u) => u.toLowerCase() === m.specialUse!.toLowerCase())) paths.add(m.path);
  }
  for (const m of outside) paths.add(m.mailbox);
  return [...paths];
}

/**
 * Folders under the run's root that LIST shows (only the run's subtree is listed).
 * LIST may only add to the record, never take from it.
 */
async function listedRunFolders(ws: ImapWorkspace): Promise<string[]> {
  return (await ws.listRunTree()).map((m) => m.path);
}

type Attempt = (what: string, fn: () => Promise<unknown>) => Promise<boolean>;

/**
 * Removes this run's messages from one mailbox outside its tree: the given
 * UIDs (or, with none, every message with the run header) once their headers
 * show they are this run's. Only with UIDPLUS, since a plain EXPUNGE would take
 * every other \Deleted message along.
 */
async function expungeOwn(ws: ImapWorkspace, path: string, uids: readonly number[] | undefined, problems: string[], attempt: Attempt): Promise<void> {
  // ownUids has already read each hit's run header; given UIDs are read here.
  const own = uids ? [...(await ws.runHeaders(path, uids))].filter(([, h]) => h.run === ws.runId).map(([uid]) => uid) : await ws.ownUids(path);
  if (own.length === 0) return;
  if (!ws.session.has('UIDPLUS')) {
    problems.push(`cannot expunge only this run's messages from '${path}' without UIDPLUS`);
    return;
  }
  await attempt(`expunge from ${path}`, async () => {
    await ws.open(path, 'write');
    await ws.session.expunge(own);
  });
}

/** DELETE, tried again while the server refuses a folder that STATUS still shows (see DELETE_RETRY_MS). */
async function deleteFolder(ctx: ActionContext, ws: ImapWorkspace, path: string, problems: string[]): Promise<void> {
  // Every recorded folder was made under the run's root; anything else in the record is a bug
  // somewhere else, and DELETE of a folder the run did not make would destroy real mail.
  if ((await ws.relative(path)) === undefined) {
    problems.push(`not deleting '${path}': it is not under the run's root`);
    return;
  }
  for (let attempt = 1; ; attempt++) {
    try {
      await ws.session.deleteMailbox(path);
      return;
    } catch (err) {
      if (!(err instanceof ImapReplyError) || err.status !== 'NO') {
        problems.push(`delete ${path}: ${(err as Error).message}`);
        return;
      }
      // Refused because there is nothing by that name (any more): nothing to delete.
      if (err.responseCode?.toUpperCase() === 'NONEXISTENT') return;
      const exists = await ws.session.status(path).then(
        () => true,
        () => false,
      );
      if (!exists) return;
      if (attempt >= DELETE_ATTEMPTS || ctx.signal.aborted) {
        problems.push(`delete ${path}: ${err.message} (${attempt} attempts)`);
        return;
      }
      ctx.transcript.info(ws.session.name, `DELETE ${path} refused; trying again in ${DELETE_RETRY_MS} ms (attempt ${attempt + 1} of ${DELETE_ATTEMPTS})`);
      await new Promise((resolve) => setTimeout(resolve, DELETE_RETRY_MS));
    }
  }
}

/** Deepest first: a parent can only go once its children have. */
function deepestFirst(paths: Iterable<string>, delimiter: string): string[] {
  const depth = (p: string) => (delimiter ? p.split(delimiter).length : 1);
  return [...new Set(paths)].sort((a, b) => depth(b) - depth(a) || b.length - a.length);
}

export const imapCleanup = defineAction({
  name: 'imap.cleanup',
  plans: (_p, ctx) => [
    {
      kind: 'delete',
      what: `the folders and messages this run recorded creating, under ${ctx.runRoot} and elsewhere, and its own mail (Message-ID ${ctx.messageIdPattern}) in INBOX and the special-use mailboxes`,
    },
  ],
  cleansUp: true,
  summary:
    'Delete the folders and messages the run recorded creating, and its run mail in INBOX and special-use mailboxes, in a fresh session; check each by name',
  protocol: 'imap',
  params: z.strictObject({}),
  async run(ctx: ActionContext) {
    const ws = await ctx.extraSession('imap', `${ctx.sessionName ?? 'imap'}~cleanup`);
    const { root, delimiter } = await ws.layout();
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

    // Messages outside the run's tree: the recorded ones by UID, then a sweep for run mail never located.
    const recorded = ctx.record.messages();
    const outside: RecordedMessage[] = [];
    for (const m of recorded) if ((await ws.relative(m.mailbox)) === undefined) outside.push(m);
    const shared = await sharedMailboxes(ws, outside);
    // The recorded UIDs in the first sweep only; the polls for mail still in flight need just the header sweep.
    const sweep = async (withRecorded: boolean) => {
      for (const path of shared) {
        const known = withRecorded ? outside.filter((m) => m.mailbox === path).flatMap((m) => (m.uid === undefined ? [] : [m.uid])) : [];
        if (known.length > 0) await expungeOwn(ws, path, known, problems, attempt);
        await expungeOwn(ws, path, undefined, problems, attempt);
      }
    };
    await sweep(true);
    // Mail sent but not delivered yet would arrive after cleanup and stay: wait for it, bounded.
    const neverArrived = await sweepUntilArrived(ctx, () => sweep(false));

    // Folders: every recorded one, whatever LIST shows, and the run's root.
    const folders = ctx.record.folders();
    const toDelete = deepestFirst([...folders.filter((f) => f.delete).map((f) => f.path), ...(await listedRunFolders(ws))], delimiter);
    if (toDelete.length > 0 && !toDelete.includes(root)) toDelete.push(root);
    if (ws.session.selected) await attempt('leave the open mailbox', () => ws.open('INBOX', 'read'));
    /**
     * One UNSUBSCRIBE per name at most. It answers OK also when the name is not subscribed
     * (RFC 9051 §6.3.8), so a refusal is a problem to report, except for a folder about to be
     * deleted that may never have been subscribed: there the later check by name decides.
     */
    const unsubscribed = new Set<string>();
    const unsubscribe = async (path: string, refusal: 'problem' | 'ignore'): Promise<void> => {
      if (unsubscribed.has(path)) return;
      const done =
        refusal === 'problem'
          ? await attempt(`unsubscribe ${path}`, () => ws.session.unsubscribe(path))
          : await ws.session.unsubscribe(path).then(
              () => true,
              () => false,
            );
      if (done) unsubscribed.add(path);
    };
    // A subscription may outlive its folder (RFC 9051 §6.3.7): each folder loses it before it goes,
    // on this session, whatever another connection would list as subscribed.
    for (const path of toDelete) {
      await unsubscribe(path, 'ignore');
      await deleteFolder(ctx, ws, path, problems);
    }
    // Run mail still in the shared mailboxes, by its header (BODY.PEEK), whether recorded or not.
    const stillThere = new Map<string, string>();
    const ownIds = new Set(ctx.record.messageIds());
    for (const path of shared) {
      for (const m of await ws.ownMessages(path)) {
        if (ownIds.has(m.messageId)) stillThere.set(m.messageId, `still in '${path}' as UID ${m.uid} after cleanup`);
        // The run id is shared by every scenario of the run: this may be another scenario's.
        else ctx.addLeftover(`message ${m.messageId || '(no Message-ID)'} (X-Mailprobe-Run: ${ctx.runId}) is still in '${path}' as UID ${m.uid} after cleanup`);
      }
    }
    // The other subscriptions: every recorded one, and any under the run's root (ours by name),
    // which LIST no longer shows once the folder is gone.
    const raw = await ctx.session('imap-raw');
    const readSubscriptions = subscriptionReader(raw);
    const underRoot = await readSubscriptions(`${root}*`);
    if ('why' in underRoot) problems.push(`subscriptions under ${root}: ${underRoot.why}`);
    else for (const name of underRoot.names) if ((await ws.relative(name)) !== undefined) ctx.record.subscribed(name);
    const subscriptions = ctx.record.subscriptions();
    for (const path of subscriptions) {
      if ((await ws.relative(path)) === undefined) problems.push(`not unsubscribing '${path}': it is not under the run's root`);
      else await unsubscribe(path, 'problem');
    }
    await ws.session.logout();

    // Check each item by name, on another connection.
    const goneFolders = new Set<string>();
    for (const path of new Set([...toDelete, ...folders.map((f) => f.path)])) {
      const verdict = await folderGone(raw, path);
      if (verdict.gone) {
        goneFolders.add(path);
        ctx.record.confirmGone({ folder: path });
      } else ctx.record.remains({ folder: path }, verdict.why);
    }
    const goneSubscriptions = new Set<string>();
    for (const path of subscriptions) {
      const verdict = await subscriptionGone(raw, path, readSubscriptions);
      if (verdict.gone) {
        goneSubscriptions.add(path);
        ctx.record.confirmGone({ subscription: path });
      } else ctx.record.remains({ subscription: path }, verdict.why);
    }
    for (const m of recorded) {
      if ((await ws.relative(m.mailbox)) !== undefined) {
        if (!goneFolders.has(m.mailbox)) stillThere.set(m.messageId, `its folder '${m.mailbox}' is still there`);
        continue;
      }
      if (m.uid === undefined) continue;
      const verdict = await messageGone(raw, m.mailbox, m.uid);
      if (!verdict.gone) stillThere.set(m.messageId, verdict.why);
    }
    const located = new Set(recorded.map((m) => m.messageId));
    for (const id of ownIds) {
      const why = stillThere.get(id);
      if (why) ctx.record.remains({ messageId: id }, why);
      // Mail that was sent but never seen may still be on its way: that is not "gone".
      else if (located.has(id) || ctx.wasSeen(id)) ctx.record.confirmGone({ messageId: id });
    }
    return {
      folders_deleted: toDelete.filter((p) => goneFolders.has(p)).length,
      folders_remaining: toDelete.length - toDelete.filter((p) => goneFolders.has(p)).length,
      messages_remaining: stillThere.size,
      subscriptions_removed: goneSubscriptions.size,
      subscriptions_remaining: subscriptions.length - goneSubscriptions.size,
      never_arrived: neverArrived,
      problems,
    };
  },
});
