import { join } from 'node:path';
import { z } from 'zod';
import type { ActionContext } from './context.js';
import { DEFAULT_POLL_CAP_MS, pause, pollPauses, recordDelivery, sweepUntilArrived } from './awaited-mail.js';
import { defineAction } from './define-action.js';
import { saveCopy } from './saved-copy.js';

/**
 * POP3 commands that read or change messages. Each one first makes sure the
 * message is this run's own (see Pop3Session.assertOwn): RETR of another
 * message could mark it seen on servers that share flags with IMAP, and DELE of
 * another message would destroy real mail.
 */
/** Headers a delivery poll reads of messages the run has not looked at yet; the next poll goes deeper. */
const POLL_NEW_LOOKS = 8;

const msgParam = z.number().int().positive().describe('Message number in this session');

export const pop3Find = defineAction({
  name: 'pop3.find',
  summary: "Find this run's message by Message-ID, reading only headers (TOP n 0), newest first",
  protocol: 'pop3',
  params: z.strictObject({ message_id: z.string().min(3).describe('Message-ID of a message this run sent') }),
  async run(ctx: ActionContext, params) {
    const session = await ctx.session('pop3');
    const found = await session.findOwn(params.message_id);
    if (!found) return { found: false };
    const uid = await session.client.uidlOne(found.msg).then(
      (u) => u.uid,
      () => undefined,
    );
    return { found: true, msg: found.msg, size: found.size, ...(uid === undefined ? {} : { uid }) };
  },
});

export const pop3Top = defineAction({
  name: 'pop3.top',
  summary: "TOP msg lines: headers and the first lines of this run's message",
  protocol: 'pop3',
  params: z.strictObject({ msg: msgParam, lines: z.number().int().min(0).default(0) }),
  async run(ctx: ActionContext, params) {
    const session = await ctx.session('pop3');
    await session.assertOwn(params.msg);
    const raw = await session.client.top(params.msg, params.lines);
    return { raw, octets: raw.length };
  },
});

export const pop3Retr = defineAction({
  name: 'pop3.retr',
  summary: "RETR msg: download this run's message; `save` keeps the local copy under the reports folder",
  protocol: 'pop3',
  params: z.strictObject({
    msg: msgParam,
    save: z.boolean().default(false).describe('Write the local copy to disk and read it back as `saved`'),
  }),
  async run(ctx: ActionContext, params) {
    const session = await ctx.session('pop3');
    await session.assertOwn(params.msg);
    if (!params.save) {
      const raw = await session.client.retr(params.msg);
      return { raw, octets: raw.length };
    }
    // The promise is "a local copy is kept": check the copy on disk, not the bytes in memory.
    // A user's mail: a private file (0600 unless --report-mode says otherwise), folders created level by level.
    // Written piece by piece as RETR reads it (saved-copy.ts), so a 25 MB message is never held whole.
    const path = join(ctx.messageDir, `${session.name}-msg${params.msg}.eml`);
    let octets = 0;
    const copy = await saveCopy(path, async (write) => {
      ({ octets } = await session.client.retrTo(params.msg, write));
    });
    ctx.setProperty('saved_copy', path);
    const { saved, ...digest } = copy;
    // A small copy keeps the outputs it always had (raw and saved, for byte-for-byte checks).
    return { ...(saved ? { raw: saved, saved } : {}), octets, saved_path: path, ...digest };
  },
});

export const pop3Dele = defineAction({
  name: 'pop3.dele',
  plans: (p) => [{ kind: 'delete', what: `this run's message ${String(p.msg)} (at QUIT)` }],
  summary: "DELE msg: mark this run's message deleted (removed at QUIT)",
  protocol: 'pop3',
  params: z.strictObject({ msg: msgParam }),
  async run(ctx: ActionContext, params) {
    const session = await ctx.session('pop3');
    await session.assertOwn(params.msg);
    await session.client.dele(params.msg);
    return {};
  },
});

export const pop3WaitFor = defineAction({
  name: 'pop3.wait-for',
  summary: 'Poll the mailbox in fresh sessions, 25 ms apart at first and backing off to `interval_ms`, until a message arrives; records the delivery time',
  protocol: 'pop3',
  params: z.strictObject({
    message_id: z.string().min(3),
    sent_at: z.number().optional().describe('When the message was sent (smtp.send output sent_at), to measure delivery time'),
    timeout_ms: z.number().int().positive().optional().describe("Give up after this long (default: the target's delivery timeout)"),
    interval_ms: z
      .number()
      .int()
      .positive()
      .default(DEFAULT_POLL_CAP_MS)
      .describe('The longest pause between two polls: pauses start at 25 ms and grow by half to this'),
  }),
  async run(ctx: ActionContext, params) {
    const started = Date.now();
    const timeout = params.timeout_ms ?? ctx.target.timeouts.delivery;
    const pauses = pollPauses(params.interval_ms);
    let polls = 0;
    const waited = ctx.waiting?.(`delivery to ${ctx.sessionAccount().user}`, timeout);
    try {
      // POP3 shows the maildrop as it was at login (RFC 1939 §8), so each poll is a new session.
      for (;;) {
        polls++;
        const probe = await ctx.extraSession('pop3', `${ctx.sessionName ?? 'pop3'}~poll`);
        try {
          // Mail just delivered is appended: each poll reads a few messages it has not seen, newest first.
          const found = await probe.findOwn(params.message_id, { newLooks: POLL_NEW_LOOKS });
          if (found) {
            const deliveryMs = Date.now() - (params.sent_at ?? started);
            recordDelivery(ctx, deliveryMs);
            return { arrived: true, delivery_ms: deliveryMs, polls };
          }
        } finally {
          await probe.client.quit().catch(() => probe.client.drop());
        }
        if (Date.now() - started >= timeout || ctx.signal.aborted) {
          return { arrived: false, polls, waited_ms: Date.now() - started };
        }
        await pause(pauses.next().value, ctx.signal, started + timeout);
      }
    } finally {
      waited?.();
    }
  },
});

