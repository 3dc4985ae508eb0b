import { z } from 'zod';
import { RunProblem, SkipScenario } from '../protocols/outcomes.js';
import { CLIENT_NAME, type SmtpStepReply } from '../protocols/smtp/client.js';
import { composeMessage } from '../protocols/smtp/compose.js';
import { SmtpReplyError, SmtpTransportError } from '../protocols/smtp/errors.js';
import type { SmtpSession } from '../protocols/smtp/session.js';
import type { ActionContext } from './context.js';
import { defineAction } from './define-action.js';
import { extensionsOutput, isAccountAddress, noNotices, replyOutput, sendNoted } from './smtp-replies.js';

/**
 * SMTP one command at a time, on a named session (src/protocols/smtp/session.ts),
 * so a scenario can judge each reply: EHLO, AUTH, MAIL, RCPT, DATA, RSET, NOOP,
 * QUIT. A 4yz is inconclusive with the server's words, a 5yz is the server's
 * "no" for the step's expectations (an unexpected one fails the step).
 *
 * Rules that keep a real host safe whatever a scenario says:
 * - a RCPT the server accepts for an address that is no account of the target
 *   (the relay check's foreign domain, an unknown local user), or accepts only
 *   to forward it elsewhere (251), is followed by RSET at once: no data can
 *   follow it, so nothing is ever relayed or lost; a server that refuses the
 *   RSET loses the connection instead;
 * - a MAIL accepted with a declared SIZE over the advertised limit is RSET at
 *   once too: the oversized message is never sent;
 * - DATA goes only to recipients accepted for the target's accounts, and RCPT
 *   asks for no delivery notices (NOTIFY=NEVER, RFC 3461) where DSN is offered,
 *   so no bounce lands in a mailbox the run cannot clean;
 * - AUTH is never sent without TLS.
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
  summary: "AUTH (RFC 4954) as the session's account, with PLAIN or LOGIN, under TLS only: refused credentials could not run",
  protocol: 'smtp',
  params: z.strictObject({
    mechanism: z.enum(['PLAIN', 'LOGIN']).optional().describe('SASL mechanism (default PLAIN when advertised, else LOGIN)'),
  }),
  async run(ctx: ActionContext, params) {
    const session = await smtp(ctx);
    const account = ctx.sessionAccount();
    if (!session.client.secure) {
      throw new SmtpTransportError(
        'EAUTH',
        `smtp.auth sends no password without TLS, and session '${session.label}' is on an endpoint with security: none; nothing was sent`,
        'auth',
      );
    }
    const mechanism = session.client.loginMechanism(params.mechanism);
    const reply = await session.client.auth(mechanism, account.user, ctx.password(account.role));
    if (reply.code < 200 || reply.code >= 300) throw session.client.loginRefusal(reply);
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
    return { ...output, reset: await resetAtOnce(session) };
  },
});

function advertisedLimit(session: SmtpSession): number {
  const size = session.client.advertised.size;
  if (size === undefined) throw new SkipScenario('the server does not advertise SIZE (RFC 1870) in its last EHLO reply, so it declares no limit to exceed');
  if (!size.limit) throw new SkipScenario('the server advertises SIZE with no fixed maximum (RFC 1870 §3), so there is no limit to exceed');
  if (!Number.isSafeInteger(size.limit + 1)) throw new SkipScenario(`the server advertises SIZE ${size.limit}, too large to declare one octet over it exactly`);
  return size.limit;
}

/**
 * Ends a transaction the server should not have accepted, before anything can
 * follow it: RSET, or, when the server will not take even that, the
 * connection (the next step on the session connects again). Never throws.
 */
async function resetAtOnce(session: SmtpSession): Promise<boolean> {
  session.ended();
  const reply = await session.client.rset().catch(() => undefined);
  if (reply !== undefined && reply.code >= 200 && reply.code < 300) return true;
  session.client.connection.info('RSET was not accepted: dropping the connection, so nothing can follow what the server accepted');
  session.client.destroy();
  return false;
}

export const smtpRcpt = defineAction({
  name: 'smtp.rcpt',
  summary:
    'RCPT TO (RFC 5321 §4.1.1.3); a recipient that is no account of the target, or one the server would forward (251), is RSET at once when accepted, so nothing can follow',
  protocol: 'smtp',
  params: z.strictObject({
    to: z.string().min(1).describe('Forward-path (an address)'),
    control: z
      .boolean()
      .default(false)
      .describe(
        'An account of the target the host must take: a permanent refusal means it turns this client or sender away, so the check cannot be made (errored), not a broken rule',
      ),
  }),
  async run(ctx: ActionContext, params) {
    const session = await smtp(ctx);
    const account = isAccountAddress(ctx, params.to);
    if (params.control && !account) throw new RunProblem('EUSAGE', `a control recipient must be an account of the target; <${params.to}> is none`);
    const reply = await session.client.rcpt(params.to, noNotices(session.client.advertised), { strict: true }).catch((error: unknown) => {
      if (params.control && error instanceof SmtpReplyError && !error.temporary) {
        throw new RunProblem(
          'EPOLICY',
          `the host refused RCPT to <${params.to}>, an account of the target (${error.reply}): it turns this client or sender away, so the check cannot be made from here`,
        );
      }
      throw error;
    });
    const output = { ...replyOutput(reply), accepted: true, account };
    // 250: the mailbox is here. 251 (will forward) and 252 put the message where the run cannot see it.
    if (account && reply.code === 250) {
      session.accepted(params.to);
      return output;
    }
    session.client.connection.info(
      `<${params.to}> was accepted (${reply.code}) but ${account ? 'not for a mailbox here' : 'is no account of the target'}: RSET at once, no message is sent to it`,
    );
    return { ...output, delivered_here: false, reset: await resetAtOnce(session) };
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
    if (recipients.length === 0) {
      throw new RunProblem(
        'ENO_RECIPIENT',
        "smtp.data needs a recipient the server accepted for one of the target's accounts (an smtp.rcpt step before it); nothing was sent",
      );
    }
    // Guarded by smtp.rcpt already; checked again because a message must never reach a mailbox the run cannot clean.
    const foreign = recipients.filter((r) => !isAccountAddress(ctx, r));
    if (foreign.length > 0) throw new RunProblem('EFOREIGN_RECIPIENT', `refusing to send a message to ${foreign.join(', ')}: not an account of the target`);
    await ctx.openReaders();
    // The null reverse-path ("") names nobody: the From field then names the account.
    const from = session.mailFrom || ctx.sessionAccount().address;
    const message = await composeMessage({
      runId: ctx.runId,
      from: params.from ?? from,
      to: recipients,
      subject: params.subject,
      text: params.text,
      encoding: params.encoding,
      ...(params.headers ? { headers: params.headers } : {}),
    });
    // Strict: data goes out only after a 354, and anything but a 2yz after it is the server's refusal.
    // Once the final "." is out, the server may have the message whatever happens to its reply
    // (a timeout, a drop, Ctrl-C): cleanup must then wait for it too. Only a refusal means it has not.
    const sent = { messageId: message.messageId, recipients };
    const outcome = await sendNoted(ctx, sent, (onSent) => session.client.data(message.raw, { strict: true, onSent })).finally(() => session.ended());
    ctx.noteSent(sent);
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
