import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ImapflowTransport } from '../../src/transport/imapflow-transport.js';
import { ImapSessionError } from '../../src/protocols/imap/errors.js';
import { ImapSession } from '../../src/protocols/imap/session.js';
import { GREETING, TIMEOUTS, afterCapability, openOutcome, sessionOptions, startHostile, type HostileServer } from './hostile-imap.js';

/**
 * Issue 7 §1: every phase of an imapflow session has a deadline mailprobe
 * enforces itself, and the end of it destroys the socket. A hostile server
 * that says nothing, never answers, or keeps the socket busy without ever
 * finishing a reply must end the session errored within the phase's timeout
 * plus a generous margin (an upper bound only), with the socket closed on
 * the server's side too.
 */
const MARGIN_MS = 4_000;
/** Far above every deadline here; reaching it means the session hung. */
const GIVE_UP_MS = 15_000;

let server: HostileServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Timers and sockets alive in this process (what would keep vitest from exiting). */
function handles(): { timers: number; sockets: number } {
  const live = process.getActiveResourcesInfo();
  return { timers: live.filter((r) => r === 'Timeout').length, sockets: live.filter((r) => r === 'TCPSocketWrap' || r === 'TLSWrap').length };
}

/** Waits until no more timers are alive than before the session (the session left none behind). */
async function timersBackTo(baseline: number, ms: number): Promise<number> {
  const until = Date.now() + ms;
  while (handles().timers > baseline && Date.now() < until) await new Promise((r) => setImmediate(r));
  return handles().timers;
}

async function expectErrored(phaseTimeout: number, expected: { code: RegExp; phase: RegExp }) {
  const before = handles();
  const outcome = await openOutcome(sessionOptions(server!.port), GIVE_UP_MS);
  expect(outcome.hung, `the session must end within ${GIVE_UP_MS} ms`).toBe(false);
  expect(outcome.error).toBeInstanceOf(ImapSessionError);
  const error = outcome.error as ImapSessionError;
  expect(error.code).toMatch(expected.code);
  expect(error.phase).toMatch(expected.phase);
  expect(outcome.ms).toBeLessThan(phaseTimeout + MARGIN_MS);
  // The socket was destroyed: the server sees its end close at once.
  expect(await server!.allClosed(2_000), 'the client must have destroyed its socket').toBe(true);
  // Nothing of the session keeps the event loop alive: no timer of its own, no socket of its own.
  expect(await timersBackTo(before.timers, 2_000), 'timers left behind').toBeLessThanOrEqual(before.timers);
  expect(handles().sockets, 'sockets left behind (the server keeps only its listener)').toBeLessThanOrEqual(before.sockets);
  return error;
}

