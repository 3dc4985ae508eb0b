import { bufferedBytes } from '../../../transport/limits.js';
import type { Line } from '../../../transport/line-reader.js';

/** One complete server response: its text with each literal left as its "{n}" marker, and the literals. */
export interface FramedResponse {
  /** The response line(s) joined, literal content removed: `* 1 FETCH (BODY[] {5})`. */
  readonly text: string;
  readonly literals: Buffer[];
  /** Octets this response occupied on the wire (text, literals and line endings). */
  readonly octets: number;
}

export interface FramerHooks {
  /** Called with each piece of server text as it completes, and "[literal: N octets]" for literal content. */
  readonly log: (text: string) => void;
  /**
   * Called when a literal is announced, before any of its octets is buffered,
   * with its size as sent and the octets of this response so far: throws
   * (ELIMIT) when the literal would exceed a limit.
   */
  readonly checkLiteral: (size: string, responseOctets: number) => void;
}

const CRLF = Buffer.from('\r\n');
const LF = Buffer.from('\n');
/** RFC 3501 §4.3 literal "{n}" and RFC 3516 literal8 "~{n}" at the very end of a line. */
const LITERAL_MARKER = /~?\{(\d+)\}$/;

/**
 * Reassembles IMAP responses from the transport's lines. The transport splits
 * on LF whatever the bytes, so a literal arrives as lines too; because each
 * Line keeps its exact bytes and its ending, joining them back gives the
 * octets byte for byte. After a literal of n octets, whatever follows on the
 * same physical line is the rest of the response line (RFC 3501 §4.3, §7.5).
 *
 * Why not read literals as raw bytes: the Connection only hands out lines
 * (src/transport is not ours to change). Consequences, accepted: each line of
 * literal content is bounded by `maxLineLength`, and a bare LF inside a
 * literal is noted by the transport as a bare-LF line ending.
 *
 * Literal octets held while a response is assembled are counted in
 * `bufferedBytes` (src/transport/limits.ts) until the response is handed on
 * or discarded.
 */
export class ResponseFramer {
  readonly #hooks: FramerHooks;
  #segments: string[] = [];
  #literals: Buffer[] = [];
  #octets = 0;
  #literal: { size: number; chunks: Buffer[]; have: number } | undefined;
  /** Octets counted in bufferedBytes for the response being assembled. */
  #held = 0;

  constructor(hooks: FramerHooks) {
    this.#hooks = hooks;
  }

  /** True while part of a response has been read (a response is incomplete). */
  get midResponse(): boolean {
    return this.#segments.length > 0 || this.#literal !== undefined;
  }

  /** Feed one line; returns the response it completes, if any. Throws ELIMIT for a literal over the limit. */
  push(line: Line): FramedResponse | undefined {
    const ending = line.ending === 'crlf' ? CRLF : LF;
    const literal = this.#literal;
    if (literal === undefined) {
      this.#octets += ending.length;
      return this.#text(line.bytes);
    }
    literal.chunks.push(line.bytes, ending);
    literal.have += line.bytes.length + ending.length;
    this.#hold(line.bytes.length + ending.length);
    if (literal.have < literal.size) return undefined;
    const joined = Buffer.concat(literal.chunks, literal.have);
    this.#literal = undefined;
    // A copy, so that a small literal does not pin the whole joined buffer.
    this.#literals.push(Buffer.from(joined.subarray(0, literal.size)));
    // From here on the response holds the literal's copy, not its lines.
    this.#release(literal.have - literal.size);
    this.#hooks.log(`[literal: ${literal.size} octets]`);
    this.#octets += literal.have;
    // The literal ended exactly with this line's LF: the rest of the response
    // line is the next physical line.
    if (literal.have === literal.size) return undefined;
    return this.#text(withoutEnding(joined.subarray(literal.size)), false);
  }

  #text(bytes: Buffer, countBytes = true): FramedResponse | undefined {
    const text = bytes.toString('utf8');
    if (countBytes) this.#octets += bytes.length;
    // An empty tail after a literal ("{5}\r\nhello\r\n") carries nothing to log.
    if (text !== '' || this.#segments.length === 0) this.#hooks.log(text);
    this.#segments.push(text);
    const marker = LITERAL_MARKER.exec(text);
    if (marker === null) {
      const done: FramedResponse = { text: this.#segments.join(''), literals: this.#literals, octets: this.#octets };
      this.#segments = [];
      this.#literals = [];
      this.#octets = 0;
      this.#release(this.#held);
      return done;
    }
    const digits = marker[1] as string;
    // Checked before a single octet is buffered: the announcement alone is enough.
    this.#hooks.checkLiteral(digits, this.#octets);
    const size = Number(digits);
    if (size === 0) {
      this.#literals.push(Buffer.alloc(0));
      this.#hooks.log('[literal: 0 octets]');
      return undefined;
    }
    this.#literal = { size, chunks: [], have: 0 };
    return undefined;
  }

  /** Forget a response cut short (the connection failed mid-response): its octets are no longer held. */
  discard(): void {
    this.#segments = [];
    this.#literals = [];
    this.#literal = undefined;
    this.#octets = 0;
    this.#release(this.#held);
  }

  #hold(octets: number): void {
    this.#held += octets;
    bufferedBytes.hold(octets);
  }

  #release(octets: number): void {
    this.#held -= octets;
    bufferedBytes.release(octets);
  }
}

function withoutEnding(bytes: Buffer): Buffer {
  // `bytes` always ends with the LF of the physical line it came from.
  const n = bytes.length;
  if (n >= 2 && bytes[n - 2] === 0x0d) return bytes.subarray(0, n - 2);
  return bytes.subarray(0, n - 1);
}
