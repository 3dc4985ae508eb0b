/**
 * SMTP errors, one class per verdict (runner/classify.ts):
 * - SmtpReplyError: the server answered with a refusal (4yz temporary →
 *   inconclusive, 5yz → the step's "server accepts the command" check fails);
 * - SmtpProtocolError: the server's reply broke RFC 5321's grammar or
 *   sequence (a *failed* check: "the server answers in SMTP syntax");
 * - SmtpTransportError: the exchange could not take place (connect, TLS,
 *   STARTTLS refused, authentication, a deadline): errored.
 */

/** The server refused: 4xx is temporary (inconclusive), 5xx permanent. */
export class SmtpReplyError extends Error {
  readonly code = 'ESMTP_REPLY';
  constructor(
    readonly replyCode: number,
    readonly reply: string,
    readonly command: string,
  ) {
    super(`server answered ${command} with: ${reply}`);
    this.name = 'SmtpReplyError';
  }
  get temporary(): boolean {
    return this.replyCode >= 400 && this.replyCode < 500;
  }
}

/** The exchange could not take place: connect, TLS, timeout, authentication. */
export class SmtpTransportError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly phase: string,
    options?: { cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SmtpTransportError';
  }
}

export type SmtpProtocolErrorCode =
  /** A reply line outside RFC 5321 §4.2's Reply-line grammar, or lines of one reply with different codes. */
  | 'ESMTP_MALFORMED'
  /** A well-formed reply whose code the command cannot have (a 2yz to DATA, a 3yz greeting). */
  | 'ESMTP_UNEXPECTED';

/** The server broke SMTP's grammar or sequence: a failed check, never a pass. */
export class SmtpProtocolError extends Error {
  override readonly name = 'SmtpProtocolError';
  constructor(
    readonly code: SmtpProtocolErrorCode,
    message: string,
    /** The command answered, as the transcript shows it ("EHLO mailprobe.invalid", "(greeting)"). */
    readonly command: string,
    /** The clause broken, for the failed check ("RFC 5321 §4.2"). */
    readonly clause: string,
  ) {
    super(message);
  }
}
