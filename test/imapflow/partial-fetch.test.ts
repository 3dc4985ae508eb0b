import { afterEach, describe, expect, it } from 'vitest';
import type { ImapSessionError } from '../../src/protocols/imap/errors.js';
import { ImapSession } from '../../src/protocols/imap/session.js';
import { classifyError } from '../../src/runner/classify.js';
import { GREETING, afterCapability, sessionOptions, startHostile, type HostileConnection, type HostileServer } from './hostile-imap.js';

/**
 * imap.fetch `save` reads a message in partial fetches (BODY.PEEK[]<offset.length>)
 * so that no literal is bigger than one piece. A server that answers a partial
 * fetch with more than was asked, or never stops sending full pieces, is
 * stopped: each piece is bounded, and so is the whole (maxMessageBytes).
 */
let server: HostileServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Logs in, opens INBOX, answers RFC822.SIZE with 100, and each partial fetch with `piece(start, length)`. */
function partialServer(piece: (start: number, length: number) => string) {
  return async (c: HostileConnection) => {
    c.write(GREETING);
    const login = await afterCapability(c);
    c.write(`${login.tag} OK [CAPABILITY IMAP4rev1 LITERAL+] logged in\r\n`);
    for (;;) {
      const cmd = await c.command();
      const partial = /BODY\.PEEK\[\]<(\d+)\.(\d+)>/.exec(cmd.line);
      if (/^(SELECT|EXAMINE)$/i.test(cmd.verb)) c.write(`* 1 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT 6] ok\r\n${cmd.tag} OK [READ-ONLY] done\r\n`);
      else if (partial) {
        const body = piece(Number(partial[1]), Number(partial[2]));
        c.write(`* 1 FETCH (UID 5 BODY[]<${partial[1]}> {${body.length}}\r\n${body})\r\n${cmd.tag} OK done\r\n`);
      } else if (/RFC822\.SIZE/i.test(cmd.line)) c.write(`* 1 FETCH (UID 5 RFC822.SIZE 100)\r\n${cmd.tag} OK done\r\n`);
      else if (/FLAGS/i.test(cmd.line)) c.write(`* 1 FETCH (UID 5 FLAGS ())\r\n${cmd.tag} OK done\r\n`);
      else c.write(`${cmd.tag} OK done\r\n`);
    }
  };
}

async function fetchInPieces(port: number, chunk: number, limits = {}) {
  const session = await ImapSession.open(sessionOptions(port, { limits }));
  try {
    await session.open('INBOX', true);
    const pieces: Buffer[] = [];
    const outcome = await session
      .fetchSourceTo(5, async (p) => void pieces.push(p), chunk)
      .then(
        (result) => ({ result, error: undefined }),
        (error: unknown) => ({ result: undefined, error: error as ImapSessionError }),
      );
    return { ...outcome, pieces };
  } finally {
    session.drop();
  }
}

describe('fetchSourceTo: the message in partial fetches', () => {
  it('asks piece after piece until one is short, and hands each to the sink', async () => {
    const message = 'Subject: x\r\n\r\n' + 'a'.repeat(86);
    server = await startHostile(partialServer((start, length) => message.slice(start, start + length)));
    const { result, error, pieces } = await fetchInPieces(server.port, 16);
    expect(error).toBeUndefined();
    expect(Buffer.concat(pieces).toString()).toBe(message);
    expect(pieces.every((p) => p.length <= 16)).toBe(true);
    expect(result?.pieces).toBe(Math.ceil(message.length / 16));
  });

  it('stops with EIMAP_PARTIAL when a partial fetch returns more than asked', async () => {
    server = await startHostile(partialServer((_start, length) => 'b'.repeat(length + 4)));
    const { error, pieces } = await fetchInPieces(server.port, 16);
    expect(error?.code).toBe('EIMAP_PARTIAL');
    expect(error?.message).toMatch(/20 octets .* more than the 16 asked for/);
    // The server's wrong answer: a failed check citing the clause, not a run that could not happen.
    const verdict = classifyError(error);
    expect(verdict.kind).toBe('failed');
    if (verdict.kind === 'failed') expect(verdict.check.rfc).toBe('RFC 9051 §6.4.5');
    expect(pieces).toHaveLength(0);
  });

  it('stops with ELIMIT once a server that never sends a short piece passes maxMessageBytes', async () => {
    server = await startHostile(partialServer((_start, length) => 'c'.repeat(length)));
    const { error, pieces } = await fetchInPieces(server.port, 1024, { maxMessageBytes: 10 * 1024 });
    expect(error?.code).toBe('ELIMIT');
    expect(error?.message).toMatch(/maxMessageBytes \(10240\)/);
    expect(classifyError(error).kind).toBe('errored');
    expect(pieces.length).toBe(10);
  });
});
