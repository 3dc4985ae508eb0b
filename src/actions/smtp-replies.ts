import type { SmtpExtensions, SmtpStepReply } from '../protocols/smtp/client.js';
import { SmtpReplyError } from '../protocols/smtp/errors.js';
import type { ActionContext } from './context.js';
import { everyMailbox } from './run-target.js';

/**
 * What the SMTP steps share: a reply as a step's output, what an EHLO reply
 * advertised, and the one rule that keeps SMTP steps safe on a real host:
 * mail only ever goes to the target's own accounts, whose mailboxes the run
 * can see and clean.
 */

/** A reply as expectations read it: `code`, the enhanced status code when the server uses them, and every line. */
export function replyOutput(reply: SmtpStepReply): { code: number; reply: string; lines: string[]; enhanced?: string } {
  return { code: reply.code, reply: reply.raw, lines: [...reply.lines], ...(reply.enhanced === undefined ? {} : { enhanced: reply.enhanced }) };
}

/** An EHLO reply's extensions, named as scenarios test them. */
export function extensionsOutput(extensions: SmtpExtensions) {
  return {
    keywords: [...extensions.keywords],
    auth: [...extensions.auth],
    starttls: extensions.starttls,
    size: extensions.size !== undefined,
    // null: SIZE without a fixed maximum (no number, or 0: RFC 1870 §4).
    size_limit: extensions.size?.limit ? extensions.size.limit : null,
    pipelining: extensions.pipelining,
    eight_bit_mime: extensions.eightBitMime,
    smtputf8: extensions.smtpUtf8,
    enhanced_status_codes: extensions.enhancedStatusCodes,
    dsn: extensions.dsn,
    chunking: extensions.chunking,
    requiretls: extensions.requireTls,
  };
}

/** The target's own account addresses, lower-cased: the only recipients mailprobe ever sends a message to. */
export function isAccountAddress(ctx: ActionContext, address: string): boolean {
  const wanted = address.toLowerCase();
  return everyMailbox(ctx.target).some((a) => a.address.toLowerCase() === wanted);
}

/** RFC 3461 §4.1: NOTIFY=NEVER where DSN is offered, so neither a failure nor a delay sends a bounce anywhere. */
export function noNotices(extensions: SmtpExtensions): string[] {
  return extensions.dsn ? ['NOTIFY=NEVER'] : [];
}

/**
 * Sends a message with `send`, which calls its `onSent` once the final "." is
 * out. From then on the server may have the message whatever happens to its
 * reply (a timeout, a drop, Ctrl-C), so cleanup must wait for it too: it is
 * recorded as sent to `recipients` unless the server refused it.
 */
export async function sendNoted<T>(
  ctx: ActionContext,
  message: { readonly messageId: string; readonly recipients: readonly string[] },
  send: (onSent: () => void) => Promise<T>,
): Promise<T> {
  let written = false;
  return send(() => (written = true)).catch((error: unknown) => {
    if (written && !(error instanceof SmtpReplyError)) ctx.noteSent(message);
    throw error;
  });
}
