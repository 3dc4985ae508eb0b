import type { Connection } from '../../transport/connection.js';
import type { Phase, TransportError } from '../../transport/errors.js';
import { bufferedBytes, limitExceeded } from '../../transport/limits.js';
import type { ReplyBudget } from '../../transport/reply-budget.js';
import { quoted } from '../../core/text.js';
import { SmtpProtocolError } from './errors.js';

/**
 * SMTP replies (RFC 5321 §4.2):
 *
 *   Reply-line = *( Reply-code "-" [ textstring ] CRLF )
 *                   Reply-code [ SP textstring ] CRLF
 *   Reply-code = %x32-35 %x30-35 %x30-39
 *   textstring = 1*(%d09 / %d32-126)
 *
 * and §4.2.1: "In a multiline reply, the reply code on each of the lines MUST
 * be the same." What is tolerated, on purpose:
 * - the code alone, with or without its space ("250", "250 "): §4.2 says
 *   clients "SHOULD be prepared to process the code alone";
 * - octets above 0x7E in the text (servers send UTF-8 text): only control
 *   characters other than HT, and DEL, break the grammar;
 * - a line longer than §4.5.3.1.5's 512 octets: noted in the transcript once,
 *   not failed; mailprobe's own limits.maxLineLength is the hard bound.
 * Bare-LF line ends are accepted by the transport and counted there.
 */
export const REPLY_GRAMMAR = 'RFC 5321 §4.2';
const SAME_CODE = 'RFC 5321 §4.2.1';
/** RFC 5321 §4.5.3.1.5: a reply line, its code and CRLF included. */
export const MAX_REPLY_LINE = 512;

export interface SmtpReplyLine {
  readonly code: number;
  /** "-": more lines of this reply follow. */
  readonly continued: boolean;
  /** The text after the code and its separator. */
  readonly text: string;
}

export interface SmtpReply {
  readonly code: number;
  /** Each line's text, without code and separator. */
  readonly lines: readonly string[];
  /** The reply as the server sent it, lines joined with "\n" ("250-a\n250 b"). */
  readonly raw: string;
}

/** One line of a reply; throws ESMTP_MALFORMED. `command`: what it answers, for the message. */
export function parseReplyLine(bytes: Buffer, command: string): SmtpReplyLine {
  const malformed = (why: string): SmtpProtocolError =>
    new SmtpProtocolError('ESMTP_MALFORMED', `malformed reply to ${command}: ${shown(bytes)} (${why})`, command, REPLY_GRAMMAR);
  if (bytes.length < 3 || !inRange(bytes[0], 0x32, 0x35) || !inRange(bytes[1], 0x30, 0x35) || !inRange(bytes[2], 0x30, 0x39)) {
    throw malformed('a reply starts with a three-digit code 200-559: Reply-code = %x32-35 %x30-35 %x30-39');
  }
  const separator = bytes[3];
  if (separator !== undefined && separator !== 0x20 && separator !== 0x2d) {
    throw malformed('the code is followed by SP, "-" or the end of the line');
  }
  for (let i = 4; i < bytes.length; i++) {
    const octet = bytes[i] as number;
    if ((octet < 0x20 && octet !== 0x09) || octet === 0x7f) {
      throw malformed(`control character 0x${octet.toString(16).padStart(2, '0')} at octet ${i + 1}; textstring is HT, SP and printable characters`);
    }
  }
  return { code: Number(bytes.subarray(0, 3).toString('latin1')), continued: separator === 0x2d, text: bytes.subarray(4).toString('utf8') };
}

export interface ReadReplyOptions {
  readonly command: string;
  readonly budget: ReplyBudget;
  readonly phase?: Phase;
  /** Read the first line with Connection.readGreeting (greeting timeout, recorded timing). */
  readonly greeting?: boolean;
  /** Sees the first line before it is parsed (the greeting: a port of another protocol is told apart there). */
  readonly onFirstLine?: (bytes: Buffer) => void;
}

