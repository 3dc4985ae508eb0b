import { z } from 'zod';
import { RunProblem } from '../protocols/outcomes.js';
import { SmtpClient } from '../protocols/smtp/client.js';
import { composeMessage } from '../protocols/smtp/compose.js';
import { SmtpReplyError } from '../protocols/smtp/errors.js';
import type { ActionContext } from './context.js';
import { defineAction } from './define-action.js';
import { plaintextMechanisms } from './plaintext-before-tls.js';
import { extensionsOutput, isAccountAddress, noNotices, replyOutput, sendNoted } from './smtp-replies.js';

/**
 * The SMTP checks a session opened the endpoint's way would hide: what a
 * STARTTLS port offers before the upgrade (a session upgrades silently), and a
 * pipelined transaction (RFC 2920), which sends commands without waiting.
 */

export const smtpStarttls = defineAction({
  name: 'smtp.starttls',
  summary:
    'On a STARTTLS port: no plaintext login is taken before TLS, EHLO lists STARTTLS, the upgrade verifies, EHLO after it offers AUTH and no STARTTLS, and login works (RFC 3207, RFC 4954 §4)',
  params: z.strictObject({
    endpoint: z.enum(['submission', 'smtp']).default('submission'),
    account: z.string().describe('Account role to log in as after the upgrade'),
  }),
  async run(ctx: ActionContext, params) {
    const endpoint = ctx.endpoint(params.endpoint);
    const account = ctx.account(params.account);
    // Plain, whatever the endpoint's security says: the point is to see the port before STARTTLS.
    const client = await SmtpClient.connect({
      endpoint: { ...endpoint, security: 'none' },
      timeouts: ctx.target.timeouts,
      transcript: ctx.transcript,
      session: `starttls:${params.endpoint}`,
      signal: ctx.signal,
    });
    try {
      await client.acceptGreeting();
      await client.ehlo(undefined, { strict: true });
      const before = client.advertised;
      const found = {
        advertised: before.starttls,
        auth_before_tls: [...before.auth],
        plaintext_login_before_tls: await plaintextLoginOffered(client),
      };
      if (!before.starttls) return { ...found, upgraded: false, logged_in: false };
      await client.starttls({ strict: true });
      // Recorded, not judged: with verification on, a certificate that does not verify already stopped the handshake.
      const tls = client.connection.tls;
      ctx.setProperty('tls_certificate_verified', String(tls?.authorized ?? false));
      await client.ehlo(undefined, { strict: true });
      const after = client.advertised;
      const upgraded = {
        ...found,
        upgraded: true,
        certificate_verified: tls?.authorized ?? false,
        tls_protocol: tls?.protocol ?? null,
        auth_after_tls: [...after.auth],
        auth_offered_after_tls: after.auth.length > 0,
        starttls_after_upgrade: after.starttls,
      };
      // No AUTH even now: that is the finding (auth_offered_after_tls), not a reason to send a password.
      if (after.auth.length === 0) return { ...upgraded, logged_in: false };
      const login = await client.auth(client.loginMechanism(), account.user, ctx.password(params.account));
      if (login.code < 200 || login.code >= 300) throw client.loginRefusal(login);
      await client.quit();
      return { ...upgraded, logged_in: true, login: replyOutput(login) };
    } finally {
      if (!client.connection.closed) client.destroy();
    }
  },
});

/**
 * What the clear connection offers for a plaintext password, one line each;
 * empty when nothing. It never sends a password (see plaintext-before-tls.ts):
 * it reads EHLO's AUTH line and asks AUTH PLAIN with no initial response, which
 * a server that takes plaintext logins answers 334 (then "*" cancels it).
 */
async function plaintextLoginOffered(client: SmtpClient): Promise<string[]> {
  const offered = plaintextMechanisms(client.authMechanisms).map((m) => `EHLO lists AUTH ${m}`);
  const probe = await client.probeAuth('PLAIN');
  if (probe.code === 334) offered.push('AUTH PLAIN answered 334: it asks for the credentials in clear');
  else if (probe.code >= 200 && probe.code < 300) offered.push(`AUTH PLAIN answered ${probe.code} with no credentials at all`);
  return offered;
}

