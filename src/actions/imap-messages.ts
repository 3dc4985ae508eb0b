import { join } from 'node:path';
import { z } from 'zod';
import { composeMessage } from '../protocols/smtp/compose.js';
import type { ImapWorkspace } from '../protocols/imap/workspace.js';
import { RequirementFailure, RunProblem } from '../protocols/outcomes.js';
import type { ActionContext } from './context.js';
import { defineAction } from './define-action.js';
import { saveCopy } from './saved-copy.js';
import { mailboxParam, resolveMailbox, type ResolvedMailbox } from './imap-mailbox.js';
import { isRunMessage, messageIdIn } from '../core/run-identity.js';

/**
 * Message actions. Outside the run's own folders they touch only messages
 * whose X-Mailprobe-Run header (read with BODY.PEEK) names this run, and they
 * read with BODY.PEEK so nothing they look at becomes \Seen.
 */
const uidParam = z.number().int().positive().describe('UID of a message this run created');
const flagList = z.array(z.string().regex(/^\\?[A-Za-z$][\w$-]*$/)).describe('Flags such as \\Seen, \\Flagged, \\Draft, $Label');

/** The mailbox opened, and (outside the run's folders) the message confirmed as this run's, with its Message-ID. */
async function openOwned(
  ctx: ActionContext,
  mailbox: string,
  mode: 'read' | 'write',
  uid?: number,
): Promise<{ ws: ImapWorkspace; box: ResolvedMailbox; messageId?: string }> {
  const ws = await ctx.session('imap');
  const box = await resolveMailbox(ws, mailbox);
  await ws.open(box.path, mode);
  if (uid === undefined || box.kind === 'run') return { ws, box };
  return { ws, box, ...(await ws.assertOwnMessage(box.path, uid)) };
}

async function flagsOf(ws: ImapWorkspace, uid: number): Promise<{ flags: string[]; seq?: number; modseq?: string }> {
  const message = await ws.session.fetchFlags(uid);
  if (!message) return { flags: [] };
  return { flags: [...message.flags].sort(), seq: message.seq, ...(message.modseq !== undefined ? { modseq: message.modseq } : {}) };
}

export const imapAppend = defineAction({
  name: 'imap.append',
  plans: (p, ctx) => {
    const flags = Array.isArray(p.flags) && p.flags.length > 0 ? ` flags ${p.flags.join(' ')}` : '';
    const body =
      p.copy_of !== undefined ? `a copy of ${String(p.copy_of)}` : `a message with subject "${String(p.subject ?? '')}", Message-ID ${ctx.messageIdPattern}`;
    return [{ kind: 'create', what: `${body} in ${String(p.mailbox)}${flags}` }];
  },
  leavesMail: true,
  summary: 'APPEND a message tagged with the run id (e.g. a draft with \\Draft); reports APPENDUID when UIDPLUS gives it',
  protocol: 'imap',
  params: z.strictObject({
    mailbox: mailboxParam,
    flags: flagList.default([]),
    account: z.string().describe('Account role the message is from'),
    to: z.array(z.string()).default([]),
    subject: z.string().default('mailprobe test message'),
    text: z.string().default('This message was made by mailprobe and will be deleted by it.\n'),
    copy_of: z.unknown().optional().describe('Append exactly these bytes (e.g. ${captures.sent.raw}, a message this run sent) instead of a new message'),
  }),
  async run(ctx: ActionContext, params) {
    const ws = await ctx.session('imap');
    const box = await resolveMailbox(ws, params.mailbox);
    const account = ctx.account(params.account);
    const message =
      params.copy_of !== undefined
        ? ownCopy(params.copy_of, ctx.runId)
        : await composeMessage({
            runId: ctx.runId,
            from: account.address,
            to: params.to.length > 0 ? params.to : [account.address],
            subject: params.subject,
            text: params.text,
          });
    // Recorded before it is sent, and again with its UID once APPENDUID (RFC 4315 §3) names it.
    ctx.record.message({ mailbox: box.path, messageId: message.messageId });
    const result = await ws.session.append(box.path, message.raw, params.flags);
    if (result.uid !== undefined) {
      ctx.record.message({ mailbox: box.path, uid: result.uid, messageId: message.messageId });
      await confirmAppendUid(ws, box.path, message.messageId, result.uid);
    }
    if (box.foundBy) ctx.setProperty(`mailbox.${params.mailbox}`, `${box.path} (found by ${box.foundBy})`);
    return {
      path: box.path,
      message_id: message.messageId,
      raw: message.raw,
      size: message.raw.length,
      appenduid: result.uid !== undefined,
      ...(result.uid !== undefined ? { uid: result.uid } : {}),
      ...(result.uidValidity !== undefined ? { uidvalidity: result.uidValidity } : {}),
      ...(box.foundBy ? { found_by: box.foundBy } : {}),
    };
  },
});

/**
 * Every later step finds the message by the UID APPENDUID named, so a wrong one
 * would surface as some unrelated check failing. Looked up by Message-ID (and
 * confirmed by its run header) in the same session, it must be that UID. A
 * message this session cannot find at all is left to the scenario's own check
 * that the append took effect, which names that cause.
 */