/**
 * Reads one whole reply, every line against `budget` (the deadline of the
 * reply as a whole, so continuation lines trickled one by one cannot hold the
 * run; it also counts the reply's octets, line ends as they came). Lines are
 * copied into the transcript up to limits.maxTranscriptListingLines, the rest
 * summarised; the reply's bytes are held in `bufferedBytes` while it is
 * assembled. A reply that breaks the grammar throws ESMTP_MALFORMED and drops
 * the connection: later replies could no longer be told apart.
 */
export async function readReply(connection: Connection, options: ReadReplyOptions): Promise<SmtpReply> {
  const { limits } = connection;
  const { command, budget } = options;
  const phase = options.phase ?? (options.greeting === true ? 'greeting' : 'command');
  const details = { host: connection.host, port: connection.port, command };
  const lines: string[] = [];
  const raw: string[] = [];
  let code: number | undefined;
  let held = 0;
  let longNoted = false;
  try {
    for (;;) {
      const first = lines.length === 0;
      // The greeting's first line waits under the greeting timeout, is timed, copied to the transcript and
      // judged by the transport (a port that does not speak SMTP); every other line is copied here, once.
      const viaGreeting = first && options.greeting === true;
      const line = viaGreeting
        ? await connection.readGreeting({ budget, protocol: 'smtp' })
        : await connection.readLine({ phase, command, log: false, budget });
      const text = line.bytes.toString('utf8');
      if (!viaGreeting && lines.length < limits.maxTranscriptListingLines) connection.transcript.server(connection.session, text);
      held += line.bytes.length;
      bufferedBytes.hold(line.bytes.length);
      if (lines.length + 1 > limits.maxListingLines) {
        throw fail(connection, limitExceeded(phase, `a reply of more than ${limits.maxListingLines} lines`, limits.maxListingLines, details));
      }
      if (budget.octets > limits.maxListingBytes) {
        throw fail(connection, limitExceeded(phase, `a reply of ${budget.octets}+ octets`, limits.maxListingBytes, details));
      }
      let parsed: SmtpReplyLine;
      try {
        if (first) options.onFirstLine?.(line.bytes);
        parsed = parseReplyLine(line.bytes, command);
      } catch (error) {
        connection.destroy();
        throw error;
      }
      if (code !== undefined && parsed.code !== code) {
        connection.destroy();
        throw new SmtpProtocolError(
          'ESMTP_MALFORMED',
          `malformed reply to ${command}: line ${lines.length + 1} has code ${parsed.code} after ${code} ` +
            '("In a multiline reply, the reply code on each of the lines MUST be the same")',
          command,
          SAME_CODE,
        );
      }
      code = parsed.code;
      if (!longNoted && line.bytes.length + 2 > MAX_REPLY_LINE) {
        longNoted = true;
        connection.info(`reply line of ${line.bytes.length + 2} octets is over the ${MAX_REPLY_LINE} of RFC 5321 §4.5.3.1.5 (tolerated)`);
      }
      lines.push(parsed.text);
      if (raw.length < limits.maxTranscriptListingLines) raw.push(text);
      if (!parsed.continued) break;
    }
  } finally {
    bufferedBytes.release(held);
  }
  if (lines.length > limits.maxTranscriptListingLines) {
    connection.info(`[${lines.length - limits.maxTranscriptListingLines} more lines of the reply to ${command} not shown; ${lines.length} in all]`);
  }
  return { code: code as number, lines, raw: raw.join('\n') };
}

function inRange(octet: number | undefined, low: number, high: number): boolean {
  return octet !== undefined && octet >= low && octet <= high;
}

/** A reply line for a message: control characters escaped, at most 120 characters. */
export function shown(bytes: Buffer): string {
  return quoted(bytes.toString('utf8'), 120);
}

/** A limit hit mid-reply leaves the stream out of step: drop the connection. */
function fail(connection: Connection, error: TransportError): TransportError {
  connection.destroy(error);
  return error;
}