export const smtpPipeline = defineAction({
  name: 'smtp.pipeline',
  summary: "A pipelined MAIL, RCPT… and DATA (RFC 2920) to the target's own accounts: the replies, in the order they came",
  protocol: 'smtp',
  leavesMail: true,
  plans: (p) => [
    { kind: 'send', what: `pipelined MAIL/RCPT/DATA to ${Array.isArray(p.to) ? p.to.join(', ') : "the session's account"}` },
    { kind: 'create', what: 'the delivered message in those mailboxes' },
  ],
  params: z.strictObject({
    to: z.array(z.string().min(3)).min(1).optional().describe("Recipients, each an account of the target (default: the session's account)"),
    subject: z.string().default('mailprobe pipelined message'),
    text: z.string().default('This message was sent by mailprobe with pipelined commands and will be deleted by it.\n'),
  }),
  async run(ctx: ActionContext, params) {
    const session = await ctx.session('smtp');
    const from = ctx.sessionAccount().address;
    const to = params.to ?? [from];
    const foreign = to.filter((r) => !isAccountAddress(ctx, r));
    // Pipelined RCPTs cannot be RSET before DATA is under way: only the target's own accounts may be named.
    if (foreign.length > 0) throw new RunProblem('EFOREIGN_RECIPIENT', `smtp.pipeline sends only to the target's accounts; ${foreign.join(', ')} is none`);
    await ctx.openReaders();
    const message = await composeMessage({ runId: ctx.runId, from, to, subject: params.subject, text: params.text });
    const rcptParams = noNotices(session.client.advertised);
    const outcome = await sendNoted(ctx, { messageId: message.messageId, recipients: to }, (onSent) =>
      session.client.pipeline({ from, to, rcptParams }, message.raw, onSent),
    ).finally(() => session.ended());
    const replies = [outcome.mail, ...outcome.rcpts, outcome.data.go, ...(outcome.data.final ? [outcome.data.final] : [])];
    const delivered = outcome.data.final !== undefined && outcome.data.final.code >= 200 && outcome.data.final.code < 300;
    const accepted = to.filter((_, i) => outcome.rcpts[i]?.code === 250);
    if (delivered) ctx.noteSent({ messageId: message.messageId, recipients: accepted });
    // "Not now" anywhere (greylisting a RCPT, a full queue): the check could not be made.
    const temporary = replies.find((r) => r.code >= 400 && r.code < 500);
    if (temporary) throw new SmtpReplyError(temporary.code, temporary.raw, temporary.command);
    return {
      reply_classes: replies.map((r) => Math.floor(r.code / 100)),
      codes: replies.map((r) => r.code),
      commands: replies.map((r) => r.command),
      mail: replyOutput(outcome.mail),
      rcpts: outcome.rcpts.map(replyOutput),
      data: replyOutput(outcome.data.go),
      ...(outcome.data.final ? { final: replyOutput(outcome.data.final) } : {}),
      delivered,
      message_id: message.messageId,
      raw: message.raw,
      sent_at: Date.now(),
      advertised: extensionsOutput(session.client.advertised).keywords,
    };
  },
});

export const smtpMailWithoutLogin = defineAction({
  name: 'smtp.mail-without-login',
  summary:
    'On a submission session that has not logged in: MAIL FROM the account and, if that is taken, RCPT TO it; where the server refused (RFC 6409 §4.3), and never DATA',
  protocol: 'smtp',
  params: z.strictObject({}),
  async run(ctx: ActionContext) {
    const session = await ctx.session('smtp');
    const address = ctx.sessionAccount().address;
    // RFC 6409 §4.3 wants the refusal at MAIL; many MTAs (Postfix by default) hold it until RCPT,
    // which keeps the same promise: no mail from a client that did not log in. Either counts.
    // Strict: a 4yz is "not now" (inconclusive), an unexpected code a failed check; a 5yz is the refusal.
    const refusedAt = (at: 'MAIL' | 'RCPT') => (error: unknown) => {
      if (error instanceof SmtpReplyError && !error.temporary) return { refused: true, refused_at: at, code: error.replyCode, reply: error.reply };
      throw error;
    };
    const atMail = await session.client.mail(address, [], { strict: true }).then(() => undefined, refusedAt('MAIL'));
    if (atMail) return atMail;
    session.began(address);
    const atRcpt = await session.client.rcpt(address, [], { strict: true }).then(() => undefined, refusedAt('RCPT'));
    if (atRcpt === undefined) session.client.connection.info('MAIL and RCPT were taken without a login: RSET at once, no message is sent');
    session.ended();
    await session.client.rset().catch(() => session.client.destroy());
    return atRcpt ?? { refused: false, refused_at: null };
  },
});