export const pop3Cleanup = defineAction({
  name: 'pop3.cleanup',
  plans: (_p, ctx) => [
    {
      kind: 'delete',
      what: `every message of this run that this scenario sent to or found in the session's mailbox (Message-ID ${ctx.messageIdPattern}), by Message-ID`,
    },
  ],
  cleansUp: true,
  summary: "Delete every message this scenario sent to or found in the session's mailbox, in a fresh session, and check each is gone",
  protocol: 'pop3',
  params: z.strictObject({}),
  async run(ctx: ActionContext) {
    const label = `${ctx.sessionName ?? 'pop3'}~cleanup`;
    // A Set: on a server that does not commit at QUIT, later sweeps find the same messages again.
    const deleted = new Set<string>();
    let lastSweepFound = 0;
    // Cleanup deletes what the record names (issue 7), each looked up by its Message-ID:
    // what the run has already read of the maildrop is not read again, so a big mailbox costs little.
    const sweep = async () => {
      const session = await ctx.extraSession('pop3', label);
      const found: string[] = [];
      for (const id of ctx.record.messageIds()) {
        // Mail not seen yet may still be on its way: looked for as a delivery poll does, newest first.
        const hit = await session.findOwn(id, ctx.wasSeen(id) ? {} : { newLooks: POLL_NEW_LOOKS });
        if (hit === undefined) continue;
        await session.client.dele(hit.msg);
        found.push(id);
      }
      await session.client.quit();
      lastSweepFound = found.length;
      for (const id of found) deleted.add(id);
    };
    await sweep();
    const notYetArrived = await sweepUntilArrived(ctx, sweep);
    // A sweep that found nothing has already searched for every seen message; else
    // trust, then verify: a server that does not commit at QUIT would leave them behind.
    const remaining: string[] = [];
    if (lastSweepFound > 0) {
      const check = await ctx.extraSession('pop3', `${label}-check`);
      try {
        for (const id of ctx.record.messageIds()) if (ctx.wasSeen(id) && (await check.findOwn(id))) remaining.push(id);
      } finally {
        await check.client.quit().catch(() => check.client.drop());
      }
    }
    for (const id of ctx.record.messageIds()) {
      if (remaining.includes(id)) ctx.record.remains({ messageId: id }, 'still in the POP3 mailbox after cleanup');
      else if (ctx.wasSeen(id)) ctx.record.confirmGone({ messageId: id });
    }
    return {
      deleted: deleted.size - remaining.filter((id) => deleted.has(id)).length,
      message_ids: [...deleted],
      remaining: remaining.length,
      never_arrived: notYetArrived,
    };
  },
});

export const pop3Observe = defineAction({
  name: 'pop3.observe',
  summary:
    "Look at the maildrop in a separate short session: is this run's message (found by its headers, TOP n 0) still there? A maildrop lock ([IN-USE], RFC 1939 §4, RFC 2449 §8) is reported, not failed",
  protocol: 'pop3',
  params: z.strictObject({ message_id: z.string().min(3).describe('Message-ID of a message this run sent') }),
  async run(ctx: ActionContext, params) {
    let session;
    try {
      session = await ctx.extraSession('pop3', `${ctx.sessionName ?? 'pop3'}~observe`, { retryInUse: false });
    } catch (err) {
      // A server that locks the maildrop while another session is in TRANSACTION state
      // is doing what RFC 1939 §4 describes; there is then nothing to observe.
      if (isInUse(err)) return { locked: true, present: 'locked' };
      throw err;
    }
    try {
      // By headers, not by UIDL: a server whose UIDL drifts between sessions is judged by
      // pop3/uidl-stable alone, and must not also look as if it had lost the message here.
      const found = await session.findOwn(params.message_id);
      return { locked: false, present: found !== undefined };
    } finally {
      await session.client.quit().catch(() => session.client.drop());
    }
  },
});

function isInUse(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { responseCode?: string }).responseCode?.toUpperCase() === 'IN-USE';
}
