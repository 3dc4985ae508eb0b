import { afterEach, describe, expect, it } from 'vitest';
import { ImapRawClient } from '../../src/protocols/imap/raw/client.js';
import { Pop3Client } from '../../src/protocols/pop3/client.js';
import { SmtpClient } from '../../src/protocols/smtp/client.js';
import { TransportError } from '../../src/transport/errors.js';
import { Transcript } from '../../src/transport/transcript.js';
import { rejection } from '../support/expect-helpers.js';
import { FakeLineServer, type FakeSession } from '../support/fake-line-server.js';
import { startFakeImap, type FakeImap } from '../imap-raw/fake-imap.js';

/**
 * Servers that trickle complete lines slowly and never end the reply. Each
 * line arrives well within the command timeout, so a per-line timeout alone
 * never fires; the reply as a whole must still end within its deadline.
 */
const COMMAND_MS = 1_500;
/** Far above the expected time (the deadline): a shared machine is noisy. */
const MARGIN_MS = 8_000;
const BYTE_EVERY_MS = 100;

let stopped = false;
const servers: Array<{ close(): Promise<void> }> = [];
const clients: Array<{ drop(): void }> = [];

afterEach(async () => {
  stopped = true;
  for (const c of clients.splice(0)) c.drop();
  for (const s of servers.splice(0)) await s.close();
  stopped = false;
});

/** Writes `head` at once, then an endless run of short lines, one byte every BYTE_EVERY_MS. */
async function trickle(session: FakeSession, head: string, line = 'X-TRICKLE'): Promise<void> {
  await session.write(head);
  const bytes = Buffer.from(`${line}\r\n`);
  for (let i = 0; !stopped; i = (i + 1) % bytes.length) {
    await session.write(bytes.subarray(i, i + 1));
    await new Promise((r) => setTimeout(r, BYTE_EVERY_MS));
  }
}

async function pop3(commands: Record<string, (s: FakeSession, args: string) => void | Promise<void>>): Promise<FakeLineServer> {
  const server = await FakeLineServer.start({
    greeting: '+OK trickle POP3 ready\r\n',
    commands: {
      CAPA: (s) => s.write('+OK\r\nUSER\r\nTOP\r\n.\r\n'),
      USER: (s) => s.write('+OK\r\n'),
      PASS: (s) => s.write('+OK logged in\r\n'),
      ...commands,
    },
  });
  servers.push(server);
  return server;
}

async function pop3Client(server: FakeLineServer, options: { capa?: boolean; limits?: { minTransferRate: number } } = {}): Promise<Pop3Client> {
  const client = await Pop3Client.connect({
    host: server.host,
    port: server.port,
    security: 'none',
    transcript: new Transcript(),
    session: 'laptop',
    timeouts: { command: COMMAND_MS },
    ...(options.capa === undefined ? {} : { capa: options.capa }),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
  });
  clients.push(client);
  return client;
}

