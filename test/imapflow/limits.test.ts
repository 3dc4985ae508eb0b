import { afterEach, describe, expect, it } from 'vitest';
import { ImapSessionError } from '../../src/protocols/imap/errors.js';
import { ImapSession } from '../../src/protocols/imap/session.js';
import { BufferMeter, DEFAULT_LIMITS } from '../../src/transport/limits.js';
import { GREETING, afterCapability, openOutcome, sessionOptions, startHostile, type HostileConnection, type HostileServer } from './hostile-imap.js';

/**
 * Issue 7 §3: imapflow buffered up to 1 GiB of one line (mailprobe's own
 * limit is 64 KiB) and many literals of one response without bound. Its
 * parser limits are mailprobe's now; exceeding one is ELIMIT in the phase it
 * happened in (never "tcp"), naming the limit, and the bytes imapflow held
 * unparsed, as the session's meter counts them, stay within the limit plus
 * one socket read. Memory is asserted on bytes held, not on time.
 */
const GIVE_UP_MS = 20_000;
/** One socket read that arrives before imapflow refuses the response. */
const SLACK = 64 * 1024;

let server: HostileServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Greets, logs in and answers OK to everything until the client's NOOP, which it returns. */
async function loginUntilNoop(c: HostileConnection): Promise<{ tag: string }> {
  c.write(GREETING);
  const cmd = await afterCapability(c);
  c.write(`${cmd.tag} OK [CAPABILITY IMAP4rev1 LITERAL+] logged in\r\n`);
  for (;;) {
    const next = await c.command();
    if (next.verb === 'NOOP') return next;
    c.write(`${next.tag} OK done\r\n`);
  }
}

describe('imapflow parser limits are mailprobe limits', () => {
  it('an endless greeting line is ELIMIT in the greeting phase, naming maxLineLength, peak within the limit', async () => {
    server = await startHostile((c) => c.flood(`* OK ${'x'.repeat(16 * 1024)}`));
    const meter = new BufferMeter();
    const outcome = await openOutcome(sessionOptions(server.port, { meter }), GIVE_UP_MS);
    expect(outcome.hung).toBe(false);
    const error = outcome.error as ImapSessionError;
    expect(error).toBeInstanceOf(ImapSessionError);
    expect(error.code).toBe('ELIMIT');
    expect(error.phase).toBe('greeting');
    expect(error.message).toMatch(/maxLineLength/);
    expect(meter.peak).toBeGreaterThan(DEFAULT_LIMITS.maxLineLength / 2);
    expect(meter.peak).toBeLessThanOrEqual(DEFAULT_LIMITS.maxLineLength + SLACK);
    expect(meter.current).toBe(0);
  });

  it('an endless line in answer to LOGIN is ELIMIT in the auth phase', async () => {
    server = await startHostile(async (c) => {
      c.write(GREETING);
      await afterCapability(c);
      await c.flood(`* OK ${'y'.repeat(16 * 1024)}`);
    });
    const meter = new BufferMeter();
    const outcome = await openOutcome(sessionOptions(server.port, { meter }), GIVE_UP_MS);
    const error = outcome.error as ImapSessionError;
    expect(error.code).toBe('ELIMIT');
    expect(error.phase).toBe('auth');
    expect(error.message).toMatch(/maxLineLength \(65536\)/);
    expect(meter.peak).toBeLessThanOrEqual(DEFAULT_LIMITS.maxLineLength + SLACK);
  });

  it('a literal announced above maxMessageBytes is ELIMIT naming maxMessageBytes, and nothing of it is held', async () => {
    server = await startHostile(async (c) => {
      await loginUntilNoop(c);
      c.write(`* 1 FETCH (UID 1 BODY[] {99999999999}\r\n`);
      await c.flood('z'.repeat(64 * 1024));
    });
    const meter = new BufferMeter();
    const session = await ImapSession.open(sessionOptions(server.port, { meter }));
    const error = await session
      .call('NOOP', (c) => c.noop())
      .then(
        () => undefined,
        (err: unknown) => err as ImapSessionError,
      );
    expect(error?.code).toBe('ELIMIT');
    expect(error?.phase).toBe('command');
    expect(error?.message).toMatch(/maxMessageBytes/);
    expect(meter.peak).toBeLessThanOrEqual(DEFAULT_LIMITS.maxLineLength + SLACK);
  });

  it('many literals in one response stop at maxMessageBytes plus framing (ResponseTooLarge), peak within it', async () => {
    const maxMessageBytes = 1024 * 1024;
    const literal = 900 * 1024;
    server = await startHostile(async (c) => {
      await loginUntilNoop(c);
      // 17 literals of 900 KiB in one FETCH response: each within the literal limit, together far above it.
      let response = '* 1 FETCH (UID 1';
      for (let i = 0; i < 17; i++) response += ` BODY[${i + 1}] {${literal}}\r\n${'q'.repeat(literal)}`;
      c.write(`${response})\r\n`);
      await c.closed;
    });
    const meter = new BufferMeter();
    const session = await ImapSession.open(sessionOptions(server.port, { meter, limits: { maxMessageBytes } }));
    const error = await session
      .call('NOOP', (c) => c.noop())
      .then(
        () => undefined,
        (err: unknown) => err as ImapSessionError,
      );
    expect(error?.code).toBe('ELIMIT');
    expect(error?.phase).toBe('command');
    expect(error?.message).toMatch(/maxMessageBytes \(1048576\)/);
    expect(meter.peak).toBeGreaterThan(literal);
    expect(meter.peak).toBeLessThanOrEqual(maxMessageBytes + 2 * (DEFAULT_LIMITS.maxLineLength + 2) + SLACK);
    expect(meter.current).toBe(0);
  });

  it('the meter releases a response once it is complete: a big legitimate literal is held only while it arrives', async () => {
    const size = 300 * 1024;
    server = await startHostile(async (c) => {
      const cmd = await loginUntilNoop(c);
      c.write(`* 1 FETCH (UID 1 BODY[] {${size}}\r\n${'m'.repeat(size)})\r\n${cmd.tag} OK done\r\n`);
      for (;;) {
        const next = await c.command();
        c.write(`${next.tag} OK done\r\n`);
      }
    });
    const meter = new BufferMeter();
    const session = await ImapSession.open(sessionOptions(server.port, { meter }));
    await session.call('NOOP', (c) => c.noop());
    expect(meter.peak).toBeGreaterThanOrEqual(size);
    expect(meter.peak).toBeLessThanOrEqual(size + SLACK);
    expect(meter.current).toBe(0);
    session.drop();
  });
});
