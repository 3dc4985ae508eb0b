import { ImapRawProtocolError } from './errors.js';

/** A piece of a command: text as written, or a Buffer sent as a literal ("{n}" then the octets). */
export type CommandPart = string | Buffer;

/** ATOM-CHAR (RFC 3501 §9): anything but specials, CTL, SP and 8-bit. */
const ATOM = /^[^\x00-\x20\x7f-\uffff(){%*"\\\]]+$/;

/**
 * An astring argument: an atom when it is one, otherwise a quoted string.
 * Returns undefined when neither can carry the value (CR, LF, NUL or 8-bit
 * octets): it must then go as a literal (see {@link astringPart}).
 */
export function astring(value: string): string | undefined {
  if (ATOM.test(value)) return value;
  // quoted = DQUOTE *QUOTED-CHAR DQUOTE; QUOTED-CHAR is 7-bit text except CR/LF, with " and \ escaped.
  if (/^[\x01-\x09\x0b\x0c\x0e-\x7f]*$/.test(value)) return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
  return undefined;
}

/** An astring as a command part: atom/quoted text, or a literal for values quoting cannot carry. */
export function astringPart(value: string): CommandPart {
  return astring(value) ?? Buffer.from(value, 'utf8');
}

/**
 * Split `bytes` (literal octets plus the command text after them) into the
 * lines Connection.writeLine will send with CRLF between them.
 *
 * Why: the transport writes text lines only (it refuses CR/LF inside a line
 * and encodes as UTF-8). That carries literal octets byte-exact exactly when
 * every line break in them is CRLF and every line is valid UTF-8 — true of
 * RFC 5322 messages in 7-bit or UTF-8. Anything else (bare CR or LF, other
 * 8-bit charsets, binary) is refused here rather than silently altered; it
 * needs a raw-bytes write in src/transport.
 */
export function wireLines(bytes: Buffer, command: string): string[] {
  const lines: string[] = [];
  let start = 0;
  for (;;) {
    const crlf = bytes.indexOf('\r\n', start);
    const end = crlf === -1 ? bytes.length : crlf;
    const piece = bytes.subarray(start, end);
    if (piece.includes(0x0d) || piece.includes(0x0a)) {
      throw new ImapRawProtocolError('EIMAP_ARGUMENT', `a literal in ${command} contains a bare CR or LF, which the line transport cannot send byte-exact`, {
        command,
      });
    }
    const text = piece.toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(piece)) {
      throw new ImapRawProtocolError('EIMAP_ARGUMENT', `a literal in ${command} is not valid UTF-8, which the line transport cannot send byte-exact`, {
        command,
      });
    }
    lines.push(text);
    if (crlf === -1) return lines;
    start = crlf + 2;
  }
}
