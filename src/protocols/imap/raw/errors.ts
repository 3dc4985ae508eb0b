import { truncate } from '../../../core/text.js';
/**
 * Errors of the raw IMAP client. A tagged NO or BAD is NOT an error here: it
 * is returned, because a conformance check wants to judge it. These are for
 * a server that broke the protocol (the stream can no longer be trusted) or
 * went away with BYE, and for things we refuse to send. Timeouts, closes and
 * limits are TransportError (src/transport/errors.ts).
 */
export type ImapRawErrorCode =
  /** A response that cannot be framed or parsed (not "+", "*" or a tagged status). */
  | 'EIMAP_MALFORMED'
  /** The server sent an untagged BYE (outside LOGOUT): it is closing the connection. */
  | 'EIMAP_BYE'
  /** The greeting is neither "* OK", "* PREAUTH" nor "* BYE". */
  | 'EIMAP_GREETING'
  /** A "+" continuation request arrived where none was expected (or none can be answered). */
  | 'EIMAP_CONTINUATION'
  /** A tagged response with a tag we never sent (or the answer to an earlier command). */
  | 'EIMAP_TAG'
  /** A value we refuse to send (CR/LF in an atom, a literal the transport cannot carry byte-exact). */
  | 'EIMAP_ARGUMENT'
  /** Refused locally because of the session state (LOGIN while LOGINDISABLED, STARTTLS twice). */
  | 'EIMAP_STATE'
  /** A convenience method needed a tagged OK and got NO/BAD (capability(), the connect-time STARTTLS). */
  | 'EIMAP_REFUSED';

export class ImapRawProtocolError extends Error {
  override readonly name = 'ImapRawProtocolError';
  readonly code: ImapRawErrorCode;
  /** The command being answered, redacted ("A002 LOGIN alice [redacted]"), or "(greeting)". */
  readonly command: string | undefined;
  /** The offending response as received, literals summarised as {n} (truncated). */
  readonly response: string | undefined;
  /** The grammar rule the response broke, with its clause ("RFC 9051 §9: nz-number = …"), when one is known. */
  readonly clause: string | undefined;

  constructor(code: ImapRawErrorCode, message: string, details: { command?: string; response?: string; clause?: string } = {}) {
    super(message);
    this.code = code;
    this.command = details.command;
    this.response = details.response === undefined ? undefined : truncate(details.response);
    this.clause = details.clause;
  }
}
