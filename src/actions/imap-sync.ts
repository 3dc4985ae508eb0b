import { z } from 'zod';
import type { ActionContext } from './context.js';
import { DEFAULT_POLL_CAP_MS, pause, pollPauses, recordDelivery } from './awaited-mail.js';
import { defineAction } from './define-action.js';
import { mailboxParam, resolveMailbox } from './imap-mailbox.js';
import type { ImapWorkspace } from '../protocols/imap/workspace.js';
import type { Notifications } from '../protocols/imap/session.js';

/**
 * What another device learns without asking: NOOP results, IDLE pushes, and
 * waiting for a delivery to show up.
 */
export const imapNoop = defineAction({
  name: 'imap.noop',
  summary:
    'NOOP on a mailbox (selected first if needed); returns the EXISTS, EXPUNGE and FETCH FLAGS updates the server sent since the last look, and with `uid` the flags it announced for that message',
  protocol: 'imap',
  params: z.strictObject({
    mailbox: mailboxParam.optional(),
    uid: z.number().int().positive().optional().describe('A message whose unsolicited FETCH (flag change made elsewhere) to report as fetched / fetched_flags'),
  }),
  async run(ctx: ActionContext, params) {
    const ws = await ctx.session('imap');
    const { session } = ws;
    if (params.mailbox !== undefined) {
      const box = await resolveMailbox(ws, params.mailbox);
      if (session.selected?.path !== box.path) {
        await ws.open(box.path, 'read');
        session.drain();
      }
    }
    await session.noop();
    const seen = session.drain();
    const mailbox = session.selected;
    return {
      exists: mailbox ? mailbox.exists : undefined,
      exists_updates: seen.exists.map((e) => e.count),
      expunge_count: seen.expunge.length,
      expunged_seqs: seen.expunge.map((e) => e.seq).filter((n) => n !== undefined),
      flag_updates: seen.flags.map((f) => ({ uid: f.uid, seq: f.seq, flags: f.flags.sort(), ...(f.modseq ? { modseq: f.modseq } : {}) })),
      flagged_uids: seen.flags.filter((f) => f.flags.includes('\\Flagged')).map((f) => f.uid),
      seen_uids: seen.flags.filter((f) => f.flags.includes('\\Seen')).map((f) => f.uid),
      ...(params.uid !== undefined ? await unsolicitedFetchOf(ws, params.uid, seen.flags) : {}),
    };
  },
});

/**
 * The flags the server announced, unasked, for one message (RFC 9051 §5.2: a
 * server SHOULD send flag updates without being asked). A FETCH without UID
 * names the message by sequence number, looked up after the NOOP so that no
 * command of ours comes between the change and the NOOP that should carry it.
 */
async function unsolicitedFetchOf(ws: ImapWorkspace, uid: number, updates: Notifications['flags']): Promise<{ fetched: boolean; fetched_flags?: string[] }> {
  let mine = updates.filter((f) => f.uid === uid);
  if (mine.length === 0 && updates.some((f) => f.uid === undefined)) {
    const found = await ws.session.fetchSeq(uid);
    mine = updates.filter((f) => f.uid === undefined && f.seq === found?.seq);
  }
  const last = mine.at(-1);
  return last ? { fetched: true, fetched_flags: [...last.flags].sort() } : { fetched: false };
}

export const imapIdleStart = defineAction({
  name: 'imap.idle-start',
  summary: 'SELECT a mailbox and start IDLE (RFC 2177); later steps run while this session idles',
  protocol: 'imap',
  params: z.strictObject({ mailbox: mailboxParam.default('INBOX') }),
  async run(ctx: ActionContext, params) {
    const ws = await ctx.session('imap');
    const box = await resolveMailbox(ws, params.mailbox);
    await ws.open(box.path, 'read');
    ws.session.drain();
    const started = ws.session.startIdle();
    return { path: box.path, started_at: started };
  },
});

