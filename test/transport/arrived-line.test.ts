import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/transport/connect.js';
import type { Connection } from '../../src/transport/connection.js';
import { TransportError } from '../../src/transport/errors.js';
import { ReplyBudget } from '../../src/transport/reply-budget.js';
import { Transcript } from '../../src/transport/transcript.js';

/**
 * Connection.readArrivedLine hands over lines that have already arrived without a wait. A reply whose lines
 * keep arriving faster than they are read would never reach readLine (which checks the reply's deadline), so
 * readArrivedLine must check that deadline itself. The flood test in reply-deadline.test.ts ends at the
 * deadline either way, because its reader drains the queue between the flood's writes and readLine runs; here
 * the lines are all queued while the budget has already run out, so only readArrivedLine's own check is tried.
 */
const LINES = 50;
const servers: Server[] = [];
const connections: Connection[] = [];
afterEach(async () => {
  for (const c of connections.splice(0)) c.destroy();
  for (const s of servers.splice(0)) await new Promise<void>((resolve) => s.close(() => resolve()));
});

/** A server that writes LINES lines in one write as soon as a client connects. */
async function burstServer(): Promise<number> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.write(Array.from({ length: LINES }, (_, i) => `L${i + 1}\r\n`).join(''));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return (server.address() as AddressInfo).port;
}

async function queuedConnection(): Promise<Connection> {
  const conn = await connect({ host: '127.0.0.1', port: await burstServer(), security: 'none', transcript: new Transcript(), session: 'burst' });
  connections.push(conn);
  // The first line is waited for; the others came in the same write and are queued behind it.
  const first = await conn.readLine({ phase: 'command', command: 'LIST', budget: conn.replyBudget('LIST', 'reply') });
  expect(first.bytes.toString('utf8')).toBe('L1');
  return conn;
}

const expired = () => new ReplyBudget({ command: 'LIST', kind: 'reply', baseMs: 1_000, minRate: 1_000, startedAt: performance.now() - 60_000 });

describe('Connection.readArrivedLine and the reply deadline', () => {
  it('hands over a line that has arrived while the reply is within its deadline', async () => {
    const conn = await queuedConnection();
    const budget = conn.replyBudget('LIST', 'reply');
    for (let i = 2; i <= LINES; i++) expect(conn.readArrivedLine({ phase: 'command', command: 'LIST', budget })?.bytes.toString('utf8')).toBe(`L${i}`);
    expect(conn.readArrivedLine({ phase: 'command', command: 'LIST', budget })).toBeUndefined();
  });

  it('hands over nothing past the deadline, though lines are queued, so that readLine ends the reply', async () => {
    const conn = await queuedConnection();
    const late = expired();
    expect(conn.readArrivedLine({ phase: 'command', command: 'LIST', budget: late })).toBeUndefined();
    const error = await conn.readLine({ phase: 'command', command: 'LIST', budget: late }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).code).toBe('ETIMEOUT');
    expect((error as TransportError).message).toContain('no complete reply to LIST within 1000 ms');
  });
});
