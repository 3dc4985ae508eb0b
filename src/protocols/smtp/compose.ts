import MailComposer from 'nodemailer/lib/mail-composer';
import { makeMessageId, RUN_HEADER } from '../../core/run-identity.js';

/** The header that marks every message a run creates, so only its own mail is ever touched. */
export { makeMessageId, RUN_HEADER } from '../../core/run-identity.js';

export interface ComposeInput {
  readonly runId: string;
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  /** Plain-text body. Lines are joined with CRLF exactly as given. */
  readonly text: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ComposedMessage {
  readonly messageId: string;
  /** The exact bytes handed to the server, CRLF line ends, before SMTP dot-stuffing. */
  readonly raw: Buffer;
}

export async function composeMessage(input: ComposeInput): Promise<ComposedMessage> {
  const messageId = makeMessageId(input.runId);
  const composer = new MailComposer({
    from: input.from,
    to: [...input.to],
    subject: input.subject,
    // 7bit keeps the body readable on the wire and byte-predictable: quoted-printable
    // would rewrite lines we send on purpose (e.g. ones starting with a dot).
    text: { content: input.text.replace(/\r?\n/g, '\r\n'), contentTransferEncoding: '7bit' },
    messageId,
    headers: { ...input.headers, [RUN_HEADER]: input.runId },
  });
  const raw = await composer.compile().build();
  return { messageId, raw };
}
