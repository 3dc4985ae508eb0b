import { Pop3ProtocolError } from './errors.js';
import { POP3_NUMBERS, pop3Number } from './numbers.js';
import { quoted, truncate } from '../../core/text.js';

export interface Pop3StatusLine {
  readonly ok: boolean;
  /** Text after the status indicator, without the extended code. */
  readonly text: string;
  /** RFC 2449 extended response code without brackets, if present. */
  readonly responseCode: string | undefined;
}

/**
 * Parse a status line. RFC 1939 fixes the indicators as "+OK" and "-ERR" in
 * upper case, followed by end of line or a space; anything else is malformed.
 */
export function parseStatusLine(line: string, command: string): Pop3StatusLine {
  const match = /^(\+OK|-ERR)(?: (.*))?$/.exec(line);
  if (match === null) {
    throw new Pop3ProtocolError('EPOP3_MALFORMED', `malformed reply to ${command}: ${quoted(line)} (expected +OK or -ERR)`, command);
  }
  const ok = match[1] === '+OK';
  const rest = match[2] ?? '';
  // RFC 2449 §8: resp-code = "[" resp-level *("/" resp-level) "]"
  const code = /^\[([A-Za-z0-9-]+(?:\/[A-Za-z0-9-]+)*)\](?: (.*))?$/.exec(rest);
  if (code === null) return { ok, text: rest, responseCode: undefined };
  return { ok, text: code[2] ?? '', responseCode: code[1] };
}

/** RFC 1939 §4: the APOP timestamp is a msg-id in the greeting: "<1896.697170952@dbc.mtview.ca.us>". */
export function apopTimestamp(greeting: string): string | undefined {
  return /<[^<>\s]*@[^<>\s]*>/.exec(greeting)?.[0];
}

/** "2 320" → {count, size}; throws EPOP3_MALFORMED. Text after the size is allowed (RFC 1939 §5). */
export function parseDropListing(text: string, command: string): { count: number; size: number } {
  const match = /^(\S+) (\S+)(?: .*)?$/.exec(text);
  if (match === null) {
    throw new Pop3ProtocolError('EPOP3_MALFORMED', `malformed reply to ${command}: "+OK ${truncate(text)}" (expected "+OK count size")`, command, {
      clause: POP3_NUMBERS.dropCount.clause,
    });
  }
  const line = `+OK ${text}`;
  return {
    count: pop3Number(match[1] as string, POP3_NUMBERS.dropCount, command, line),
    size: pop3Number(match[2] as string, POP3_NUMBERS.dropSize, command, line),
  };
}

/** "1 120" → {msg, size}; throws EPOP3_MALFORMED. Extra text after the size is allowed (RFC 1939 §5). */
export function parseScanListing(line: string, command: string): { msg: number; size: number } {
  const match = /^(\S+) (\S+)(?: .*)?$/.exec(line);
  if (match === null) {
    throw new Pop3ProtocolError('EPOP3_MALFORMED', `malformed scan listing in reply to ${command}: ${quoted(line)}`, command, {
      clause: POP3_NUMBERS.scanSize.clause,
    });
  }
  return {
    msg: pop3Number(match[1] as string, POP3_NUMBERS.messageNumber, command, line),
    size: pop3Number(match[2] as string, POP3_NUMBERS.scanSize, command, line),
  };
}

/** "1 whqtswO00WBw418f9t5JxYwZ"; RFC 1939 §7: a unique-id is 1–70 characters 0x21–0x7E. */
export function parseUidListing(line: string, command: string): { msg: number; uid: string } {
  const match = /^(\S+) ([\x21-\x7e]{1,70})$/.exec(line);
  if (match === null) {
    throw new Pop3ProtocolError('EPOP3_MALFORMED', `malformed unique-id listing in reply to ${command}: ${quoted(line)}`, command);
  }
  return { msg: pop3Number(match[1] as string, POP3_NUMBERS.messageNumber, command, line), uid: match[2] as string };
}
