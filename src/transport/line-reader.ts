import type { TransportError } from './errors.js';
import { bufferedBytes } from './limits.js';

export type LineEnding = 'crlf' | 'lf';

export interface Line {
  /** The line's raw bytes without its line ending. Never decoded here. */
  readonly bytes: Buffer;
  /** What ended the line; "lf" is a bare LF, which the RFCs do not allow. */
  readonly ending: LineEnding;
}

/**
 * Splits a byte stream into lines, whatever the chunk boundaries: a line, its
 * CRLF, or a multi-line terminator may be cut anywhere across reads.
 *
 * A line ends at LF. A CR directly before it is part of the ending; a CR
 * elsewhere stays in the line's bytes. Bare LF endings are accepted (servers
 * in the wild send them) but reported, so a conformance check can notice.
 * The partial line it holds is counted in `bufferedBytes` (limits.ts).
 */
export class LineReader {
  readonly #maxLineLength: number;
  readonly #onOverflow: (length: number) => TransportError;
  #pending: Buffer[] = [];
  #pendingLength = 0;
  #bareLineFeeds = 0;

  /**
   * @param onOverflow builds the error thrown when a line exceeds the limit, so
   *   the caller can name the host, phase and command.
   */
  constructor(maxLineLength: number, onOverflow: (length: number) => TransportError) {
    this.#maxLineLength = maxLineLength;
    this.#onOverflow = onOverflow;
  }

  /** Bytes of an incomplete line held back until its LF arrives. */
  get bufferedBytes(): number {
    return this.#pendingLength;
  }

  get bareLineFeeds(): number {
    return this.#bareLineFeeds;
  }

  /**
   * Feed one chunk; `onLine` is called for every line it completes, in order.
   * Throws (after delivering the lines before it) when a line is too long.
   */
  push(chunk: Buffer, onLine: (line: Line) => void): void {
    let start = 0;
    for (;;) {
      const lf = chunk.indexOf(0x0a, start);
      if (lf === -1) break;
      let bytes: Buffer;
      let ending: LineEnding = 'lf';
      if (this.#pendingLength === 0) {
        // The common case, the whole line in this chunk: one view of it, its CR left out (a 25 MB RETR is 300,000 lines).
        const crlf = lf > start && chunk[lf - 1] === 0x0d;
        bytes = chunk.subarray(start, crlf ? lf - 1 : lf);
        if (crlf) ending = 'crlf';
      } else {
        const tail = chunk.subarray(start, lf);
        bytes = Buffer.concat([...this.#pending, tail], this.#pendingLength + tail.length);
        this.#drop();
        if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) {
          bytes = bytes.subarray(0, bytes.length - 1);
          ending = 'crlf';
        }
      }
      if (ending === 'lf') this.#bareLineFeeds++;
      if (bytes.length > this.#maxLineLength) throw this.#onOverflow(bytes.length);
      onLine({ bytes, ending });
      start = lf + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.#pending.push(rest);
      this.#pendingLength += rest.length;
      bufferedBytes.hold(rest.length);
      // +1: the last byte may be the CR of a CRLF that is not counted in the line.
      if (this.#pendingLength > this.#maxLineLength + 1) throw this.#onOverflow(this.#pendingLength);
    }
  }

  /** Drop any partial line (used when the stream is handed to TLS). */
  reset(): void {
    this.#drop();
  }

  #drop(): void {
    bufferedBytes.release(this.#pendingLength);
    this.#pending = [];
    this.#pendingLength = 0;
  }
}
