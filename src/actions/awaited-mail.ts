import type { ActionContext } from './context.js';

/**
 * Cleanup can only delete what has arrived. A scenario that failed or was
 * interrupted right after sending may reach cleanup before the server has
 * delivered; such a message would arrive later and stay. So every message the
 * run finds is noted as seen (sessions report it), and cleanup waits, within
 * a bound, for each message sent to its account that was never seen, then
 * names the ones that never came.
 */
const MAX_WAIT_MS = 20_000;
const POLL_MS = 250;

/** Message-IDs this scenario sent to the session's account that no session has seen yet. */
export function unseenSentMail(ctx: ActionContext): string[] {
  const address = ctx.sessionAccount().address.toLowerCase();
  return ctx
    .sentMessages()
    .filter((m) => m.recipients.some((r) => r.toLowerCase() === address) && !ctx.wasSeen(m.messageId))
    .map((m) => m.messageId);
}

/** Repeats `sweep` (which deletes what it finds) until no sent message is unseen or the bound passes. */
export async function sweepUntilArrived(ctx: ActionContext, sweep: () => Promise<unknown>): Promise<string[]> {
  const limit = Math.min(ctx.target.timeouts.delivery, MAX_WAIT_MS);
  const deadline = Date.now() + limit;
  const waited = unseenSentMail(ctx).length > 0 ? ctx.waiting?.(`delivery to ${ctx.sessionAccount().user} before cleanup`, limit) : undefined;
  try {
    while (unseenSentMail(ctx).length > 0 && Date.now() < deadline && !ctx.signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      await sweep();
    }
  } finally {
    waited?.();
  }
  const missing = unseenSentMail(ctx);
  for (const id of missing) ctx.record.remains({ messageId: id }, 'accepted for delivery but had not arrived when cleanup ended; it may still arrive');
  return missing;
}

/**
 * Records how long a message took from the server's 250 to the mailbox, for
 * the report: `delivery_ms`, and `delivery_ms.<session>` so that a scenario
 * waiting on two devices (IMAP and POP3) keeps both numbers.
 */
export function recordDelivery(ctx: ActionContext, ms: number): void {
  ctx.setProperty('delivery_ms', String(ms));
  if (ctx.sessionName !== undefined) ctx.setProperty(`delivery_ms.${ctx.sessionName}`, String(ms));
}
