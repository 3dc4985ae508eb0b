import { afterEach, describe, expect, it } from 'vitest';
import { ImapRawClient } from '../../src/protocols/imap/raw/client.js';
import { MAX_TIMEOUT_MS, resolveTimeouts, timerDelay } from '../../src/transport/timeouts.js';
import { Transcript } from '../../src/transport/transcript.js';
import { startFakeImap, type FakeImap } from '../imap-raw/fake-imap.js';

/**
 * Node clamps a timer of 2^31 ms or more to 1 ms. A configured timeout is
 * refused above MAX_TIMEOUT_MS; a timer computed from several of them (an
 * IDLE wait plus the command timeout) is capped, so it never fires at once.
 */
describe('timers never overflow', () => {
  const servers: FakeImap[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.close();
  });

  it('timerDelay caps at 2^31-1 ms and never goes below 0', () => {
    expect(MAX_TIMEOUT_MS).toBe(2 ** 31 - 1);
    expect(timerDelay(2 ** 31)).toBe(MAX_TIMEOUT_MS);
    expect(timerDelay(Number.POSITIVE_INFINITY)).toBe(MAX_TIMEOUT_MS);
    expect(timerDelay(-5)).toBe(0);
    expect(timerDelay(1.2)).toBe(2);
  });

  it('resolveTimeouts refuses a timeout of 2^31 ms', () => {
    expect(() => resolveTimeouts({ command: 2 ** 31 })).toThrow(/at most 2147483647 ms/);
    expect(resolveTimeouts({ command: MAX_TIMEOUT_MS }).command).toBe(MAX_TIMEOUT_MS);
  });

  it('an IDLE with the largest push timeout waits for the push instead of timing out at once', { timeout: 20_000 }, async () => {
    const imap = await startFakeImap({
      capabilities: ['IMAP4rev1', 'IDLE'],
      commands: {
        IDLE: (s, tag, _args, fake) => {
          fake.expectLine(s, (line) => s.write(line === 'DONE' ? `${tag} OK Idle completed\r\n` : `${tag} BAD expected DONE\r\n`));
          setTimeout(() => void s.write('* 3 EXISTS\r\n'), 300);
          return s.write('+ idling\r\n');
        },
      },
    });
    servers.push(imap);
    const client = await ImapRawClient.connect({
      host: imap.host,
      port: imap.port,
      security: 'none',
      transcript: new Transcript(),
      session: 'laptop',
      timeouts: { command: 5_000 },
    });
    try {
      // The read's timer is the push timeout plus the command timeout: over 2^31 ms.
      const result = await client.idle({ until: (u) => u.kind === 'EXISTS', timeoutMs: 2 ** 31 - 1 });
      expect(result.ended).toBe('matched');
      expect(result.events.map((e) => e.raw)).toEqual(['* 3 EXISTS']);
    } finally {
      client.drop();
    }
  });
});
