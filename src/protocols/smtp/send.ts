import { TransportError } from '../../transport/errors.js';
import type { Transcript } from '../../transport/transcript.js';
import { type MessageData, SmtpClient, type SmtpEndpoint, type SmtpSendResult, type SmtpTimeouts } from './client.js';
import { SmtpProtocolError, SmtpReplyError, SmtpTransportError } from './errors.js';

/**
 * Delivery of test messages through SMTP or submission with mailprobe's own
 * SMTP client (client.ts) on mailprobe's transport: every reply is read by
 * mailprobe, against its deadlines and limits, into the transcript. Message
 * composition stays with nodemailer's MailComposer (compose.ts); nodemailer's
 * SMTP transport is no longer used.
 */
export type { MessageData, MessageSource, SmtpEndpoint, SmtpSendResult, SmtpTimeouts } from './client.js';
export { SmtpProtocolError, SmtpReplyError, SmtpTransportError } from './errors.js';

export interface SmtpSendOptions {
  readonly endpoint: SmtpEndpoint;
  readonly auth?: { readonly user: string; readonly password: string };
  readonly envelope: { readonly from: string; readonly to: readonly string[] };
  /** The whole message, or a source that hands it over in chunks. */
  readonly raw: MessageData;
  readonly transcript: Transcript;
  readonly session: string;
  readonly timeouts: SmtpTimeouts;
  readonly signal?: AbortSignal;
}

/** Connect, greet, EHLO (STARTTLS), AUTH, MAIL/RCPT/DATA, QUIT. Throws one of the three SMTP errors. */
export async function sendRawMessage(options: SmtpSendOptions): Promise<SmtpSendResult> {
  let client: SmtpClient | undefined;
  try {
    client = await SmtpClient.open(options);
    if (options.auth !== undefined) await client.authenticate(options.auth.user, options.auth.password);
    const result = await client.send(options.envelope, options.raw);
    await client.quit();
    return result;
  } catch (error) {
    client?.destroy();
    throw smtpError(error);
  }
}

/** Transport failures keep their code, phase and words, as an SmtpTransportError (the send API's own class). */
function smtpError(error: unknown): unknown {
  if (error instanceof SmtpReplyError || error instanceof SmtpTransportError || error instanceof SmtpProtocolError) return error;
  if (error instanceof TransportError) return new SmtpTransportError(error.code, error.message, error.phase, { cause: error });
  return error;
}