async function confirmAppendUid(ws: ImapWorkspace, mailbox: string, messageId: string, uid: number): Promise<void> {
  const found = (await ws.ownMessages(mailbox, messageId)).map((m) => m.uid);
  if (found.length === 0 || found.includes(uid)) return;
  throw new RequirementFailure({
    description: 'APPENDUID names the UID the appended message got',
    passed: false,
    expected: `APPENDUID with UID ${found.join(' or ')}`,
    actual: `APPENDUID with UID ${uid}`,
    rfc: 'RFC 4315 §3: APPENDUID names the UIDVALIDITY of the destination mailbox and the UID assigned to the appended message',
  });
}

/** A message this run already made (its bytes must carry the run header), to append as it is. */
function ownCopy(value: unknown, runId: string): { messageId: string; raw: Buffer } {
  if (!Buffer.isBuffer(value)) throw new RunProblem('EINVALID_PARAMS', 'copy_of must be message bytes, e.g. "${captures.sent.raw}"');
  const text = value.toString('latin1');
  if (!isRunMessage(text, runId)) {
    throw new RunProblem('ENOT_OWN_MESSAGE', 'copy_of must be a message this run created (it carries no X-Mailprobe-Run header of this run)');
  }
  return { messageId: messageIdIn(text) ?? '', raw: value };
}

export const imapFind = defineAction({
  name: 'imap.find',
  summary: "Find this run's messages with a Message-ID in a mailbox (UID SEARCH HEADER; reads nothing)",
  protocol: 'imap',
  params: z.strictObject({ mailbox: mailboxParam, message_id: z.string().min(3) }),
  async run(ctx: ActionContext, params) {
    const ws = await ctx.session('imap');
    const box = await resolveMailbox(ws, params.mailbox);
    const uids = await ws.ownUids(box.path, params.message_id);
    const last = uids.at(-1);
    const flags = last === undefined ? undefined : await flagsOf(ws, last);
    return { found: uids.length > 0, count: uids.length, uids, path: box.path, ...(last !== undefined ? { uid: last, ...flags } : {}) };
  },
});

export const imapCount = defineAction({
  name: 'imap.count',
  summary: "Count this run's messages in a mailbox (UID SEARCH HEADER X-Mailprobe-Run)",
  protocol: 'imap',
  params: z.strictObject({ mailbox: mailboxParam }),
  async run(ctx: ActionContext, params) {
    const ws = await ctx.session('imap');
    const box = await resolveMailbox(ws, params.mailbox);
    const uids = await ws.ownUids(box.path);
    return { count: uids.length, uids, path: box.path };
  },
});

export const imapFetch = defineAction({
  name: 'imap.fetch',
  summary: "UID FETCH a message's bytes and flags with BODY.PEEK[] (never sets \\Seen)",
  protocol: 'imap',
  params: z.strictObject({
    mailbox: mailboxParam,
    uid: uidParam,
    save: z
      .boolean()
      .default(false)
      .describe('Write the local copy to disk as it is read, in partial fetches (BODY.PEEK[]<offset.length>), and check it there'),
  }),
  async run(ctx: ActionContext, params) {
    const { ws } = await openOwned(ctx, params.mailbox, 'read', params.uid);
    if (params.save) return fetchToDisk(ctx, ws, params.uid);
    const message = await ws.session.fetchSource(params.uid);
    if (!message) return { found: false };
    const raw = message.source;
    const id = messageIdIn(raw.toString('latin1'));
    return { found: true, raw, size: raw.length, flags: [...message.flags].sort(), ...(id ? { message_id: id } : {}) };
  },
});

/** imap.fetch with `save`: the copy goes to disk piece by piece (saved-copy.ts); a small one is read back as `raw` and `saved`. */
async function fetchToDisk(ctx: ActionContext, ws: ImapWorkspace, uid: number) {
  const path = join(ctx.messageDir, `${ws.session.name}-uid${uid}.eml`);
  let fetched: Awaited<ReturnType<ImapWorkspace['session']['fetchSourceTo']>>;
  let head: Buffer | undefined;
  const copy = await saveCopy(path, async (write) => {
    fetched = await ws.session.fetchSourceTo(uid, async (piece) => {
      // The first piece holds the header block (or most of it): enough for the Message-ID.
      head ??= Buffer.from(piece.subarray(0, 64 * 1024));
      await write(piece);
    });
  });
  if (fetched === undefined) return { found: false };
  ctx.setProperty('saved_copy', path);
  const id = head ? messageIdIn(head.toString('latin1')) : undefined;
  const { saved, ...digest } = copy;
  return {
    found: true,
    ...(saved ? { raw: saved, saved } : {}),
    size: fetched.octets,
    rfc822_size: fetched.size,
    pieces: fetched.pieces,
    flags: [...fetched.flags].sort(),
    ...(id ? { message_id: id } : {}),
    saved_path: path,
    ...digest,
  };
}

