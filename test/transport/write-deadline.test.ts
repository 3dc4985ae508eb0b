import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/transport/connect.js';
import { TransportError } from '../../src/transport/errors.js';
import { Transcript } from '../../src/transport/transcript.js';

/**
 * Connection.writeBytes against a peer that accepts and never reads: once the
 * socket buffers are full the write cannot end, and the transfer deadline
 * (the command timeout plus 1 s per minTransferRate octets) must stop it.
 */
const COMMAND_MS = 300;
/** Far above the expected time (COMMAND_MS plus ~64 ms of allowance): a shared machine is noisy. */
const MARGIN_MS = 8_000;

let server: Server | undefined;
const peers: Socket[] = [];

afterEach(async () => {
  for (const p of peers.splice(0)) p.destroy();
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  server = undefined;
});

async function deafPeer(): Promise<number> {
  server = createServer((socket) => {
    socket.pause(); // never reads: our writes fill the buffers and stop
    peers.push(socket);
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('writing message data', () => {
  it('a peer that stops reading fails the write with ETIMEOUT naming the rate, within the transfer deadline', { timeout: 20_000 }, async () => {
    const port = await deafPeer();
    const connection = await connect({
      host: '127.0.0.1',
      port,
      security: 'none',
      timeouts: { command: COMMAND_MS },
      // 1 GiB/s: 64 MiB earn about 64 ms on top of the command timeout.
      limits: { minTransferRate: 1024 * 1024 * 1024 },
      transcript: new Transcript(),
      session: 'deaf',
    });
    const started = performance.now();
    const error = await connection.writeBytes(Buffer.alloc(64 * 1024 * 1024, 0x61), { phase: 'command', command: 'the message data' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ code: 'ETIMEOUT', phase: 'command' });
    expect((error as Error).message).toMatch(
      /^127\.0\.0\.1:\d+ did not take the message data at the minimum rate of 1073741824 bytes\/s: 67108864 octets not sent within \d+ ms \(a transfer may take 300 ms plus 1 s per 1073741824 octets\)$/,
    );
    expect(connection.closed).toBe(true);
    expect(elapsed).toBeLessThan(COMMAND_MS + 64 + MARGIN_MS);
  });
});