async function imapClient(imap: FakeImap, limits?: { minTransferRate: number }): Promise<ImapRawClient> {
  const client = await ImapRawClient.connect({
    host: imap.host,
    port: imap.port,
    security: 'none',
    transcript: new Transcript(),
    session: 'laptop',
    timeouts: { command: COMMAND_MS },
    ...(limits === undefined ? {} : { limits }),
  });
  clients.push(client);
  return client;
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

/** A POP3 connect, whose CAPA answer never ends, fails with the reply's deadline, and no later than it allows. */
async function expectCapaCutAtDeadline(server: FakeLineServer): Promise<void> {
  const { value: error, ms } = await timed(() => rejection(pop3Client(server), TransportError));
  expect(error.code).toBe('ETIMEOUT');
  expect(error.phase).toBe('command');
  expect(error.message).toContain(`no complete reply to CAPA within ${COMMAND_MS} ms`);
  expect(ms).toBeLessThan(COMMAND_MS + MARGIN_MS);
}

describe('a reply has a deadline, however its lines trickle', () => {
  it('POP3 CAPA: a listing that never ends fails with the reply deadline', { timeout: 20_000 }, async () => {
    const server = await pop3({ CAPA: (s) => trickle(s, '+OK capability list follows\r\n') });
    await expectCapaCutAtDeadline(server);
  });

  it('POP3 CAPA: a listing that pours in faster than it is read, and never ends, fails with the reply deadline too', { timeout: 20_000 }, async () => {
    // Most of these lines have arrived before they are read, and are taken without a wait
    // (Connection.readArrivedLine); a flood that keeps coming must still end at the reply's deadline.
    const server = await pop3({
      CAPA: async (s) => {
        await s.write('+OK capability list follows\r\n');
        while (!stopped) {
          await s.write('X-FLOOD\r\n'.repeat(200));
          await new Promise((r) => setTimeout(r, 10));
        }
      },
    });
    await expectCapaCutAtDeadline(server);
  });

  // The reply's deadline and the inactivity timeout are the same length; a server that sends nothing at all
  // is told as silence, not as lines that "kept coming".
  it('POP3 NOOP: a server that says nothing at all is named as silent, not as a reply that never ended', { timeout: 20_000 }, async () => {
    const server = await pop3({ NOOP: () => undefined });
    const client = await pop3Client(server, { capa: false });
    const { value: error, ms } = await timed(() => rejection(client.noop(), TransportError));
    expect(error.code).toBe('ETIMEOUT');
    expect(error.message).toBe(`127.0.0.1:${server.port} sent no line of the reply to NOOP within ${COMMAND_MS} ms`);
    expect(ms).toBeLessThan(COMMAND_MS + MARGIN_MS);
  });

  it('SMTP EHLO: a server that says nothing at all is named as silent, and one that trickles by the deadline', { timeout: 30_000 }, async () => {
    const server = await FakeLineServer.start({
      greeting: '220 fake.test ESMTP\r\n',
      commands: { EHLO: () => undefined, HELO: (s) => trickle(s, '250-fake.test\r\n', '250-X-TRICKLE') },
    });
    servers.push(server);
    const open = async () => {
      const client = await SmtpClient.connect({
        endpoint: { host: server.host, port: server.port, security: 'none', tls: { verify: true } },
        transcript: new Transcript(),
        session: 'smtp',
        timeouts: { dns: 1_000, tcp: 1_000, greeting: 3_000, command: COMMAND_MS },
      });
      clients.push({ drop: () => client.destroy() });
      return client;
    };
    const silent = await timed(async () => rejection((await open()).ehlo(), TransportError));
    expect(silent.value.code).toBe('ETIMEOUT');
    expect(silent.value.message).toBe(`127.0.0.1:${server.port} sent no line of the reply to EHLO within ${COMMAND_MS} ms`);
    expect(silent.ms).toBeLessThan(COMMAND_MS + MARGIN_MS);
    const trickling = await timed(async () => rejection((await open()).helo(), TransportError));
    expect(trickling.value.code).toBe('ETIMEOUT');
    expect(trickling.value.message).toContain(`no complete reply to HELO within ${COMMAND_MS} ms`);
    expect(trickling.ms).toBeLessThan(COMMAND_MS + MARGIN_MS);
  });

  it('POP3 RETR: a body that trickles below the minimum rate fails naming the rate', { timeout: 20_000 }, async () => {
    const server = await pop3({ RETR: (s) => trickle(s, '+OK message follows\r\nSubject: slow\r\n\r\n') });
    const client = await pop3Client(server);
    await client.login('alice', 'pw', 'user');
    const { value: error, ms } = await timed(() => rejection(client.retr(1), TransportError));
    expect(error.code).toBe('ETIMEOUT');
    expect(error.message).toMatch(/the reply to RETR 1 fell below the minimum rate of \d+ bytes\/s/);
    expect(ms).toBeLessThan(COMMAND_MS + MARGIN_MS);
    expect(client.closed).toBe(true);
  });

  it('POP3 RETR: a big message on a slow but steady link is read whole, past the command timeout', { timeout: 30_000 }, async () => {
    // 40 lines of 100 octets, one line every 50 ms: about 2 s in all (more than
    // the 1.5 s command timeout) at about 2000 bytes/s, above the 1000 bytes/s asked for.
    const body = Array.from({ length: 40 }, (_, i) => `${String(i).padStart(4, '0')}${'x'.repeat(94)}\r\n`).join('');
    const server = await pop3({
      RETR: async (s) => {
        await s.write('+OK message follows\r\n');
        for (const line of body.split(/(?<=\n)/)) {
          await s.write(line);
          await new Promise((r) => setTimeout(r, 50));
        }
        await s.write('.\r\n');
      },
    });
    const client = await pop3Client(server, { limits: { minTransferRate: 1_000 } });
    await client.login('alice', 'pw', 'user');
    const { value: message, ms } = await timed(() => client.retr(1));
    expect(message.toString('latin1')).toBe(body);
    // Not an assertion on speed: it shows the transfer outlived the command timeout and still finished.
    expect(ms).toBeGreaterThan(COMMAND_MS);
  });

  it('raw IMAP EXAMINE: untagged lines that never end in a tagged response fail with the deadline', { timeout: 20_000 }, async () => {
    const imap: FakeImap = await startFakeImap({
      greeting: '* OK [CAPABILITY IMAP4rev1] trickle IMAP ready\r\n',
      commands: { EXAMINE: (s) => trickle(s, '* FLAGS (\\Seen)\r\n', '* OK x') },
    });
    servers.push(imap);
    const client = await ImapRawClient.connect({
      host: imap.host,
      port: imap.port,
      security: 'none',
      transcript: new Transcript(),
      session: 'laptop',
      timeouts: { command: COMMAND_MS },
    });
    clients.push(client);
    const { value: error, ms } = await timed(() => rejection(client.command('EXAMINE INBOX'), TransportError));
    expect(error.code).toBe('ETIMEOUT');
    expect(error.message).toContain(`no complete reply to A001 EXAMINE INBOX within ${COMMAND_MS} ms`);
    expect(ms).toBeLessThan(COMMAND_MS + MARGIN_MS);
    expect(client.closed).toBe(true);
  });

  it('raw IMAP FETCH: a literal that trickles below the minimum rate fails naming the rate', { timeout: 20_000 }, async () => {
    const imap: FakeImap = await startFakeImap({
      greeting: '* OK [CAPABILITY IMAP4rev1] trickle IMAP ready\r\n',
      commands: { FETCH: (s) => trickle(s, '* 1 FETCH (BODY[] {100000}\r\n') },
    });
    servers.push(imap);
    const client = await imapClient(imap);
    const { value: error, ms } = await timed(() => rejection(client.command('FETCH 1 BODY[]'), TransportError));
    expect(error.code).toBe('ETIMEOUT');
    expect(error.message).toMatch(/the reply to A001 FETCH 1 BODY\[\] fell below the minimum rate of \d+ bytes\/s/);
    expect(ms).toBeLessThan(COMMAND_MS + MARGIN_MS);
    expect(client.closed).toBe(true);
  });

  it('raw IMAP FETCH: a literal on a slow but steady link is read whole, past the command timeout', { timeout: 30_000 }, async () => {
    const literal = Array.from({ length: 40 }, (_, i) => `${String(i).padStart(4, '0')}${'x'.repeat(94)}\r\n`).join('');
    const imap: FakeImap = await startFakeImap({
      greeting: '* OK [CAPABILITY IMAP4rev1] slow IMAP ready\r\n',
      commands: {
        FETCH: async (s, tag) => {
          await s.write(`* 1 FETCH (BODY[] {${literal.length}}\r\n`);
          for (const line of literal.split(/(?<=\n)/)) {
            await s.write(line);
            await new Promise((r) => setTimeout(r, 50));
          }
          await s.write(`)\r\n${tag} OK FETCH completed\r\n`);
        },
      },
    });
    servers.push(imap);
    const client = await imapClient(imap, { minTransferRate: 1_000 });
    const { value: response, ms } = await timed(() => client.command('FETCH 1 BODY[]'));
    expect(response.status).toBe('OK');
    expect(response.untagged[0]?.literals[0]?.toString('latin1')).toBe(literal);
    expect(ms).toBeGreaterThan(COMMAND_MS);
  });
});
