import { createHash } from 'node:crypto';
import { makeMessageId, RUN_HEADER } from '../../core/run-identity.js';

/**
 * A message of an exact size with a generated body, for the "big message"
 * promises (a 25 MB message round-trips). It is never built whole: the body is
 * produced in chunks as it is sent, from the Message-ID and a line counter, so
 * the same inputs give the same octets. Every body line is 7-bit text, 78
 * characters and CRLF (far under RFC 5321's 1000-octet line limit), and starts
 * with "L", never ".", so SMTP dot-stuffing leaves it alone. The header
 * `X-Mailprobe-Body` names the body's octets and SHA-256, so a reader of any
 * copy can check the body without the sender's help.
 */
export const BODY_HEADER = 'X-Mailprobe-Body';

export interface GeneratedMessageInput {
  readonly runId: string;
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  /** Octets of the whole message: header block and body. */
  readonly size: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Fixed in tests; the send time otherwise. */
  readonly date?: Date;
  /** Fixed in tests; a fresh one otherwise. */
  readonly messageId?: string;
}

export interface GeneratedMessage {
  readonly messageId: string;
  /** The header block, blank line included. */
  readonly head: Buffer;
  readonly size: number;
  readonly bodyOctets: number;
  readonly bodySha256: string;
  /** SHA-256 of the whole message as handed to SMTP (before dot-stuffing). */
  readonly sha256: string;
  /** The whole message, head first, in chunks of about `CHUNK_OCTETS`. Each call starts again. */
  chunks(): Iterable<Buffer>;
}

const LINE_OCTETS = 80;
const LINES_PER_CHUNK = 819; // 65,520 octets
/** "; octets=NNN; sha256=<64 hex>": the header's length does not depend on the values. */
const OCTET_DIGITS = 12;

/** Throws when `size` is too small to hold the header block. */
export function generateMessage(input: GeneratedMessageInput): GeneratedMessage {
  const messageId = input.messageId ?? makeMessageId(input.runId);
  const seed = createHash('sha256').update(`${input.runId}\n${messageId}`).digest('hex');
  const headWith = (bodyOctets: number, sha: string) => header(input, messageId, bodyOctets, sha);
  const headOctets = headWith(0, '0'.repeat(64)).length;
  const bodyOctets = input.size - headOctets;
  if (bodyOctets < 0) throw new RangeError(`a message of ${input.size} octets cannot hold its ${headOctets}-octet header block`);
  const body = () => bodyChunks(seed, bodyOctets);
  // The two hash passes write every chunk into one scratch buffer: a hash copies what it is given, and a 25 MB
  // message would otherwise leave 50 MB of spent buffers for the garbage collector (peak RSS, issue 12).
  // A chunk is at most LINES_PER_CHUNK lines, one of them an octet longer (see bodyChunks).
  const scratch = Buffer.allocUnsafe((LINES_PER_CHUNK + 1) * (LINE_OCTETS + 1));
  const bodyHash = createHash('sha256');
  for (const chunk of bodyChunks(seed, bodyOctets, scratch)) bodyHash.update(chunk);
  const bodySha256 = bodyHash.digest('hex');
  const head = headWith(bodyOctets, bodySha256);
  const whole = createHash('sha256').update(head);
  for (const chunk of bodyChunks(seed, bodyOctets, scratch)) whole.update(chunk);
  return {
    messageId,
    head,
    size: input.size,
    bodyOctets,
    bodySha256,
    sha256: whole.digest('hex'),
    *chunks() {
      yield head;
      yield* body();
    },
  };
}

function header(input: GeneratedMessageInput, messageId: string, bodyOctets: number, sha: string): Buffer {
  const fields: Array<[string, string]> = [
    ['From', input.from],
    ['To', input.to.join(', ')],
    ['Subject', input.subject],
    ['Date', (input.date ?? new Date()).toUTCString().replace(/GMT$/, '+0000')],
    ['Message-ID', messageId],
    ...Object.entries(input.headers ?? {}),
    [RUN_HEADER, input.runId],
    [BODY_HEADER, `generated; octets=${String(bodyOctets).padStart(OCTET_DIGITS, '0')}; sha256=${sha}`],
    ['MIME-Version', '1.0'],
    ['Content-Type', 'text/plain; charset=us-ascii'],
    ['Content-Transfer-Encoding', '7bit'],
  ];
  for (const [name, value] of fields) {
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name) || /[\r\n]/.test(value)) throw new Error(`header field ${JSON.stringify(name)} cannot be written as one line`);
    if (/[^\x20-\x7e\t]/.test(value)) throw new Error(`header field ${JSON.stringify(name)} is not 7-bit text`);
  }
  return Buffer.from(`${fields.map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`, 'latin1');
}

