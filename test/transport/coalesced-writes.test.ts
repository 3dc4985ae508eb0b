import { createServer, type Server, Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { connect } from '../../src/transport/connect.js';
import type { Connection } from '../../src/transport/connection.js';
import { Transcript } from '../../src/transport/transcript.js';

/**
 * Lines written in the same tick leave as one socket write (the connection
 * corks the socket until the next tick), and nothing written is lost when the
 * connection is destroyed in that same tick.
 */
let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((r) => (server === undefined ? r() : server.close(() => r())));
  server = undefined;
});

/** A listener that records each chunk it reads, and when its peer is gone. */
async function recorder(): Promise<{ port: number; chunks: string[]; closed: Promise<void> }> {
  const chunks: string[] = [];
  let closed!: () => void;
  const done = new Promise<void>((r) => (closed = r));
  server = createServer((socket: Socket) => {
    socket.on('data', (b) => chunks.push(b.toString('latin1')));
    socket.on('close', () => closed());
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
  const address = server.address();
  return { port: typeof address === 'object' && address !== null ? address.port : 0, chunks, closed: done };
}

async function open(port: number): Promise<Connection> {
  return connect({ host: '127.0.0.1', port, security: 'none', transcript: new Transcript(), session: 'test' });
}

describe('coalesced writes', () => {
  it('three lines written in one tick are one socket write, and arrive in order', async () => {
    const r = await recorder();
    const c = await open(r.port);
    // The socket's own write paths: one call for a single chunk, one for several buffered by a cork.
    const single = vi.spyOn(Socket.prototype, '_write');
    const several = vi.spyOn(Socket.prototype, '_writev');
    try {
      c.writeLine('A1 NOOP');
      c.writeLine('A2 NOOP');
      c.writeLine('A3 NOOP');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(single.mock.calls.length + several.mock.calls.length).toBe(1);
      expect(r.chunks.join('')).toBe('A1 NOOP\r\nA2 NOOP\r\nA3 NOOP\r\n');
    } finally {
      single.mockRestore();
      several.mockRestore();
      c.destroy();
    }
  });

  it('a line written just before destroy() still reaches the server', async () => {
    const r = await recorder();
    const c = await open(r.port);
    c.writeLine('QUIT');
    c.destroy();
    await r.closed;
    expect(r.chunks.join('')).toBe('QUIT\r\n');
  });

  it('lines of separate ticks are each sent in their tick', async () => {
    const r = await recorder();
    const c = await open(r.port);
    try {
      c.writeLine('one');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(r.chunks.join('')).toBe('one\r\n');
      c.writeLine('two');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(r.chunks.join('')).toBe('one\r\ntwo\r\n');
    } finally {
      c.destroy();
    }
  });
});