describe('imapflow session deadlines', () => {
  it('a refused connection is ECONNREFUSED in the tcp phase, at once', async () => {
    server = await startHostile(() => undefined);
    const port = server.port;
    await server.close();
    server = undefined;
    const outcome = await openOutcome(sessionOptions(port), GIVE_UP_MS);
    expect((outcome.error as ImapSessionError).code).toBe('ECONNREFUSED');
    expect((outcome.error as ImapSessionError).phase).toBe('tcp');
  });

  it('Ctrl-C while waiting for the greeting ends the session at once, EABORTED, socket destroyed', async () => {
    server = await startHostile(() => undefined);
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('interrupted')), 100);
    const outcome = await openOutcome(
      sessionOptions(server.port, { signal: controller.signal, timeouts: { ...TIMEOUTS, greeting: 10_000, tls: 10_000 } }),
      GIVE_UP_MS,
    );
    expect((outcome.error as ImapSessionError).code).toBe('EABORTED');
    // Far below the greeting timeout and the 3 s implicit-TLS probe: the abort ended it, and no probe followed.
    expect(outcome.ms).toBeLessThan(2_500);
    expect(await server.allClosed(2_000)).toBe(true);
  });

  it('(a) a server that never greets: ETIMEOUT in the greeting phase', async () => {
    server = await startHostile(() => undefined);
    const error = await expectErrored(TIMEOUTS.greeting, { code: /^ETIMEOUT$/, phase: /^greeting$/ });
    expect(error.message).toMatch(/greeting/);
  });

  it('(a) a server that trickles a greeting that never ends: ETIMEOUT in the greeting phase', async () => {
    server = await startHostile((c) => c.trickle('* OK still greeting', 50));
    await expectErrored(TIMEOUTS.greeting, { code: /^ETIMEOUT$/, phase: /^greeting$/ });
  });

  it('(b) a server that greets and never answers LOGIN: ETIMEOUT in the auth phase', async () => {
    server = await startHostile(async (c) => {
      c.write(GREETING);
      await afterCapability(c);
      await c.closed;
    });
    const error = await expectErrored(TIMEOUTS.command, { code: /^ETIMEOUT$/, phase: /^auth$/ });
    expect(error.message).toMatch(/LOGIN/);
  });

  it('(b) a server that never answers CAPABILITY: ETIMEOUT naming CAPABILITY', async () => {
    server = await startHostile(async (c) => {
      c.write('* OK hostile ready\r\n');
      await c.closed;
    });
    const error = await expectErrored(TIMEOUTS.command, { code: /^ETIMEOUT$/, phase: /^command$/ });
    expect(error.message).toMatch(/CAPABILITY/);
  });

  it('(c) a server that answers LOGIN with an endless line: errored, socket destroyed', async () => {
    server = await startHostile(async (c) => {
      c.write(GREETING);
      await afterCapability(c);
      // Slow enough that no size limit is reached before the deadline: only the deadline can end it.
      await c.trickle(`* OK ${'x'.repeat(200)}`, 5);
    });
    await expectErrored(TIMEOUTS.command, { code: /^(ETIMEOUT|ELIMIT)$/, phase: /^auth$/ });
  });

  it('(d) a server that trickles complete untagged lines after LOGIN and never finishes: ETIMEOUT', async () => {
    server = await startHostile(async (c) => {
      c.write(GREETING);
      await afterCapability(c);
      await c.trickle('* OK wait\r\n', 30);
    });
    await expectErrored(TIMEOUTS.command, { code: /^ETIMEOUT$/, phase: /^auth$/ });
  });

  it('a later command that trickles bytes is cut off by its deadline and the socket is destroyed', async () => {
    server = await startHostile(async (c) => {
      c.write(GREETING);
      const login = await afterCapability(c);
      c.write(`${login.tag} OK [CAPABILITY IMAP4rev1 LITERAL+] logged in\r\n`);
      for (;;) {
        const cmd = await c.command();
        if (cmd.verb === 'NOOP') {
          await c.trickle('* 1 EXISTS\r\n', 30);
          return;
        }
        c.write(`${cmd.tag} OK done\r\n`);
      }
    });
    const session = await ImapSession.open(sessionOptions(server.port));
    const started = performance.now();
    const error = await session
      .call('NOOP', (c) => c.noop())
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(error).toBeInstanceOf(ImapSessionError);
    expect((error as ImapSessionError).code).toBe('ETIMEOUT');
    expect(performance.now() - started).toBeLessThan(TIMEOUTS.command + MARGIN_MS);
    expect(session.closed).toBe(true);
    expect(await server.allClosed(2_000), 'the client must have destroyed its socket').toBe(true);
  });

  /** A server whose NOOP answer carries a literal of `octets`, sent `chunk` octets every 250 ms. */
  async function literalServer(octets: number, chunk: number): Promise<HostileServer> {
    return startHostile(async (c) => {
      c.write(GREETING);
      const login = await afterCapability(c);
      c.write(`${login.tag} OK [CAPABILITY IMAP4rev1 LITERAL+] logged in\r\n`);
      for (;;) {
        const cmd = await c.command();
        if (cmd.verb !== 'NOOP') {
          c.write(`${cmd.tag} OK done\r\n`);
          continue;
        }
        c.write(`* 1 FETCH (BODY[] {${octets}}\r\n`);
        let sent = 0;
        let gone = false;
        void c.closed.then(() => (gone = true));
        while (sent < octets && !gone) {
          const n = Math.min(chunk, octets - sent);
          c.write(Buffer.alloc(n, 0x61));
          sent += n;
          await new Promise((r) => setTimeout(r, 250));
        }
        if (!gone) c.write(`)\r\n${cmd.tag} OK done\r\n`);
      }
    });
  }

  it('a literal that keeps the minimum rate may take longer than the command timeout: a transfer, not a reply', async () => {
    // 16 KiB at 8 KiB/s takes about 2 s, past the 800 ms command timeout, but within
    // 800 ms + 1 s per 4096 octets (limits.minTransferRate).
    server = await literalServer(16 * 1024, 2 * 1024);
    const session = await ImapSession.open(sessionOptions(server.port));
    const started = performance.now();
    await session.call('NOOP', (c) => c.noop());
    expect(performance.now() - started).toBeGreaterThan(TIMEOUTS.command);
    expect(session.closed).toBe(false);
    await session.logout();
  });

  it('a literal that falls below the minimum rate is cut off, and the error says so', async () => {
    // 16 KiB at 400 octets/s would take 41 s; its allowance is 800 ms + 4 s.
    server = await literalServer(16 * 1024, 100);
    const session = await ImapSession.open(sessionOptions(server.port));
    const started = performance.now();
    const error = await session
      .call('NOOP', (c) => c.noop())
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(error).toBeInstanceOf(ImapSessionError);
    expect((error as ImapSessionError).code).toBe('ETIMEOUT');
    expect((error as ImapSessionError).message).toMatch(/minimum rate/);
    expect(performance.now() - started).toBeLessThan(TIMEOUTS.command + 4_000 + MARGIN_MS);
    expect(await server.allClosed(2_000), 'the client must have destroyed its socket').toBe(true);
  });
});