/**
 * Line n: "L" + n in 9 digits + " " + 67 characters of the seed, rotated by n,
 * + CRLF. The last line is shorter (or, when one octet is left over, the one
 * before it is one longer) so the body has exactly `octets` octets. A chunk is
 * LINES_PER_CHUNK lines, the last chunk what is left.
 * With `scratch`, each chunk is written into it and yielded as a view that the
 * next chunk overwrites (for readers that copy, like a hash); without, each
 * chunk is a buffer of its own (for the socket, which keeps it until sent).
 * The lines are written as octets, not built as strings: a 25 MB message is
 * read three times (two digests, then the send), and a million short-lived
 * strings grew the JavaScript heap by tens of megabytes (peak RSS, issue 12).
 */
function* bodyChunks(seed: string, octets: number, scratch?: Buffer): Generator<Buffer> {
  const ring = Buffer.from(seed.repeat(3), 'latin1');
  // The 64 rotations a line can take, as views made once: Buffer#copy makes a view per call.
  const rotations = Array.from({ length: 64 }, (_, k) => ring.subarray(k, k + 67));
  const full = Math.floor(octets / LINE_OCTETS);
  const rest = octets % LINE_OCTETS;
  if (rest === 1 && full === 0) throw new RangeError('a body of 1 octet cannot end in CRLF');
  // One octet over a whole number of lines: the last full line takes it (no line of CR alone).
  const lengthOf = (n: number): number => (n < full ? (rest === 1 && n === full - 1 ? LINE_OCTETS - 1 : LINE_OCTETS - 2) : rest - 2);
  const lines = full + (rest >= 2 ? 1 : 0);
  for (let first = 0; first < lines; first += LINES_PER_CHUNK) {
    const end = Math.min(first + LINES_PER_CHUNK, lines);
    // Only the body's last two lines can differ from LINE_OCTETS.
    let size = (end - first) * LINE_OCTETS;
    for (let n = Math.max(first, end - 2); n < end; n++) size += lengthOf(n) + 2 - LINE_OCTETS;
    if (scratch !== undefined && size > scratch.length) {
      throw new RangeError(`a chunk of ${size} octets does not fit the ${scratch.length}-octet scratch buffer`);
    }
    const chunk = scratch === undefined ? Buffer.allocUnsafe(size) : scratch.subarray(0, size);
    let at = 0;
    for (let n = first; n < end; n++) at = writeLine(chunk, at, rotations, n, lengthOf(n));
    yield chunk;
  }
}

/** Line n, `length` octets before its CRLF, into `into` at `at`; where the next line starts. */
function writeLine(into: Buffer, at: number, rotations: readonly Buffer[], n: number, length: number): number {
  const rotation = rotations[n % 64] as Buffer;
  if (length !== LINE_OCTETS - 2 || n > 999_999_999) {
    // The odd lines (the short last one, the one an octet longer, a number past 9 digits) as text.
    const text = `L${String(n).padStart(9, '0')} ${rotation.toString('latin1')}`;
    const line = length <= text.length ? text.slice(0, length) : `${text}${'x'.repeat(length - text.length)}`;
    return at + into.write(`${line}\r\n`, at, 'latin1');
  }
  into[at] = 0x4c; // L
  for (let digit = 9, rest = n; digit >= 1; digit--) {
    const units = rest % 10;
    into[at + digit] = 0x30 + units;
    rest = (rest - units) / 10;
  }
  into[at + 10] = 0x20;
  into.set(rotation, at + 11);
  into[at + 78] = 0x0d;
  into[at + 79] = 0x0a;
  return at + LINE_OCTETS;
}
