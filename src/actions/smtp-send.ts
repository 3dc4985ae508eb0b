import { z } from 'zod';
import { endpointsOf, type EndpointOf } from '../core/protocols.js';
import { MESSAGE_SIZE_FORMS, MESSAGE_SIZE_PATTERN, parseMessageSize } from '../core/message-size.js';
import { composeMessage } from '../protocols/smtp/compose.js';
import { generateMessage } from '../protocols/smtp/generated-message.js';
import { sendRawMessage } from '../protocols/smtp/send.js';
import type { ActionContext } from './context.js';
import { defineAction } from './define-action.js';

/**
 * Delivers one test message, tagged with the run id, through submission
 * (STARTTLS + AUTH) or plain SMTP. Its output keeps the exact bytes sent so a
 * later step can prove the mailbox holds an unaltered copy.
 */
/** The SMTP endpoints, submission (the default) first, as the schema has always listed them. */
const SEND_ENDPOINTS = ['submission', ...endpointsOf('smtp').filter((e) => e !== 'submission')] as [EndpointOf<'smtp'>, ...EndpointOf<'smtp'>[]];

const sendParams = z.strictObject({
  endpoint: z.enum(SEND_ENDPOINTS).default('submission').describe('Target endpoint to send through'),
  account: z.string().describe('Account role to authenticate as and send from (e.g. primary)'),
  auth: z.boolean().optional().describe('Authenticate (default: yes on submission/smtps, no on smtp)'),
  to: z.array(z.string().min(3)).min(1).describe('Recipient addresses'),
  subject: z.string().default('mailprobe test message'),
  text: z.string().default('This message was sent by mailprobe and will be deleted by it.\n'),
  headers: z.record(z.string(), z.string()).optional().describe('Extra header fields'),
  size: z
    .union([z.number().int().positive(), z.string().regex(MESSAGE_SIZE_PATTERN, { message: `a message size is ${MESSAGE_SIZE_FORMS}` })])
    .optional()
    .describe(
      `Send a message of exactly this many octets with a generated, verifiable body instead of \`text\` (${MESSAGE_SIZE_FORMS}). ` +
        'The output then carries sha256 and body_sha256 instead of raw',
    ),
});

export const smtpSend = defineAction({
  name: 'smtp.send',
  plans: (p, ctx) => {
    const from = typeof p.account === 'string' ? (ctx.account(p.account)?.address ?? `<address of account '${p.account}'>`) : '?';
    const to = Array.isArray(p.to) ? p.to.map(String) : [];
    return [
      {
        kind: 'send',
        endpoint: String(p.endpoint ?? 'submission'),
        what: `SMTP via ${String(p.endpoint ?? 'submission')}: MAIL FROM:<${from}> RCPT TO:${to.map((a) => `<${a}>`).join(',')} subject "${String(p.subject ?? '')}" Message-ID ${ctx.messageIdPattern}`,
      },
      { kind: 'create', what: `the delivered message in the mailbox of ${to.join(', ')}` },
    ];
  },
  leavesMail: true,
  summary: 'Send a test message tagged with the run id through submission or SMTP',
  params: sendParams,
  async run(ctx: ActionContext, params) {
    const account = ctx.account(params.account);
    const endpoint = ctx.endpoint(params.endpoint);
    // Mail delivered while a reader cannot connect would stay where nothing cleans it up.
    await ctx.openReaders();
    const authenticate = params.auth ?? params.endpoint !== 'smtp';
    if (params.size !== undefined) return sendGenerated(ctx, params, account, endpoint, authenticate);
    const message = await composeMessage({
      runId: ctx.runId,
      from: account.address,
      to: params.to,
      subject: params.subject,
      text: params.text,
      ...(params.headers ? { headers: params.headers } : {}),
    });
    const result = await sendRawMessage({
      endpoint,
      ...(authenticate ? { auth: { user: account.user, password: ctx.password(params.account) } } : {}),
      envelope: { from: account.address, to: params.to },
      raw: message.raw,
      transcript: ctx.transcript,
      session: `smtp:${params.endpoint}`,
      timeouts: ctx.target.timeouts,
      signal: ctx.signal,
    });
    ctx.noteSent({ messageId: message.messageId, recipients: result.accepted });
    return {
      message_id: message.messageId,
      raw: message.raw,
      size: message.raw.length,
      accepted: result.accepted,
      rejected: result.rejected,
      response: result.response,
      sent_at: result.sentAt,
    };
  },
});

type SendParams = z.infer<typeof sendParams>;

/**
 * A message of `size` octets, generated as it is sent (generated-message.ts):
 * 25 MB is never held whole, so the output names its digests, not its bytes.
 */
async function sendGenerated(
  ctx: ActionContext,
  params: SendParams,
  account: ReturnType<ActionContext['account']>,
  endpoint: ReturnType<ActionContext['endpoint']>,
  authenticate: boolean,
) {
  const size = parseMessageSize(params.size as string | number);
  if (size === undefined) throw new Error(`size ${JSON.stringify(params.size)} is not ${MESSAGE_SIZE_FORMS}`);
  const message = generateMessage({
    runId: ctx.runId,
    from: account.address,
    to: params.to,
    subject: params.subject,
    size,
    ...(params.headers ? { headers: params.headers } : {}),
  });
  const result = await sendRawMessage({
    endpoint,
    ...(authenticate ? { auth: { user: account.user, password: ctx.password(params.account) } } : {}),
    envelope: { from: account.address, to: params.to },
    raw: { size: message.size, chunks: () => message.chunks() },
    transcript: ctx.transcript,
    session: `smtp:${params.endpoint}`,
    timeouts: ctx.target.timeouts,
    signal: ctx.signal,
  });
  ctx.noteSent({ messageId: message.messageId, recipients: result.accepted });
  return {
    message_id: message.messageId,
    size: message.size,
    sha256: message.sha256,
    body_octets: message.bodyOctets,
    body_sha256: message.bodySha256,
    accepted: result.accepted,
    rejected: result.rejected,
    response: result.response,
    sent_at: result.sentAt,
  };
}
