import { afterEach, describe, expect, it } from 'vitest';
import { ImapRawClient } from '../../src/protocols/imap/raw/client.js';
import { ResponseFramer } from '../../src/protocols/imap/raw/framer.js';
import { Pop3Client } from '../../src/protocols/pop3/client.js';
import { connect } from '../../src/transport/connect.js';
import { BufferMeter, bufferedBytes } from '../../src/transport/limits.js';
import { LineReader } from '../../src/transport/line-reader.js';
import { TransportError } from '../../src/transport/errors.js';
import { Transcript } from '../../src/transport/transcript.js';
import { FakeLineServer } from '../support/fake-line-server.js';
import { startFakeImap, type FakeImap } from '../imap-raw/fake-imap.js';
import { startFakePop3 } from '../pop3/fake-pop3.js';

/**
 * bufferedBytes counts the server bytes mailprobe holds: each buffer holds
 * what it keeps and releases it when handed on, so a flood, a huge line or a
 * literal raises the peak and `current` falls back afterwards.
 */
const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

/** Starts a measurement: the peak from now, and what was held before (normally 0). */
function measure(): { baseline: number; peakAbove(): number } {
  const baseline = bufferedBytes.current;
  bufferedBytes.resetPeak();
  return { baseline, peakAbove: () => bufferedBytes.peak - baseline };
}

describe('BufferMeter', () => {
  it('tracks current and peak; resetPeak starts a new measurement from what is held now', () => {
    const meter = new BufferMeter();
    meter.hold(100);
    meter.hold(50);
    meter.release(120);
    expect(meter.current).toBe(30);
    expect(meter.peak).toBe(150);
    meter.resetPeak();
    expect(meter.peak).toBe(30);
    meter.release(1_000);
    expect(meter.current).toBe(0);
    expect(meter.peak).toBe(30);
  });

  it('a huge partial line is held by the line reader until it ends', () => {
    const m = measure();
    const reader = new LineReader(256 * 1024, () => new TransportError('ELIMIT', 'command', 'too long'));
    const lines: Buffer[] = [];
    reader.push(Buffer.alloc(100_000, 0x41), (l) => lines.push(l.bytes));
    expect(bufferedBytes.current - m.baseline).toBe(100_000);
    reader.push(Buffer.from('\r\n'), (l) => lines.push(l.bytes));
    expect(lines[0]?.length).toBe(100_000);
    expect(bufferedBytes.current).toBe(m.baseline);
    expect(m.peakAbove()).toBeGreaterThanOrEqual(100_000);
    reader.push(Buffer.alloc(10, 0x41), () => undefined);
    reader.reset();
    expect(bufferedBytes.current).toBe(m.baseline);
  });

  it('a flood of lines nobody reads yet is held in the queue, and released as it is read', { timeout: 20_000 }, async () => {
    const line = `* ${'x'.repeat(98)}\r\n`;
    const server = await FakeLineServer.start({ greeting: (s) => s.write(line.repeat(5_000)) });
    servers.push(server);
    const m = measure();
    const connection = await connect({ host: server.host, port: server.port, security: 'none', transcript: new Transcript(), session: 'flood' });
    try {
      // Back-pressure stops the queue at maxQueuedLines (1000): at least that many lines are held.
      for (let i = 0; i < 100 && bufferedBytes.current - m.baseline < 100 * 1_000; i++) await new Promise((r) => setTimeout(r, 20));
      expect(bufferedBytes.current - m.baseline).toBeGreaterThanOrEqual(100 * 1_000);
      for (let i = 0; i < 5_000; i++) await connection.readLine({ phase: 'command', log: false });
      expect(bufferedBytes.current).toBe(m.baseline);
      expect(m.peakAbove()).toBeGreaterThanOrEqual(100 * 1_000);
    } finally {
      connection.destroy();
    }
  });

  it('a POP3 message is held while it is assembled, then released', { timeout: 20_000 }, async () => {
    const body = Buffer.from(`Subject: big\r\n\r\n${`${'y'.repeat(998)}\r\n`.repeat(1_000)}`);
    const server = await startFakePop3({ messages: [body] });
    servers.push(server);
    const m = measure();
    const client = await Pop3Client.connect({ host: server.host, port: server.port, security: 'none', transcript: new Transcript(), session: 'laptop' });
    try {
      await client.login('alice', 'secret-pw', 'user');
      const message = await client.retr(1);
      expect(message.equals(body)).toBe(true);
      expect(m.peakAbove()).toBeGreaterThanOrEqual(body.length);
      expect(bufferedBytes.current).toBe(m.baseline);
    } finally {
      client.drop();
    }
    expect(bufferedBytes.current).toBe(m.baseline);
  });

  it('an IMAP literal is held while it is assembled, then released', { timeout: 20_000 }, async () => {
    const literal = Buffer.from(`${'z'.repeat(1_000)}\r\n`.repeat(300));
    const imap: FakeImap = await startFakeImap({
      greeting: '* OK [CAPABILITY IMAP4rev1] ready\r\n',
      commands: {
        FETCH: async (s, tag) => {
          await s.write(`* 1 FETCH (BODY[] {${literal.length}}\r\n`);
          await s.write(literal);
          await s.write(`)\r\n${tag} OK FETCH completed\r\n`);
        },
      },
    });
    servers.push(imap);
    const m = measure();
    const client = await ImapRawClient.connect({ host: imap.host, port: imap.port, security: 'none', transcript: new Transcript(), session: 'laptop' });
    try {
      const response = await client.command('FETCH 1 BODY[]');
      expect(response.untagged[0]?.literals[0]?.equals(literal)).toBe(true);
      expect(m.peakAbove()).toBeGreaterThanOrEqual(literal.length);
      expect(bufferedBytes.current).toBe(m.baseline);
    } finally {
      client.drop();
    }
  });

  it('a literal cut short by a failure is released when the framer discards it', () => {
    const m = measure();
    const framer = new ResponseFramer({ log: () => undefined, checkLiteral: () => undefined });
    framer.push({ bytes: Buffer.from('* 1 FETCH (BODY[] {50000}'), ending: 'crlf' });
    framer.push({ bytes: Buffer.alloc(20_000, 0x61), ending: 'crlf' });
    expect(bufferedBytes.current - m.baseline).toBe(20_002);
    framer.discard();
    expect(bufferedBytes.current).toBe(m.baseline);
  });
});
