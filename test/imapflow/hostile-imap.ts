import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { ImapSession, type ImapSessionOptions } from '../../src/protocols/imap/session.js';
import { Transcript } from '../../src/transport/transcript.js';

/**
 * A hostile IMAP server on 127.0.0.1:0 for imapflow sessions. Each
 * connection runs `script`, which reads the client's lines with `next()` and
 * writes whatever it likes. The server counts its open sockets, so a test can
 * prove that the client destroyed its end (a socket left open by the client
 * stays open here too).
 */
export interface HostileConnection {
  readonly socket: Socket;
  /** The client's next line (without CRLF); rejects when the connection closes. */
  next(): Promise<string>;
  /** The tag and verb of the client's next command. */
  command(): Promise<{ tag: string; verb: string; line: string }>;
  write(data: string | Buffer): void;
  /** Writes `data` one byte every `everyMs` until the connection closes. */
  trickle(data: string | Buffer, everyMs: number): Promise<void>;
  /** Writes `chunk` again and again, as fast as the socket drains, until the connection closes. */
  flood(chunk: string | Buffer): Promise<void>;
  /** Switches to TLS as a server (after the caller wrote its go-ahead). */
  startTls(key: string, cert: string): void;
  readonly closed: Promise<void>;
}

export interface HostileServer {
  readonly port: number;
  readonly accepted: number;
  /** Connections still open on the server side. */
  readonly open: number;
  /** Resolves true once every accepted connection has closed, false after `ms`. */
  allClosed(ms: number): Promise<boolean>;
  close(): Promise<void>;
}

export async function startHostile(script: (c: HostileConnection) => void | Promise<void>): Promise<HostileServer> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server: Server = createServer((raw) => {
    accepted++;
    sockets.add(raw);
    raw.setNoDelay(true);
    raw.on('error', () => undefined);
    let socket: Socket = raw;
    let buffer = '';
    const lines: string[] = [];
    const waiters: Array<{ resolve: (l: string) => void; reject: (e: Error) => void }> = [];
    let gone = false;
    const closed = new Promise<void>((resolve) =>
      raw.once('close', () => {
        gone = true;
        sockets.delete(raw);
        for (const w of waiters.splice(0)) w.reject(new Error('closed'));
        resolve();
      }),
    );
    const onData = (chunk: Buffer): void => {
      buffer += chunk.toString('latin1');
      for (let lf = buffer.indexOf('\n'); lf !== -1; lf = buffer.indexOf('\n')) {
        const line = buffer.slice(0, lf).replace(/\r$/, '');
        buffer = buffer.slice(lf + 1);
        const waiter = waiters.shift();
        if (waiter) waiter.resolve(line);
        else lines.push(line);
      }
    };
    raw.on('data', onData);
    const connection: HostileConnection = {
      get socket() {
        return socket;
      },
      next: () => {
        const line = lines.shift();
        if (line !== undefined) return Promise.resolve(line);
        if (gone) return Promise.reject(new Error('closed'));
        return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
      },
      command: async () => {
        const line = await connection.next();
        const [tag = '', verb = ''] = line.split(' ');
        return { tag, verb: verb.toUpperCase(), line };
      },
      write: (data) => {
        if (!gone) socket.write(data);
      },
      trickle: async (data, everyMs) => {
        const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
        for (let i = 0; !gone; i = (i + 1) % bytes.length) {
          socket.write(bytes.subarray(i, i + 1));
          await new Promise((r) => setTimeout(r, everyMs));
        }
      },
      flood: async (chunk) => {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
        while (!gone) {
          if (!socket.write(bytes)) await new Promise((r) => socket.once('drain', r).once('close', r));
        }
      },
      startTls: (key, cert) => {
        raw.off('data', onData);
        const secure = new TLSSocket(raw, { isServer: true, key, cert });
        secure.on('error', () => undefined);
        secure.on('data', onData);
        socket = secure;
      },
      closed,
    };
    Promise.resolve()
      .then(() => script(connection))
      .catch(() => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    get accepted() {
      return accepted;
    },
    get open() {
      return sockets.size;
    },
    allClosed: async (ms) => {
      const until = Date.now() + ms;
      while (sockets.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      return sockets.size === 0;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export const TIMEOUTS = { dns: 1_000, tcp: 1_000, tls: 1_000, greeting: 800, command: 800, push: 30_000 } as const;

/** Session options against a hostile server; push is long on purpose (it must not stretch any other wait). */
export function sessionOptions(port: number, overrides: Partial<ImapSessionOptions> = {}): ImapSessionOptions {
  return {
    host: '127.0.0.1',
    port,
    security: 'none',
    tls: { verify: true },
    timeouts: TIMEOUTS,
    user: 'alice',
    password: 'hostile-test-pw',
    transcript: new Transcript(),
    session: 'laptop',
    ...overrides,
  };
}

/**
 * Opens a session and returns what it ended with (an error, or the session)
 * and how long it took; gives up after `giveUpMs` so a hang fails the test
 * instead of stalling vitest (the promise left behind is then the bug).
 */
export async function openOutcome(options: ImapSessionOptions, giveUpMs: number): Promise<{ error: unknown; ms: number; hung: boolean }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), giveUpMs);
  });
  const result = await Promise.race([
    ImapSession.open(options).then(
      (session) => {
        session.drop();
        return { error: undefined };
      },
      (error: unknown) => ({ error }),
    ),
    hang,
  ]);
  clearTimeout(timer);
  const ms = performance.now() - started;
  if (result === 'hung') return { error: undefined, ms, hung: true };
  return { error: result.error, ms, hung: false };
}

/** An IMAP greeting that names no AUTH= mechanism, so imapflow logs in with LOGIN. */
export const GREETING = '* OK [CAPABILITY IMAP4rev1 LITERAL+] hostile ready\r\n';

/** Answers CAPABILITY with `capabilities`, hands every other command to `then`. */
export async function afterCapability(c: HostileConnection, capabilities = 'IMAP4rev1 LITERAL+'): Promise<{ tag: string; verb: string; line: string }> {
  for (;;) {
    const cmd = await c.command();
    if (cmd.verb === 'CAPABILITY') c.write(`* CAPABILITY ${capabilities}\r\n${cmd.tag} OK done\r\n`);
    else return cmd;
  }
}
