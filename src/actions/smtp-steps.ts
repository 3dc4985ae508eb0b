import { z } from 'zod';
import { RunProblem, SkipScenario } from '../protocols/outcomes.js';
import { CLIENT_NAME, type SmtpAuthMechanism, type SmtpStepReply } from '../protocols/smtp/client.js';
import { composeMessage } from '../protocols/smtp/compose.js';
import { SmtpTransportError } from '../protocols/smtp/errors.js';
import type { SmtpSession } from '../protocols/smtp/session.js';
import type { ActionContext } from './context.js';
import { defineAction } from './define-action.js';
import { expectClass, extensionsOutput, isAccountAddress, replyOutput } from './smtp-replies.js';

/**
 * SMTP one command at a time, on a named session (src/protocols/smtp/session.ts),
 * so a scenario can judge each reply: EHLO, AUTH, MAIL, RCPT, DATA, RSET, NOOP,
 * QUIT. A 4yz is inconclusive with the server's words, a 5yz is the server's
 * "no" for the step's expectations (an unexpected one fails the step).
 *
 * Two rules keep a real host safe whatever a scenario says:
 * - a RCPT the server accepts for an address that is no account of the target
 *   (the relay check's foreign domain, an unknown local user) is followed by
 *   RSET at once: no data can follow it, so nothing is ever relayed or lost;
 * - a MAIL accepted with a declared SIZE over the advertised limit is RSET at
 *   once too: the oversized message is never sent.
 */

const none = z.strictObject({});

async function smtp(ctx: ActionContext): Promise<SmtpSession> {
  return ctx.session('smtp');
}

export const smtpEhlo = defineAction({
  name: 'smtp.ehlo',
  summary: 'EHLO (RFC 5321 §4.1.1.1): what the server advertises now (keywords, AUTH mechanisms, SIZE, PIPELINING, 8BITMIME, SMTPUTF8, …)',
  protocol: 'smtp',
  params: z.strictObject({ name: z.string().min(1).default(CLIENT_NAME).describe('The name the client gives (a domain or address literal)') }),
  async run(ctx: ActionContext, params) {
    const session = await smtp(ctx);
    const reply = await session.client.ehlo(params.name, { strict: true });
    // RFC 5321 §4.1.4: EHLO resets the state as RSET does.
    session.ended();
    return { ...replyOutput(reply), ...extensionsOutput(session.client.advertised), secure: session.client.secure };
  },
});

export const smtpAuth = defineAction({
  name: 'smtp.auth',
  summary: "AUTH (RFC 4954) as the session's account, with PLAIN or LOGIN: 235 is logged in; refused credentials could not run",
  protocol: 'smtp',
  params: z.strictObject({
    mechanism: z.enum(['PLAIN', 'LOGIN']).optional().describe('SASL mechanism (default PLAIN when advertised, else LOGIN)'),
  }),
  async run(ctx: ActionContext, params) {
    const session = await smtp(ctx);
    const account = ctx.sessionAccount();
    const offered = session.client.authMechanisms;
    const mechanism: SmtpAuthMechanism = params.mechanism ?? (offered.includes('PLAIN') || !offered.includes('LOGIN') ? 'PLAIN' : 'LOGIN');
    const reply = await session.client.auth(mechanism, account.user, ctx.password(account.role));
    // 535 (RFC 4954 §6: authentication credentials invalid): the target's account is wrong; the check could not run.
    if (reply.code === 535) throw new SmtpTransportError('EAUTH', `login failed: ${reply.raw}`, 'auth');
    expectClass(reply, 2);
    session.loggedIn();
    return { ...replyOutput(reply), mechanism, logged_in: true };
  },
});

export const smtpMail = defineAction({
  name: 'smtp.mail',
  summary: 'MAIL FROM (RFC 5321 §4.1.1.2), with SIZE= (RFC 1870), BODY= (RFC 6152) or SMTPUTF8 (RFC 6531) as asked',
  protocol: 'smtp',
  params: z.strictObject({
    from: z.string().optional().describe('Reverse-path (default: the session account\'s address; "" for the null path)'),
    size: z
      .union([z.number().int().nonnegative(), z.literal('over-limit')])
      .optional()
      .describe('SIZE= to declare; over-limit: one octet over the limit the last EHLO advertised (the scenario is skipped when there is none)'),
    body: z.enum(['7BIT', '8BITMIME']).optional().describe('BODY= parameter'),
    smtputf8: z.boolean().default(false).describe('Add the SMTPUTF8 parameter'),
  }),
  async run(ctx: ActionContext, params) {
    const session = await smtp(ctx);
    const from = params.from ?? ctx.sessionAccount().address;
    const limit = params.size === 'over-limit' ? advertisedLimit(session) : undefined;
    const declared = limit === undefined ? params.size : limit + 1;
    const mailParams = [
      ...(declared === undefined ? [] : [`SIZE=${declared}`]),
      ...(params.body ? [`BODY=${params.body}`] : []),
      ...(params.smtputf8 ? ['SMTPUTF8'] : []),
    ];
    const reply = await session.client.mail(from, mailParams, { strict: true });
    session.began(from);
    const output = {
      ...replyOutput(reply),
      accepted: true,
      ...(declared === undefined ? {} : { declared_size: declared }),
      ...(limit === undefined ? {} : { size_limit: limit }),
    };
    if (limit === undefined) return output;
    // Accepted over the limit: the transaction ends here, and no oversized message is ever sent.
    session.client.connection.info(`MAIL with SIZE=${declared} over the advertised ${limit} was accepted: RSET at once, no message is sent`);
    await resetAtOnce(session);
    return { ...output, reset: true };
  },
});

