import { spawn } from 'node:child_process';
import { createServer, connect as netConnect, type AddressInfo, type Server, type Socket } from 'node:net';
import { FakeLineServer, type CommandHandler, type FakeSession, type KeyPair } from '../support/fake-line-server.js';

/**
 * Mail servers for the port probe's fixtures, on FakeLineServer: each speaks
 * just enough SMTP, POP3 or IMAP for a probe that never logs in. By default a
 * sound server: it offers STARTTLS and drops whatever the client pipelined
 * behind it; `injectable` keeps those lines and answers them inside TLS, as
 * the servers of CVE-2011-0411 did.
 */
export interface MailFakeOptions {
  readonly protocol: 'smtp' | 'pop3' | 'imap';
  readonly starttls?: KeyPair;
  /** TLS from the first byte with this key pair. */
  readonly implicitTls?: KeyPair;
  /** Capabilities before TLS (SMTP: EHLO keywords; POP3: CAPA lines; IMAP: words). Default: STARTTLS only, no plaintext login. */
  readonly before?: readonly string[];
  /** Capabilities after TLS. */
  readonly after?: readonly string[];
  readonly greeting?: string;
  readonly injectable?: boolean;
  readonly host?: '127.0.0.1' | '::1';
  /**
   * What MAIL FROM (SMTP) or USER (POP3) gets before TLS. Default: refused
   * until TLS, as Postfix (smtpd_tls_security_level = encrypt) and Dovecot
   * (disable_plaintext_auth) answer; "accepted": taken in clear; or a reply line of its own.
   */
  readonly beforeTls?: 'refused' | 'accepted' | string;
}

const GREETINGS = { smtp: '220 fake.test ESMTP\r\n', pop3: '+OK fake ready\r\n', imap: '* OK fake ready\r\n' } as const;
const DEFAULT_BEFORE = { smtp: ['STARTTLS'], pop3: ['STLS'], imap: ['IMAP4rev1', 'STARTTLS', 'LOGINDISABLED'] } as const;
const DEFAULT_AFTER = { smtp: ['AUTH PLAIN'], pop3: ['SASL PLAIN', 'USER'], imap: ['IMAP4rev1', 'AUTH=PLAIN'] } as const;

export function mailFake(options: MailFakeOptions): Promise<FakeLineServer> {
  const { protocol } = options;
  const before = options.before ?? DEFAULT_BEFORE[protocol];
  const after = options.after ?? DEFAULT_AFTER[protocol];
  const caps = (session: FakeSession): readonly string[] => (session.secure ? after : before);
  // Lines read in the same chunk as STARTTLS: a sound server forgets them at the upgrade.
  const dropUntil = new WeakMap<FakeSession, number>();
  const handled = new WeakMap<FakeSession, number>();
  const guard =
    (handler: CommandHandler): CommandHandler =>
    (session, args, line) => {
      const index = handled.get(session) ?? 0;
      handled.set(session, index + 1);
      if (!options.injectable && index < (dropUntil.get(session) ?? 0)) return;
      return handler(session, args, line);
    };
  const upgrade = (session: FakeSession, goAhead: string): Promise<void> => {
    dropUntil.set(session, session.received.length);
    return session.startTls(goAhead);
  };

  const beforeTls = options.beforeTls ?? 'refused';
  const inClear = (session: FakeSession, refused: string, accepted: string): string =>
    session.secure || beforeTls === 'accepted' ? accepted : beforeTls === 'refused' ? refused : `${beforeTls}\r\n`;
  const smtp: Record<string, CommandHandler> = {
    MAIL: (s) => s.write(inClear(s, '530 5.7.0 Must issue a STARTTLS command first\r\n', '250 2.1.0 Ok\r\n')),
    RSET: (s) => s.write('250 2.0.0 Ok\r\n'),
    EHLO: (s) => s.write(['fake.test', ...caps(s)].map((c, i, all) => `250${i === all.length - 1 ? ' ' : '-'}${c}\r\n`).join('')),
    STARTTLS: (s) => upgrade(s, '220 go ahead\r\n'),
    NOOP: (s) => s.write('250 OK\r\n'),
    QUIT: (s) => s.end('221 bye\r\n'),
  };
  const pop3: Record<string, CommandHandler> = {
    CAPA: (s) =>
      s.write(
        `+OK\r\n${caps(s)
          .map((c) => `${c}\r\n`)
          .join('')}.\r\n`,
      ),
    STLS: (s) => upgrade(s, '+OK begin TLS\r\n'),
    USER: (s) => s.write(inClear(s, '-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.\r\n', '+OK\r\n')),
    NOOP: (s) => s.write('+OK\r\n'),
    QUIT: (s) => s.end('+OK bye\r\n'),
  };
  // IMAP lines start with a tag: one fallback reads the command after it.
  const imap: CommandHandler = (s, _args, line) => {
    const [tag = '*', verb = ''] = line.split(' ');
    switch (verb.toUpperCase()) {
      case 'CAPABILITY':
        return s.write(`* CAPABILITY ${caps(s).join(' ')}\r\n${tag} OK done\r\n`);
      case 'STARTTLS':
        return upgrade(s, `${tag} OK begin TLS\r\n`);
      case 'NOOP':
        return s.write(`${tag} OK noop\r\n`);
      case 'LOGOUT':
        return s.end(`* BYE\r\n${tag} OK bye\r\n`);
      default:
        return s.write(`${tag} BAD unknown\r\n`);
    }
  };
  const commands = protocol === 'smtp' ? smtp : protocol === 'pop3' ? pop3 : {};
  return FakeLineServer.start({
    greeting: options.greeting ?? GREETINGS[protocol],
    commands: Object.fromEntries(Object.entries(commands).map(([verb, handler]) => [verb, guard(handler)])),
    fallback: guard(protocol === 'imap' ? imap : (s) => s.write(protocol === 'smtp' ? '502 unknown\r\n' : '-ERR unknown\r\n')),
    ...(options.starttls === undefined ? {} : { starttls: options.starttls }),
    ...(options.implicitTls === undefined ? {} : { implicitTls: options.implicitTls }),
    ...(options.host === undefined ? {} : { host: options.host }),
  });
}

/** A listener that accepts connections and never says a word. */
export async function blackhole(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on: bound, then closed. */
export async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A listener that never accepts, so a connection to it is never established:
 * a process (python3, since Node accepts every connection it is offered)
 * listens with a backlog of 0 and never calls accept(); once the few
 * connections the kernel queues are taken by fillers, further SYNs are
 * dropped, as a firewall that drops packets does. Loopback only.
 */
export async function neverAccepts(): Promise<{ port: number; close: () => Promise<void> }> {
  const script = 'import socket,sys\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()';
  const child = spawn('python3', ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = Number(
    await new Promise<string>((resolve, reject) => {
      child.once('error', reject);
      child.stdout.once('data', (data: Buffer) => resolve(data.toString().trim()));
    }),
  );
  // Fill the accept queue; each filler waits until it is connected (queued) or given up.
  const fillers = await Promise.all(
    Array.from({ length: 3 }, async () => {
      const socket = netConnect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => {
        socket.once('connect', () => resolve());
        setTimeout(resolve, 300);
      });
      return socket;
    }),
  );
  return {
    port,
    close: async () => {
      for (const socket of fillers) socket.destroy();
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.stdin.end();
      await gone;
    },
  };
}
