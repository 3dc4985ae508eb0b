import { quoted } from '../core/text.js';

/**
 * Is `received` a faithful delivery of `sent`?
 *
 * A server may add trace fields above the message (Return-Path, Received,
 * Delivered-To: RFC 5321 §4.4 requires some of them), but must not change a
 * byte of what was submitted. So the check is: the received bytes end with the
 * sent bytes exactly, and everything before them is whole header lines.
 */
export interface CopyComparison {
  readonly identical: boolean;
  /** Header lines the server put in front, names only, e.g. ["Return-Path", "Delivered-To", "Received"]. */
  readonly addedHeaders: string[];
  /** Where and how the copy differs, for the failure message. */
  readonly difference?: string;
}

const HEADER_LINE = /^[!-9;-~]+:/;
const CONTINUATION = /^[ \t]/;

export function compareDeliveredCopy(sent: Buffer, received: Buffer): CopyComparison {
  if (received.length < sent.length) {
    return { identical: false, addedHeaders: [], difference: `the copy has ${received.length} octets, fewer than the ${sent.length} sent` };
  }
  const offset = received.length - sent.length;
  const tail = received.subarray(offset);
  if (!tail.equals(sent)) {
    return { identical: false, addedHeaders: [], difference: firstDifference(sent, received) };
  }
  const prefix = received.subarray(0, offset).toString('latin1');
  if (prefix.length > 0 && !prefix.endsWith('\r\n')) {
    return { identical: false, addedHeaders: [], difference: 'the bytes before the sent message do not end in CRLF' };
  }
  const addedHeaders: string[] = [];
  for (const line of prefix.split('\r\n').slice(0, -1)) {
    if (CONTINUATION.test(line)) continue;
    if (!HEADER_LINE.test(line)) {
      return { identical: false, addedHeaders, difference: `the server put a non-header line in front of the message: ${quoted(line, 80)}` };
    }
    addedHeaders.push(line.slice(0, line.indexOf(':')));
  }
  return { identical: true, addedHeaders };
}

/** Aligns the sent message with the received one at its header block and names the first changed byte. */
function firstDifference(sent: Buffer, received: Buffer): string {
  // The sent message starts with its first header line; find it in the copy to skip the trace fields.
  const firstLineEnd = sent.indexOf('\r\n');
  const firstLine = firstLineEnd > 0 ? sent.subarray(0, firstLineEnd + 2) : sent.subarray(0, 16);
  const start = Math.max(0, received.indexOf(firstLine));
  const copy = received.subarray(start);
  const limit = Math.min(copy.length, sent.length);
  let i = 0;
  while (i < limit && copy[i] === sent[i]) i++;
  if (i === limit && copy.length !== sent.length) {
    return `the copy is ${copy.length - sent.length > 0 ? 'longer' : 'shorter'} than sent: ${copy.length} vs ${sent.length} octets after the trace headers`;
  }
  const line = sent.subarray(0, i).toString('latin1').split('\r\n').length;
  const context = (b: Buffer) => JSON.stringify(b.subarray(Math.max(0, i - 12), i + 12).toString('latin1'));
  return `first difference at octet ${i} of the sent message (line ${line}): sent ${context(sent)}, copy ${context(copy)}`;
}
