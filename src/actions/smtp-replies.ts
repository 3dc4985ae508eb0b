import type { SmtpExtensions, SmtpStepReply } from '../protocols/smtp/client.js';
import { SmtpProtocolError, SmtpReplyError } from '../protocols/smtp/errors.js';
import type { ActionContext } from './context.js';

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

/**
 * The reply unless it is a refusal or a code the command cannot have: a 4yz
 * is "not now" (inconclusive), a 5yz the server's judged "no", another class
 * a failed check (RFC 5321 §4.3.2 lists what each command may answer).
 */
export function expectClass(reply: SmtpStepReply, expected: 2 | 3): SmtpStepReply {
  const got = Math.floor(reply.code / 100);
  if (got === expected) return reply;
  if (got >= 4) throw new SmtpReplyError(reply.code, reply.raw, reply.command);
  throw new SmtpProtocolError(
    'ESMTP_UNEXPECTED',
    `${reply.command} was answered ${reply.code}, a code it cannot have (a ${expected}yz reply was due): ${JSON.stringify(reply.lines[0] ?? '')}`,
    reply.command,
    'RFC 5321 §4.3.2',
  );
}

/** The target's own account addresses, lower-cased: the only recipients mailprobe ever sends a message to. */
export function isAccountAddress(ctx: ActionContext, address: string): boolean {
  const wanted = address.toLowerCase();
  return Object.values(ctx.target.accounts).some((a) => a.address.toLowerCase() === wanted);
}
