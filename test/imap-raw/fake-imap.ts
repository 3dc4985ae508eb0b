import { FakeLineServer, type FakeLineServerOptions, type FakeSession, type KeyPair } from '../support/fake-line-server.js';

/**
 * A tiny IMAP responder on FakeLineServer. FakeLineServer dispatches on the
 * first word, which in IMAP is the tag, so every line goes through its
 * fallback and is dispatched here on the second word. A handler that needs the
 * client's next raw line (a literal, "DONE", a SASL response) registers it with
 * `expectLine`: handlers run one after another, so it must not await it.
 */
export type ImapHandler = (session: FakeSession, tag: string, args: string, imap: FakeImap) => void | Promise<void>;

export interface FakeImapOptions {
  readonly greeting?: FakeLineServerOptions['greeting'];
  /** Advertised on the plain connection; STARTTLS is added when `starttls` is set. */
  readonly capabilities?: readonly string[];
  /** Advertised after STARTTLS (default: `capabilities` without LOGINDISABLED). */
  readonly tlsCapabilities?: readonly string[];
  readonly starttls?: KeyPair;
  readonly user?: string;
  readonly password?: string;
  readonly commands?: Record<string, ImapHandler>;
}

export interface FakeImap {
  readonly server: FakeLineServer;
  readonly host: string;
  readonly port: number;
  /** Lines received, every session. */
  readonly received: string[];
  on(command: string, handler: ImapHandler): void;
  /** Route the session's next line to `handler` instead of the command table. */
  expectLine(session: FakeSession, handler: (line: string) => void | Promise<void>): void;
  close(): Promise<void>;
}

export async function startFakeImap(options: FakeImapOptions = {}): Promise<FakeImap> {
  const capabilities = options.capabilities ?? ['IMAP4rev1', 'LITERAL+', 'IDLE', 'LOGINDISABLED'];
  const tlsCapabilities = options.tlsCapabilities ?? capabilities.filter((c) => c !== 'LOGINDISABLED');
  const user = options.user ?? 'alice';
  const password = options.password ?? 'secret-pw';
  const pending = new Map<number, (line: string) => void | Promise<void>>();
  const commands = new Map<string, ImapHandler>();

  const defaults: Record<string, ImapHandler> = {
    CAPABILITY: (s, tag) => {
      const list = s.secure ? tlsCapabilities : [...capabilities, ...(options.starttls ? ['STARTTLS'] : [])];
      return s.write(`* CAPABILITY ${list.join(' ')}\r\n${tag} OK CAPABILITY completed\r\n`);
    },
    NOOP: (s, tag) => s.write(`${tag} OK NOOP completed\r\n`),
    STARTTLS: (s, tag) => s.startTls(`${tag} OK Begin TLS negotiation now\r\n`),
    LOGIN: (s, tag, args) => {
      const [, u, p] = /^("(?:[^"\\]|\\.)*"|\S+) ("(?:[^"\\]|\\.)*"|\S+)$/.exec(args) ?? [];
      const unquote = (v: string | undefined) => (v?.startsWith('"') ? v.slice(1, -1).replace(/\\(.)/g, '$1') : v);
      return s.write(
        unquote(u) === user && unquote(p) === password
          ? `${tag} OK [CAPABILITY IMAP4rev1 IDLE MOVE] Logged in\r\n`
          : `${tag} NO [AUTHENTICATIONFAILED] Authentication failed.\r\n`,
      );
    },
    SELECT: (s, tag) =>
      s.write(
        '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n* 2 EXISTS\r\n* 0 RECENT\r\n' +
          `* OK [UIDVALIDITY 1700000000] UIDs valid\r\n* OK [UIDNEXT 3] Predicted next UID\r\n${tag} OK [READ-WRITE] Select completed\r\n`,
      ),
    IDLE: (s, tag, _args, imap) => {
      imap.expectLine(s, (line) => s.write(line === 'DONE' ? `${tag} OK Idle completed\r\n` : `${tag} BAD expected DONE\r\n`));
      return s.write('+ idling\r\n');
    },
    LOGOUT: async (s, tag) => {
      await s.write(`* BYE Logging out\r\n${tag} OK Logout completed\r\n`);
      s.end();
    },
  };
  for (const [name, handler] of Object.entries({ ...defaults, ...options.commands })) commands.set(name.toUpperCase(), handler);

  let imap: FakeImap | undefined;
  const server = await FakeLineServer.start({
    greeting: options.greeting ?? '* OK [CAPABILITY IMAP4rev1 LITERAL+ IDLE LOGINDISABLED] fake IMAP ready\r\n',
    ...(options.starttls === undefined ? {} : { starttls: options.starttls }),
    fallback: (s, _args, line) => {
      const waiting = pending.get(s.id);
      if (waiting !== undefined) {
        pending.delete(s.id);
        return waiting(line);
      }
      const [tag = '', name = '', ...rest] = line.split(' ');
      const handler = commands.get(name.toUpperCase());
      if (handler === undefined) return s.write(`${tag} BAD Unknown command\r\n`);
      return handler(s, tag, rest.join(' '), imap as FakeImap);
    },
  });
  imap = {
    server,
    host: server.host,
    port: server.port,
    get received() {
      return server.received;
    },
    on: (command, handler) => void commands.set(command.toUpperCase(), handler),
    expectLine: (session, handler) => void pending.set(session.id, handler),
    close: () => server.close(),
  };
  return imap;
}
