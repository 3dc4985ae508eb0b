/**
 * The mail data as it goes on the wire after "354" (RFC 5321 §4.1.1.4, §4.5.2):
 * - every line ends with CRLF (a bare LF or CR in the input becomes CRLF:
 *   SMTP has no other line end, and a bare one would be read differently by
 *   different servers);
 * - a line that starts with "." gets one more "." (§4.5.2: "If it is a
 *   period, one additional period is inserted at the beginning of the line"),
 *   so no line of the message can end the data early;
 * - the data ends with CRLF "." CRLF.
 * Octets are kept as they are (latin1 is a 1:1 map of bytes to code units).
 */
export interface FramedData {
  readonly bytes: Buffer;
  /** Lines of the message. */
  readonly lines: number;
  /** Lines that got an extra leading ".". */
  readonly stuffed: number;
}

export function frameMessageData(raw: Buffer): FramedData {
  let text = raw.toString('latin1').replace(/\r\n|\r|\n/g, '\r\n');
  if (text.length > 0 && !text.endsWith('\r\n')) text += '\r\n';
  let stuffed = 0;
  text = text.replace(/(^|\r\n)\./g, (_match, start: string) => {
    stuffed++;
    return `${start}..`;
  });
  let lines = 0;
  for (let at = text.indexOf('\r\n'); at !== -1; at = text.indexOf('\r\n', at + 2)) lines++;
  return { bytes: Buffer.from(`${text}.\r\n`, 'latin1'), lines, stuffed };
}

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

/**
 * frameMessageData for a message that arrives in chunks: the same octets on
 * the wire, whatever the chunk boundaries (a CR at the end of one chunk and
 * its LF at the start of the next stay one line end; a "." that starts a line
 * at a chunk's first octet is still stuffed). Each chunk is framed on its own,
 * so a 25 MB message is never held whole.
 */
export class DataFramer {
  #atLineStart = true;
  #afterCr = false;
  #lines = 0;
  #stuffed = 0;
  #octets = 0;

  /** The wire octets for `chunk`; a line end that began in an earlier chunk is completed here. */
  push(chunk: Uint8Array): Buffer {
    this.#octets += chunk.length;
    // Most chunks need no change (CRLF lines, none starting with "."): they go out as they are, uncopied. A copy
    // per chunk, at twice its size, left 50 MB of spent buffers behind a 25 MB message (peak RSS, issue 12).
    const lines = this.#linesIfUnchanged(chunk);
    if (lines !== undefined) {
      this.#lines += lines;
      this.#atLineStart = chunk[chunk.length - 1] === LF;
      return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    }
    // At most two octets out per octet in (a bare CR or LF becomes CRLF, a line's first "." becomes "..").
    const out = Buffer.allocUnsafe(chunk.length * 2);
    let at = 0;
    for (let i = 0; i < chunk.length; i++) {
      const octet = chunk[i] as number;
      if (this.#afterCr) {
        this.#afterCr = false;
        // CR then LF is one line end, already written as CRLF.
        if (octet === LF) continue;
      }
      if (octet === CR || octet === LF) {
        out[at++] = CR;
        out[at++] = LF;
        this.#lines++;
        this.#atLineStart = true;
        this.#afterCr = octet === CR;
        continue;
      }
      if (this.#atLineStart && octet === DOT) {
        out[at++] = DOT;
        this.#stuffed++;
      }
      this.#atLineStart = false;
      out[at++] = octet;
    }
    return out.subarray(0, at);
  }

  /**
   * The number of line ends in `chunk` when framing would leave it as it is:
   * every CR is followed by LF and every LF preceded by CR within the chunk, no
   * line starts with ".", and no line end is still open from the last chunk.
   * Else undefined, and push frames it octet by octet.
   */
  #linesIfUnchanged(chunk: Uint8Array): number | undefined {
    if (this.#afterCr || chunk.length === 0) return undefined;
    let lines = 0;
    let atLineStart = this.#atLineStart;
    for (let i = 0; i < chunk.length; i++) {
      const octet = chunk[i] as number;
      if (octet === CR) {
        if (chunk[i + 1] !== LF) return undefined;
        continue;
      }
      if (octet === LF) {
        if (i === 0 || chunk[i - 1] !== CR) return undefined;
        lines++;
        atLineStart = true;
        continue;
      }
      if (atLineStart && octet === DOT) return undefined;
      atLineStart = false;
    }
    return lines;
  }

  /** The end of the data: a CRLF if the message did not end with one, then "." CRLF (§4.1.1.4). */
  end(): Buffer {
    const close = this.#atLineStart ? '.\r\n' : '\r\n.\r\n';
    if (!this.#atLineStart) this.#lines++;
    this.#atLineStart = true;
    return Buffer.from(close, 'latin1');
  }

  /** Octets handed in, lines framed and lines stuffed so far. */
  get counts(): { readonly octets: number; readonly lines: number; readonly stuffed: number } {
    return { octets: this.#octets, lines: this.#lines, stuffed: this.#stuffed };
  }
}
