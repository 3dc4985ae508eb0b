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
  /**
   * '7bit' (default): nodemailer composes, headers encoded as RFC 2047 needs.
   * '8bit': the body's UTF-8 octets go out as they are (Content-Transfer-Encoding: 8bit,
   * for BODY=8BITMIME, RFC 6152), and header values are written as given, UTF-8
   * included (RFC 6532, only for a server that took SMTPUTF8, RFC 6531).
   */
  readonly encoding?: '7bit' | '8bit';
}

export interface ComposedMessage {
  readonly messageId: string;
  /** The exact bytes handed to the server, CRLF line ends, before SMTP dot-stuffing. */
  readonly raw: Buffer;
}

export async function composeMessage(input: ComposeInput): Promise<ComposedMessage> {
  const messageId = makeMessageId(input.runId);
  if (input.encoding === '8bit') return { messageId, raw: composeEightBit(input, messageId) };
  // Loaded when a message is composed: `validate` and `--dry-run` load the actions but compose nothing.
  const { default: MailComposer } = await import('nodemailer/lib/mail-composer');
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

/**
 * nodemailer re-encodes any non-ASCII body as quoted-printable, whatever it is
 * asked, so an 8-bit message is written here: a conformance check needs the
 * 8-bit octets themselves on the wire to see whether the server keeps them.
 */
function composeEightBit(input: ComposeInput, messageId: string): Buffer {
  const fields: Array<[string, string]> = [
    ['From', input.from],
    ['To', input.to.join(', ')],
    ['Subject', input.subject],
    ['Date', rfc5322Date(new Date())],
    ['Message-ID', messageId],
    ...Object.entries(input.headers ?? {}),
    [RUN_HEADER, input.runId],
    ['MIME-Version', '1.0'],
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['Content-Transfer-Encoding', '8bit'],
  ];
  for (const [name, value] of fields) {
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name) || /[\r\n]/.test(value)) throw new Error(`header field ${JSON.stringify(name)} cannot be written as one line`);
  }
  const head = fields.map(([name, value]) => `${name}: ${value}\r\n`).join('');
  const body = input.text.replace(/\r?\n/g, '\r\n');
  return Buffer.from(`${head}\r\n${body.endsWith('\r\n') ? body : `${body}\r\n`}`, 'utf8');
}

/** RFC 5322 §3.3 date-time, e.g. "Tue, 01 Dec 2026 14:00:59 +0000". */
function rfc5322Date(date: Date): string {
  return date.toUTCString().replace(/GMT$/, '+0000');
}