export const imapIdleWait = defineAction({
  name: 'imap.idle-wait',
  summary:
    "Wait, while IDLE, for the server to push an EXISTS for this run's message; records the push latency, and when the EXISTS comes only after DONE, says so and when",
  protocol: 'imap',
  params: z.strictObject({
    since: z.number().describe('When the change was made (e.g. smtp.send output sent_at), ms since the epoch'),
    message_id: z.string().min(3).describe('The message whose arrival must be pushed; other mail arriving meanwhile does not count'),
    timeout_ms: z.number().int().positive().optional().describe("How long to wait (default: the target's timeouts.push)"),
  }),
  async run(ctx: ActionContext, params) {
    const ws = await ctx.session('imap');
    const timeout = params.timeout_ms ?? ctx.target.timeouts.push;
    const started = Date.now();
    const deadline = started + timeout;
    const path = ws.session.selected?.path ?? 'INBOX';
    const isOurs = async () => (await ws.ownUids(path, params.message_id)).length > 0;
    /** Records when the EXISTS for our message came, and how: the report carries it whatever the verdict. */
    const arrived = (at: number, how: string) => {
      const latency = at - params.since;
      ctx.setProperty('idle_push_latency_ms', String(latency));
      ctx.setProperty('idle_push_arrived', how);
      return latency;
    };
    let from = params.since;
    let others = 0;
    const waited = ctx.waiting?.(`an IDLE push of the new message in ${path}`, timeout);
    for (;;) {
      const hit = await ws.session.waitForExists(from, Math.max(0, deadline - Date.now()), ctx.signal).finally(() => waited?.());
      await ws.session.stopIdle();
      if (!hit) break;
      // On a live INBOX somebody else's mail may be what was pushed: only ours counts.
      if (await isOurs()) {
        const latency = arrived(hit.at, 'during IDLE');
        return { pushed: true, arrived: 'during IDLE', latency_ms: latency, exists: hit.count, bound_ms: timeout, other_pushes: others };
      }
      others++;
      from = hit.at + 1;
      if (Date.now() >= deadline) break;
      ws.session.startIdle();
    }
    // Cut short (Ctrl-C, or the connection gone): the time reported is the time waited, not the bound.
    if (ctx.signal.aborted || ws.session.closed)
      return { pushed: false, arrived: null, waited_ms: Date.now() - started, bound_ms: timeout, other_pushes: others };
    // Not pushed in time. A server may still send the EXISTS once the IDLE ends (held until the
    // next command, or found by a periodic mailbox check): stopIdle's DONE and NOOP have been
    // answered by now, so whatever came with them is in the notifications.
    const late = await ws.session.waitForExists(from, 0);
    const delivered = await isOurs();
    if (late && delivered) {
      const how = 'after DONE, with the command that ended the IDLE';
      const latency = arrived(late.at, how);
      return { pushed: false, arrived: how, latency_ms: latency, exists: late.count, bound_ms: timeout, other_pushes: others, delivered };
    }
    ctx.setProperty(
      'idle_push_arrived',
      delivered ? 'no EXISTS, not even after DONE, though the message is in the mailbox' : 'not delivered within the push bound',
    );
    return { pushed: false, arrived: null, waited_ms: Date.now() - started, bound_ms: timeout, other_pushes: others, delivered };
  },
});

export const imapWaitFor = defineAction({
  name: 'imap.wait-for',
  summary:
    "Wait until this run's message is in a mailbox: looks (NOOP + UID SEARCH by Message-ID) backing off from 25 ms to `interval_ms`, each pause spent in IDLE (RFC 2177) when the server announces it so that a push ends it at once; records the delivery time",
  protocol: 'imap',
  params: z.strictObject({
    mailbox: mailboxParam.default('INBOX'),
    message_id: z.string().min(3),
    sent_at: z.number().optional(),
    timeout_ms: z.number().int().positive().optional(),
    interval_ms: z
      .number()
      .int()
      .positive()
      .default(DEFAULT_POLL_CAP_MS)
      .describe('The longest pause between two looks (pauses start at 25 ms and grow by half); a push during IDLE ends a pause early'),
  }),
  async run(ctx: ActionContext, params) {
    const ws = await ctx.session('imap');
    const box = await resolveMailbox(ws, params.mailbox);
    const started = Date.now();
    const timeout = params.timeout_ms ?? ctx.target.timeouts.delivery;
    const deadline = started + timeout;
    // A wait only uses IDLE: it never judges it (imap.idle-wait does, in suites/imap/idle-push.yaml).
    const idle = ws.session.has('IDLE');
    const pauses = pollPauses(params.interval_ms);
    const waited = ctx.waiting?.(`delivery to ${ctx.sessionAccount().user}`, timeout);
    /** EXISTS updates that ended a pause early (pushed in IDLE, or answered to the look just before it). */
    let early = 0;
    try {
      for (let polls = 1; ; polls++) {
        // Taken before the look, so that an EXISTS answered with the look's own commands ends the next IDLE at once.
        const lookedAt = Date.now();
        const uids = await ws.ownUids(box.path, params.message_id);
        if (uids.length > 0) {
          const delivery = Date.now() - (params.sent_at ?? started);
          recordDelivery(ctx, delivery);
          return { arrived: true, uid: uids.at(-1), delivery_ms: delivery, polls, idle, early_wakeups: early };
        }
        if (Date.now() >= deadline || ctx.signal.aborted || ws.session.closed)
          return { arrived: false, polls, waited_ms: Date.now() - started, idle, early_wakeups: early };
        const wait = pauses.next().value;
        if (!idle) {
          await pause(wait, ctx.signal, deadline);
          continue;
        }
        // Each pause of the poll is spent in IDLE: a server that pushes ends it at the EXISTS, one that
        // announces IDLE but never pushes costs no more lag than polling would.
        ws.session.startIdle();
        const hit = await ws.session.waitForExists(lookedAt, Math.max(0, Math.min(wait, deadline - Date.now())), ctx.signal);
        await ws.session.stopIdle();
        if (hit) early++;
      }
    } finally {
      waited?.();
    }
  },
});
