import { connect as tlsConnect } from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/transport/connect.js';
import type { Connection } from '../../src/transport/connection.js';
import { TransportError } from '../../src/transport/errors.js';
import { Transcript } from '../../src/transport/transcript.js';
import { FakeLineServer } from '../support/fake-line-server.js';
import { testCerts, type TestCerts } from '../support/test-certs.js';

let certs: TestCerts;
const servers: FakeLineServer[] = [];
const connections: Connection[] = [];

beforeAll(async () => {
  certs = await testCerts();
  return () => certs.cleanup();
});

afterEach(async () => {
  for (const c of connections.splice(0)) c.destroy();
  for (const s of servers.splice(0)) await s.close();
});

async function startServer(onStarttls: 'tls' | 'inject'): Promise<FakeLineServer> {
  const server = await FakeLineServer.start({
    greeting: '220 fake.test ESMTP\r\n',
    starttls: certs.localhost,
    commands: {
      STARTTLS: async (session) => {
        if (onStarttls === 'tls') await session.startTls('220 go ahead\r\n');
        // CVE-2011-0411: a reply sent in plaintext after the go-ahead, in the same packet.
        else await session.write('220 go ahead\r\n250 injected\r\n');
      },
    },
  });
  servers.push(server);
  return server;
}

async function openToGoAhead(server: FakeLineServer): Promise<Connection> {
  const c = await connect({ host: server.host, port: server.port, security: 'starttls', transcript: new Transcript(), session: 'release' });
  connections.push(c);
  await c.readGreeting();
  c.writeLine('STARTTLS');
  const reply = await c.readLine({ phase: 'starttls', command: 'STARTTLS' });
  expect(reply.bytes.toString('latin1')).toMatch(/^220 go ahead/);
  return c;
}

describe('Connection.releaseForTls', () => {
  it('hands over the plain socket after the go-ahead; a handshake of the caller’s own then works on it', async () => {
    const server = await startServer('tls');
    const c = await openToGoAhead(server);
    const plain = c.releaseForTls();
    expect(c.closed).toBe(true);
    const secure = tlsConnect({ socket: plain, servername: 'localhost', ca: certs.ca });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    expect(secure.authorized).toBe(true);
    secure.destroy();
  });

  it('refuses when the server sent bytes after its go-ahead (STARTTLS injection), and drops the connection', async () => {
    const server = await startServer('inject');
    const c = await openToGoAhead(server);
    // The injected line came in the same write as the go-ahead, so it is queued by now.
    let error: unknown;
    try {
      c.releaseForTls();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).code).toBe('ESTARTTLS');
    expect(c.closed).toBe(true);
  });
});
