/**
 * POP3 protocol errors. A Pop3ReplyError is the server answering -ERR: often
 * a conformance *failure* (or inconclusive, for the temporary RFC 2449/3206
 * codes). A Pop3ProtocolError is a reply we could not parse: the server broke
 * the protocol. Transport problems are TransportError (src/transport/errors.ts).
 */

/** RFC 2449 / RFC 3206 extended codes that mean "try again later". */
const TEMPORARY_CODES = new Set(['IN-USE', 'LOGIN-DELAY', 'SYS/TEMP']);

export class Pop3ReplyError extends Error {
  override readonly name = 'Pop3ReplyError';
  readonly code = 'EPOP3_ERR';
  /** The command that was refused, redacted: "PASS [redacted]", or "(greeting)". */
  readonly command: string;
  /** The server's text after -ERR, without the extended code. */
  readonly text: string;
  /** RFC 2449 extended response code without brackets, e.g. "IN-USE", "SYS/TEMP". */
  readonly responseCode: string | undefined;

  constructor(command: string, text: string, responseCode: string | undefined) {
    const shown = responseCode === undefined ? text : `[${responseCode}] ${text}`;
    super(`server refused ${command}: -ERR ${shown}`.trimEnd());
    this.command = command;
    this.text = text;
    this.responseCode = responseCode;
  }

  /** IN-USE, LOGIN-DELAY, SYS/TEMP: the runner reports these as inconclusive. */
  get temporary(): boolean {
    return this.responseCode !== undefined && TEMPORARY_CODES.has(this.responseCode.toUpperCase());
  }
}

export type Pop3ProtocolErrorCode =
  /** A reply that is not +OK/-ERR, or a listing line of the wrong shape. */
  | 'EPOP3_MALFORMED'
  /** An argument we refuse to send (CR/LF in a user name, bad message number). */
  | 'EPOP3_ARGUMENT'
  /** STLS asked for but not advertised, or similar state problems. */
  | 'EPOP3_STATE';

export class Pop3ProtocolError extends Error {
  override readonly name = 'Pop3ProtocolError';
  readonly code: Pop3ProtocolErrorCode;
  readonly command: string | undefined;
  /** The clause the reply broke, for the failed check ("RFC 1939 §5: …"); undefined: the general reply syntax. */
  readonly clause: string | undefined;

  constructor(code: Pop3ProtocolErrorCode, message: string, command?: string, details: { clause?: string } = {}) {
    super(message);
    this.code = code;
    this.command = command;
    this.clause = details.clause;
  }
}
