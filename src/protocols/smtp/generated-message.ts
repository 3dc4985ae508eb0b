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
 * before it is one longer) so the body has exactly `octets` octets.
 * With `scratch`, each chunk is written into it and yielded as a view that the
 * next chunk overwrites (for readers that copy, like a hash); without, each
 * chunk is a buffer of its own (for the socket, which keeps it until sent).
 */
function* bodyChunks(seed: string, octets: number, scratch?: Buffer): Generator<Buffer> {
  const emit = (text: string): Buffer => {
    if (scratch === undefined) return Buffer.from(text, 'latin1');
    if (text.length > scratch.length) throw new RangeError(`a chunk of ${text.length} octets does not fit the ${scratch.length}-octet scratch buffer`);
    return scratch.subarray(0, scratch.write(text, 'latin1'));
  };
  const ring = seed.repeat(3);
  const full = Math.floor(octets / LINE_OCTETS);
  const rest = octets % LINE_OCTETS;
  const line = (n: number, length: number): string => {
    const text = `L${String(n).padStart(9, '0')} ${ring.slice(n % 64, (n % 64) + 67)}`;
    return length <= text.length ? `${text.slice(0, length)}\r\n` : `${text}${'x'.repeat(length - text.length)}\r\n`;
  };
  let parts: string[] = [];
  for (let n = 0; n < full; n++) {
    // One octet over a whole number of lines: the last full line takes it (no line of CR alone).
    const length = rest === 1 && n === full - 1 ? LINE_OCTETS - 1 : LINE_OCTETS - 2;
    parts.push(line(n, length));
    if (parts.length === LINES_PER_CHUNK) {
      yield emit(parts.join(''));
      parts = [];
    }
  }
  if (rest >= 2) parts.push(line(full, rest - 2));
  else if (rest === 1 && full === 0) throw new RangeError('a body of 1 octet cannot end in CRLF');
  if (parts.length > 0) yield emit(parts.join(''));
}
