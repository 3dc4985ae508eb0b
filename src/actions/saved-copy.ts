import { createHash } from 'node:crypto';
import { open, readFile } from 'node:fs/promises';
import { BODY_HEADER } from '../protocols/smtp/generated-message.js';
import { openPrivateFile } from '../transport/private-files.js';

/**
 * The local copy of a downloaded message (pop3.retr / imap.fetch with `save`):
 * written piece by piece as it is read, then checked on disk, read back as a
 * stream. A copy up to SMALL_COPY_OCTETS is also read back whole, as `saved`,
 * for the byte-for-byte checks of the shipped scenarios; a bigger one is only
 * described (octets, SHA-256, and the generated body's check when the message
 * names one), so a 25 MB copy is never held.
 */
export const SMALL_COPY_OCTETS = 1024 * 1024;

/** The header block of a copy is read up to this much to find the generator's header; trace fields make it longer than sent. */
const MAX_HEAD_OCTETS = 256 * 1024;

export interface CopyDigest {
  readonly saved_octets: number;
  readonly saved_sha256: string;
  /** Present when the copy names its generated body (X-Mailprobe-Body). */
  readonly body_named_octets?: number;
  readonly body_named_sha256?: string;
  readonly body_octets?: number;
  readonly body_sha256?: string;
  /** The body on disk has the octets and SHA-256 its header names. */
  readonly body_verified?: boolean;
  /** `saved` itself, for a small copy. */
  readonly saved?: Buffer;
}

/** Writes the copy with `fill` handing pieces to the writer, then describes what is on disk. */
export async function saveCopy(path: string, fill: (write: (piece: Uint8Array) => Promise<void>) => Promise<void>): Promise<CopyDigest> {
  const handle = await openPrivateFile(path);
  try {
    await fill(async (piece) => {
      // A write may take fewer octets than it was given; the rest follows until the piece is on disk.
      for (let offset = 0; offset < piece.length; ) {
        const { bytesWritten } = await handle.write(piece, offset, piece.length - offset);
        if (bytesWritten <= 0) throw new Error(`could not write the local copy ${path}: the file took no octets`);
        offset += bytesWritten;
      }
    });
  } finally {
    await handle.close();
  }
  return digestCopy(path);
}

const READ_OCTETS = 256 * 1024;

/**
 * The file's octets in pieces, each a view of one buffer that the next piece
 * overwrites: the digest only hashes them (a hash copies), and a stream's fresh
 * buffer per piece would leave a 25 MB copy's worth of spent buffers behind.
 */
async function* readReusing(path: string, size: number): AsyncGenerator<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(size);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, size, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/** Streams the file once: its octets and SHA-256, and the SHA-256 of what follows the header block. */
export async function digestCopy(path: string): Promise<CopyDigest> {
  const whole = createHash('sha256');
  const body = createHash('sha256');
  let octets = 0;
  let bodyOctets = 0;
  // 'head' until the blank line; 'body' after it; 'none' when the head is too long to be a header block.
  let state: 'head' | 'body' | 'none' = 'head';
  let head = Buffer.alloc(0);
  let named: { octets: number; sha256: string } | undefined;
  for await (const chunk of readReusing(path, READ_OCTETS)) {
    octets += chunk.length;
    whole.update(chunk);
    if (state === 'body') {
      body.update(chunk);
      bodyOctets += chunk.length;
      continue;
    }
    if (state === 'none') continue;
    // The end of the header block may straddle chunks: look in what is kept of the head plus this chunk.
    const joined = Buffer.concat([head, chunk]);
    const end = joined.indexOf('\r\n\r\n');
    if (end === -1) {
      if (joined.length > MAX_HEAD_OCTETS) state = 'none';
      else head = joined;
      continue;
    }
    const rest = joined.subarray(end + 4);
    named = namedBody(joined.subarray(0, end + 2));
    body.update(rest);
    bodyOctets = rest.length;
    state = 'body';
  }
  const result: CopyDigest = { saved_octets: octets, saved_sha256: whole.digest('hex') };
  if (named === undefined || state !== 'body') return withSmall(result, path);
  const bodySha = body.digest('hex');
  return withSmall(
    {
      ...result,
      body_named_octets: named.octets,
      body_named_sha256: named.sha256,
      body_octets: bodyOctets,
      body_sha256: bodySha,
      body_verified: named.octets === bodyOctets && named.sha256 === bodySha,
    },
    path,
  );
}

async function withSmall(digest: CopyDigest, path: string): Promise<CopyDigest> {
  return digest.saved_octets <= SMALL_COPY_OCTETS ? { ...digest, saved: await readFile(path) } : digest;
}

/** "X-Mailprobe-Body: generated; octets=…; sha256=…" in a header block (the first one, should a copy carry it twice). */
function namedBody(head: Buffer): { octets: number; sha256: string } | undefined {
  const text = head.toString('latin1');
  const match = new RegExp(`(?:^|\\r\\n)${BODY_HEADER}:\\s*generated;\\s*octets=(\\d{1,15});\\s*sha256=([0-9a-f]{64})\\r\\n`, 'i').exec(text);
  return match ? { octets: Number(match[1]), sha256: (match[2] as string).toLowerCase() } : undefined;
}
