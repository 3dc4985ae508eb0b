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
/** Cleanup's sweeps back off to this: a sweep is a full session on POP3, and cleanup is not timed. */
const SWEEP_CAP_MS = 250;

/**
 * The first pause of a delivery poll. On the lab a message reaches the maildir some 20-150 ms after the
 * 250 to DATA, and a POP3 poll (login, STAT, UIDL, TOP, QUIT) takes about 10-20 ms there: starting at
 * 25 ms and growing by half each time, the first five polls cover the first ~330 ms at a lag below 100 ms.
 */
export const FIRST_POLL_MS = 25;
/** Each pause is this times the last, up to the caller's cap. */
const POLL_GROWTH = 1.5;
/**
 * The default cap (a wait's `interval_ms`): once mail is late, at most two polls a second. A POP3 poll is a
 * login, so a slow delivery on a real host costs two logins a second, not the ten of a fixed 100 ms poll.
 */
export const DEFAULT_POLL_CAP_MS = 500;

/** The pauses of a poll that backs off: FIRST_POLL_MS, then ×1.5 each time, never above `capMs`. */
export function* pollPauses(capMs: number): Generator<number, never> {
  let pause = Math.min(FIRST_POLL_MS, capMs);
  for (;;) {
    yield pause;
    pause = Math.min(capMs, Math.ceil(pause * POLL_GROWTH));
  }
}

/** Sleeps `ms`, or less when `signal` aborts (Ctrl-C ends a wait at once) or the deadline comes first. */
export function pause(ms: number, signal: AbortSignal, deadline = Infinity): Promise<void> {
  const wait = Math.max(0, Math.min(ms, deadline - Date.now()));
  if (signal.aborted || wait === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, wait);
    signal.addEventListener('abort', done, { once: true });
  });
}

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
  const pauses = pollPauses(SWEEP_CAP_MS);
  try {
    while (unseenSentMail(ctx).length > 0 && Date.now() < deadline && !ctx.signal.aborted) {
      await pause(pauses.next().value, ctx.signal, deadline);
      if (ctx.signal.aborted) break;
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