export const imapFlags = defineAction({
  name: 'imap.flags',
  summary: 'Add and/or remove flags on a message (UID STORE), then read its flags back',
  protocol: 'imap',
  params: z.strictObject({ mailbox: mailboxParam, uid: uidParam, add: flagList.default([]), remove: flagList.default([]) }),
  async run(ctx: ActionContext, params) {
    const { ws } = await openOwned(ctx, params.mailbox, 'write', params.uid);
    if (params.add.length > 0) await ws.session.addFlags(params.uid, params.add);
    if (params.remove.length > 0) await ws.session.removeFlags(params.uid, params.remove);
    return await flagsOf(ws, params.uid);
  },
});

export const imapFlagsOf = defineAction({
  name: 'imap.flags-of',
  summary: "UID FETCH a message's FLAGS (and MODSEQ with CONDSTORE)",
  protocol: 'imap',
  params: z.strictObject({ mailbox: mailboxParam, uid: uidParam }),
  async run(ctx: ActionContext, params) {
    const { ws } = await openOwned(ctx, params.mailbox, 'read');
    return await flagsOf(ws, params.uid);
  },
});

export const imapMove = defineAction({
  name: 'imap.move',
  plans: (p) => [{ kind: 'change', what: `move this run's message UID ${String(p.uid)} from ${String(p.mailbox)} to ${String(p.to)}` }],
  summary: 'UID MOVE a message to another mailbox (RFC 6851); never emulated with COPY + EXPUNGE',
  protocol: 'imap',
  params: z.strictObject({ mailbox: mailboxParam, uid: uidParam, to: mailboxParam }),
  async run(ctx: ActionContext, params) {
    const { ws, box, messageId: confirmedId } = await openOwned(ctx, params.mailbox, 'write', params.uid);
    if (!ws.session.has('MOVE')) {
      // imapflow would quietly emulate MOVE; a conformance tool must not. Scenarios list MOVE in requires.
      throw new RunProblem('EMOVE_MISSING', 'the server does not announce MOVE; add MOVE to the requires.capabilities.imap of the scenario or of this step');
    }
    const destination = await resolveMailbox(ws, params.to);
    const messageId = confirmedId ?? (await ws.runHeaders(box.path, [params.uid])).get(params.uid)?.messageId ?? '';
    const result = await ws.session.move(params.uid, destination.path);
    const newUid = result.uidMap?.get(params.uid);
    // COPYUID (RFC 4315 §3) names the new UID; without it, finding it by Message-ID records it.
    if (newUid !== undefined) ctx.record.message({ mailbox: destination.path, uid: newUid, messageId });
    else if (messageId) await ws.ownUids(destination.path, messageId);
    // `source` and `destination` as the scenario named them, for later steps that look there.
    return { from: box.path, path: destination.path, source: params.mailbox, destination: params.to, ...(newUid !== undefined ? { uid: newUid } : {}) };
  },
});

export const imapExpunge = defineAction({
  name: 'imap.expunge',
  summary: 'Remove one message: \\Deleted, then UID EXPUNGE (UIDPLUS); plain EXPUNGE only inside run folders. `gone` says whether this session still finds it',
  protocol: 'imap',
  params: z.strictObject({ mailbox: mailboxParam, uid: uidParam }),
  async run(ctx: ActionContext, params) {
    const { ws, box } = await openOwned(ctx, params.mailbox, 'write', params.uid);
    if (box.kind !== 'run' && !ws.session.has('UIDPLUS')) {
      // A plain EXPUNGE would also remove other \Deleted messages in a shared mailbox.
      throw new RunProblem(
        'EUNSAFE_EXPUNGE',
        `cannot remove one message from ${box.path} safely without UIDPLUS (a plain EXPUNGE removes every \\Deleted message)`,
      );
    }
    await ws.session.expunge([params.uid]);
    // The acting device's own view first: a STORE the server ignored leaves the message here too.
    const left = await ws.session.searchUid(params.uid);
    return { path: box.path, gone: !left.includes(params.uid) };
  },
});

export const imapSelect = defineAction({
  name: 'imap.select',
  summary:
    'SELECT a mailbox afresh (EXAMINE outside the run folders): EXISTS, UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ (each absent when the server did not send it)',
  protocol: 'imap',
  params: z.strictObject({ mailbox: mailboxParam }),
  async run(ctx: ActionContext, params) {
    const ws = await ctx.session('imap');
    const box = await resolveMailbox(ws, params.mailbox);
    const readOnly = box.kind !== 'run';
    const info = await ws.session.open(box.path, readOnly);
    // An item the server did not send stays absent, so that a scenario's `exists` check reports it.
    return {
      path: box.path,
      exists: info.exists,
      ...(info.uidValidity !== undefined ? { uidvalidity: info.uidValidity } : {}),
      ...(info.uidNext !== undefined ? { uidnext: info.uidNext } : {}),
      ...(info.highestModseq !== undefined ? { highestmodseq: info.highestModseq } : {}),
    };
  },
});