/**
 * One timer per reply: SessionDeadlines times every command imapflow sends,
 * from the line it writes to the tagged answer (with the literal allowance),
 * and the session's `call` adds no second one of its own. A stalled command
 * still ends as it did, and a call that sends several commands (LIST, then
 * LSUB) gets the command timeout for each reply, as README "Safety" says.
 */
describe('imapflow commands are timed in one place', () => {
  /** Logs in, then answers `slow` verbs after `delayMs` (or never, for Infinity) and every other at once. */
  async function slowServer(slow: readonly string[], delayMs: number): Promise<HostileServer> {
    return startHostile(async (c) => {
      c.write(GREETING);
      const login = await afterCapability(c);
      c.write(`${login.tag} OK [CAPABILITY IMAP4rev1 LITERAL+] logged in\r\n`);
      for (;;) {
        const cmd = await c.command().catch(() => undefined);
        if (cmd === undefined) return;
        if (!slow.includes(cmd.verb)) {
          c.write(`${cmd.tag} OK done\r\n`);
          continue;
        }
        if (!Number.isFinite(delayMs)) continue;
        await new Promise((r) => setTimeout(r, delayMs));
        if (cmd.verb === 'LIST') c.write(`* LIST () "/" INBOX\r\n`);
        c.write(`${cmd.tag} OK ${cmd.verb} done\r\n`);
      }
    });
  }

  it('a stalled command ends ETIMEOUT in the command phase, naming the command and its timeout; the session stays ended with that error', async () => {
    server = await slowServer(['NOOP'], Number.POSITIVE_INFINITY);
    const session = await ImapSession.open(sessionOptions(server.port));
    const started = performance.now();
    const error = await session.noop().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(ImapSessionError);
    expect(error).toMatchObject({ code: 'ETIMEOUT', phase: 'command' });
    expect((error as Error).message).toMatch(/\bNOOP\b.*\bwithin 800 ms\b/);
    expect(performance.now() - started).toBeLessThan(TIMEOUTS.command + MARGIN_MS);
    expect(session.closed).toBe(true);
    // What ended the session is what every later command is told, not "connection not available".
    await expect(session.list()).rejects.toBe(error);
    expect(await server.allClosed(2_000), 'the client must have destroyed its socket').toBe(true);
  });

  it('a call that sends two commands gets the command timeout for each reply, not one for both', async () => {
    // Each reply comes 2.5 s after its command, 1.5 s inside the 4 s command timeout; the two
    // together take over 5 s, which one 4 s budget for the whole call would not allow.
    const command = 4_000;
    server = await slowServer(['LIST', 'LSUB'], 2_500);
    const session = await ImapSession.open(sessionOptions(server.port, { timeouts: { ...TIMEOUTS, command } }));
    const listed = await session.list();
    expect(listed.map((m) => m.path)).toEqual(['INBOX']);
    expect(session.closed).toBe(false);
    await session.logout();
  });
});

describe('the TCP phase of an imapflow connection to an IP address', () => {
  it('starts at once, with the TCP timeout: Node resolves no IP, and emits no lookup event to start it', async () => {
    const listener = createServer((s) => s.destroy());
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    try {
      const port = (listener.address() as { port: number }).port;
      for (const [host, phase] of [
        ['127.0.0.1', 'tcp'],
        ['localhost', 'dns'],
      ] as const) {
        const transport = new ImapflowTransport({ host, port, tls: {}, timeouts: { dns: 60_000, tcp: 60_000, tls: 60_000 } });
        const socket = transport.connect({ secure: false } as never, () => undefined);
        // Before any event: an IP is already in its TCP phase (its timeout named so); a name still resolves.
        expect(transport.phase, host).toBe(phase);
        socket.destroy();
      }
    } finally {
      await new Promise((resolve) => listener.close(resolve));
    }
  });
});
