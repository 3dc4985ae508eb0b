import type { Connection } from '../../transport/connection.js';
import type { TransportError } from '../../transport/errors.js';
import { bufferedBytes, limitExceeded } from '../../transport/limits.js';
import type { Line } from '../../transport/line-reader.js';
import type { ReplyBudget } from '../../transport/reply-budget.js';

const DOT = 0x2e;

/**
 * Reads the lines of a multi-line reply up to its "." terminator, undoing
 * dot-stuffing (RFC 1939 §3): a line that starts with "." lost that first ".";
 * a line that is only "." ends the reply. Lines come from the line reader, so
 * a terminator split across reads is found like any other line. Every line
 * is read against `budget`, the deadline of the reply as a whole.
 */
async function readBlock(
  connection: Connection,
  command: string,
  budget: ReplyBudget,
  onLine: (bytes: Buffer, line: Line) => void | Promise<void>,
): Promise<void> {
  const options = { phase: 'command', command, log: false, budget } as const;
  for (;;) {
    // The lines that have arrived are taken without a wait; only the next read from the socket is awaited.
    const line = connection.readArrivedLine(options) ?? (await connection.readLine(options));
    const bytes = line.bytes;
    let handled: void | Promise<void>;
    if (bytes.length > 0 && bytes[0] === DOT) {
      if (bytes.length === 1) return;
      handled = onLine(bytes.subarray(1), line);
    } else {
      handled = onLine(bytes, line);
    }
    if (handled !== undefined) await handled;
  }
}

/**
 * A short listing (CAPA, LIST, UIDL): lines as text, copied to the transcript
 * up to `maxTranscriptListingLines`, the rest summarised.
 */
export async function readListing(connection: Connection, command: string, budget: ReplyBudget): Promise<string[]> {
  const { limits } = connection;
  const lines: string[] = [];
  let octets = 0;
  const details = { host: connection.host, port: connection.port, command };
  const held = new Held();
  try {
    await readBlock(connection, command, budget, (bytes) => {
      octets += bytes.length + 2;
      held.add(bytes.length);
      if (lines.length + 1 > limits.maxListingLines) {
        throw fail(connection, limitExceeded('command', `a listing of more than ${limits.maxListingLines} lines`, limits.maxListingLines, details));
      }
      if (octets > limits.maxListingBytes) {
        throw fail(connection, limitExceeded('command', `a listing of ${octets}+ octets`, limits.maxListingBytes, details));
      }
      const text = bytes.toString('utf8');
      lines.push(text);
      if (lines.length <= limits.maxTranscriptListingLines) connection.transcript.server(connection.session, text);
    });
  } finally {
    held.releaseAll();
  }
  if (lines.length > limits.maxTranscriptListingLines) {
    connection.info(`[${lines.length - limits.maxTranscriptListingLines} more listing lines not shown; ${lines.length} in all]`);
  }
  connection.transcript.server(connection.session, '.');
  return lines;
}

/**
 * A message or its top (RETR, TOP): the exact bytes after unstuffing, each
 * line with the ending the server sent. The transcript gets only its size:
 * message content is the user's mail, not diagnostics.
 */
export async function readBody(connection: Connection, command: string, budget: ReplyBudget): Promise<Buffer> {
  const parts: Buffer[] = [];
  let octets = 0;
  let lineCount = 0;
  const held = new Held();
  try {
    await readBlock(connection, command, budget, (bytes, line) => {
      const ending = line.ending === 'crlf' ? CRLF : LF;
      octets += bytes.length + ending.length;
      refuseAbove(connection, command, octets);
      parts.push(bytes, ending);
      held.add(bytes.length + ending.length);
      lineCount++;
    });
  } finally {
    held.releaseAll();
  }
  connection.info(`[message body: ${octets} octets, ${lineCount} lines]`);
  connection.transcript.server(connection.session, '.');
  return Buffer.concat(parts, octets);
}

/** What readBodyTo gathers before it hands a piece to the sink: big enough for few writes, small beside a message. */
export const BODY_PIECE_OCTETS = 256 * 1024;

/**
 * readBody for a message that goes to disk: the same octets, handed to `sink`
 * in pieces of at most BODY_PIECE_OCTETS as they are read, so only one piece is
 * held. The line reader finds each line end (and so the "." line) wherever the
 * reads split, and every line's leading "." is undone before it joins a piece.
 * maxMessageBytes is enforced on the running count, as readBody does.
 *
 * A piece is lent, not given: the lines are copied into one buffer that is
 * filled again once the sink's promise has resolved (a writer that awaits its
 * write, as saved-copy.ts does). Why: a fresh buffer per piece, or the lines'
 * views kept until a piece is full, left megabytes for the garbage collector
 * on a 25 MB RETR (peak RSS, issue 12). A line longer than a piece (within
 * maxLineLength) is handed on by itself, in a buffer of its own.
 */
export async function readBodyTo(
  connection: Connection,
  command: string,
  budget: ReplyBudget,
  sink: (piece: Buffer) => Promise<void>,
): Promise<{ readonly octets: number; readonly lines: number }> {
  const piece = Buffer.allocUnsafe(BODY_PIECE_OCTETS);
  let pending = 0;
  let octets = 0;
  let lineCount = 0;
  const held = new Held();
  const flush = async () => {
    if (pending === 0) return;
    const filled = pending;
    pending = 0;
    await sink(piece.subarray(0, filled));
    held.releaseAll();
  };
  const add = (bytes: Buffer, ending: Buffer): void => {
    held.add(bytes.length + ending.length);
    // TypedArray#set, not Buffer#copy: copy makes a view per call, 300,000 of them for a 25 MB message.
    piece.set(bytes, pending);
    piece.set(ending, pending + bytes.length);
    pending += bytes.length + ending.length;
  };
  try {
    await readBlock(connection, command, budget, (bytes, line) => {
      const ending = line.ending === 'crlf' ? CRLF : LF;
      const size = bytes.length + ending.length;
      octets += size;
      refuseAbove(connection, command, octets);
      lineCount++;
      if (size <= piece.length - pending) return void add(bytes, ending);
      return flush().then(() => (size <= piece.length ? add(bytes, ending) : sink(Buffer.concat([bytes, ending], size))));
    });
    await flush();
  } finally {
    held.releaseAll();
  }
  connection.info(`[message body: ${octets} octets, ${lineCount} lines]`);
  connection.transcript.server(connection.session, '.');
  return { octets, lines: lineCount };
}

const CRLF = Buffer.from('\r\n');
const LF = Buffer.from('\n');

/**
 * What one multi-line reply holds while it is assembled, counted in
 * `bufferedBytes`; released when the reply is handed on or abandoned.
 */
class Held {
  #octets = 0;

  add(octets: number): void {
    this.#octets += octets;
    bufferedBytes.hold(octets);
  }

  releaseAll(): void {
    bufferedBytes.release(this.#octets);
    this.#octets = 0;
  }
}

/** A limit hit mid-reply leaves the stream out of step: drop the connection. */
function fail(connection: Connection, error: TransportError): TransportError {
  connection.destroy(error);
  return error;
}

/** A message being read has passed maxMessageBytes (the running count `octets`): the read ends as a limit. */
function refuseAbove(connection: Connection, command: string, octets: number): void {
  const { maxMessageBytes } = connection.limits;
  if (octets <= maxMessageBytes) return;
  throw fail(
    connection,
    limitExceeded('command', `a message of ${octets}+ octets`, maxMessageBytes, { host: connection.host, port: connection.port, command }),
  );
}