function advertisedLimit(session: SmtpSession): number {
  const size = session.client.advertised.size;
  if (size === undefined) throw new SkipScenario('the server does not advertise SIZE (RFC 1870) in its last EHLO reply, so it declares no limit to exceed');
  if (!size.limit) throw new SkipScenario('the server advertises SIZE with no fixed maximum (RFC 1870 §4), so there is no limit to exceed');
  return size.limit;
}

async function resetAtOnce(session: SmtpSession): Promise<void> {
  await session.client.rset({ strict: true });
  session.ended();
}

export const smtpRcpt = defineAction({
  name: 'smtp.rcpt',
  summary: 'RCPT TO (RFC 5321 §4.1.1.3); a recipient that is no account of the target is RSET at once when accepted, so nothing can follow',
  protocol: 'smtp',
  params: z.strictObject({ to: z.string().min(1).describe('Forward-path (an address)') }),
  async run(ctx: ActionContext, params) {
    const session = await smtp(ctx);
    const reply = await session.client.rcpt(params.to, [], { strict: true });
    const account = isAccountAddress(ctx, params.to);
    const output = { ...replyOutput(reply), accepted: true, account };
    if (account) {
      session.accepted(params.to);
      return output;
    }
    session.client.connection.info(`<${params.to}> is no account of the target and was accepted: RSET at once, no message is sent to it`);
    await resetAtOnce(session);
    return { ...output, reset: true };
  },
});

export const smtpData = defineAction({
  name: 'smtp.data',
  summary: "DATA (RFC 5321 §4.1.1.4): a test message tagged with the run id, to the recipients accepted (the target's own accounts)",
  protocol: 'smtp',
  leavesMail: true,
  plans: (p) => [
    { kind: 'send', what: `DATA: a message with subject "${String(p.subject ?? '')}" to the recipients the session's RCPT steps got accepted` },
    { kind: 'create', what: 'the delivered message in those mailboxes' },
  ],
  params: z.strictObject({
    subject: z.string().default('mailprobe test message'),
    text: z.string().default('This message was sent by mailprobe and will be deleted by it.\n'),
    from: z.string().optional().describe('From header (default: the address MAIL named)'),
    headers: z.record(z.string(), z.string()).optional().describe('Extra header fields'),
    encoding: z
      .enum(['7bit', '8bit'])
      .default('7bit')
      .describe("8bit: the body's UTF-8 octets and any UTF-8 header value go out as they are (for BODY=8BITMIME / SMTPUTF8)"),
  }),
  async run(ctx: ActionContext, params) {
    const session = await smtp(ctx);
    const recipients = [...session.recipients];
    // Guarded by smtp.rcpt already; checked again because a message must never reach a mailbox the run cannot clean.
    const foreign = recipients.filter((r) => !isAccountAddress(ctx, r));
    if (foreign.length > 0) throw new RunProblem('EFOREIGN_RECIPIENT', `refusing to send a message to ${foreign.join(', ')}: not an account of the target`);
    if (recipients.length > 0) await ctx.openReaders();
    const from = session.mailFrom || ctx.sessionAccount().address;
    const message = await composeMessage({
      runId: ctx.runId,
      from: params.from ?? from,
      to: recipients.length > 0 ? recipients : [ctx.sessionAccount().address],
      subject: params.subject,
      text: params.text,
      encoding: params.encoding,
      ...(params.headers ? { headers: params.headers } : {}),
    });
    // Strict: data goes out only after a 354, and anything but a 2yz after it is the server's refusal.
    const outcome = await session.client.data(message.raw, { strict: true }).finally(() => session.ended());
    ctx.noteSent({ messageId: message.messageId, recipients });
    return { ...replyOutput(outcome.reply), message_id: message.messageId, raw: message.raw, size: message.raw.length, recipients, sent_at: Date.now() };
  },
});

/** A command that takes no parameters and returns its reply. */
function replyCommand(name: string, summary: string, send: (session: SmtpSession) => Promise<SmtpStepReply>) {
  return defineAction({
    name,
    summary,
    protocol: 'smtp',
    params: none,
    async run(ctx: ActionContext) {
      return replyOutput(await send(await smtp(ctx)));
    },
  });
}

export const smtpRset = replyCommand('smtp.rset', 'RSET (RFC 5321 §4.1.1.5): drop the open transaction', async (session) => {
  const reply = await session.client.rset({ strict: true });
  session.ended();
  return reply;
});

export const smtpNoop = replyCommand('smtp.noop', 'NOOP (RFC 5321 §4.1.1.9)', (session) => session.client.noop({ strict: true }));

export const smtpQuit = defineAction({
  name: 'smtp.quit',
  summary: 'QUIT (RFC 5321 §4.1.1.10): end the session; the next step on it connects again',
  protocol: 'smtp',
  params: none,
  async run(ctx: ActionContext) {
    const session = await smtp(ctx);
    const reply = await session.client.quit();
    session.ended();
    // No reply at all (the transcript says why): the session is over either way.
    return reply === undefined ? { code: null, reply: null, lines: [] } : replyOutput(reply);
  },
});
