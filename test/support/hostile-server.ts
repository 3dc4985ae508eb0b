import { createServer, type AddressInfo, type Socket } from 'node:net';
import type { ProtocolName, Security } from '../../src/core/protocols.js';
import { FakeLineServer, type FakeSession, type KeyPair } from './fake-line-server.js';
import type { Behaviour, HostileIo } from './hostile-wire.js';
import { smtpFaithful, unstuffLines, type SmtpDialogue } from './smtp-dialogue.js';

/**
 * One configurable hostile server per protocol (POP3, IMAP, SMTP) on
 * 127.0.0.1:0, plain, implicit TLS or STARTTLS/STLS. Each speaks just enough of
 * its protocol, correctly, to lead mailprobe's client to one point (the
 * greeting, or the reply to one command), where the case's behaviour
 * (hostile-wire.ts) is played instead of the right answer. Built on
 * FakeLineServer; every line goes through its fallback, so one dispatcher per
 * protocol sees the commands in order and with per-session state.
 */
export type HostileProtocol = ProtocolName;
export type TlsMode = Security;

export interface HostileServerOptions {
  readonly protocol: HostileProtocol;
  readonly tls: TlsMode;
  /** Server key pair for 'tls' and 'starttls'. */
  readonly keys?: KeyPair;
  /**
   * Where the hostile behaviour is played: 'GREETING', or a command verb
   * (upper case: CAPA, STAT, EXAMINE, EHLO, …), or '*' for every command
   * without an entry of its own. Several entries are allowed.
   */
  readonly faults: Readonly<Record<string, Behaviour>>;
  /**
   * IMAP only: play faults only on the connection whose client this predicate
   * accepts, told the first tag it used (imapflow and mailprobe's raw client tag
   * differently). The greeting is played before any tag, on every connection.
   */
  readonly onlyClient?: (firstTag: string) => boolean;
  /** Play the GREETING fault only on this connection (1-based), e.g. the raw client's, not imapflow's. */
  readonly onlyConnection?: number;
  /** Accept TCP on the TLS port, read the ClientHello, never answer (only with tls: 'tls'). */
  readonly stallTlsHandshake?: boolean;
  readonly runId?: () => string | undefined;
  /** SMTP only: each message accepted at the end of DATA (dot-unstuffed), e.g. to put it in a POP3 maildrop. */
  readonly deliver?: (raw: string) => void;
}

export interface HostileServer {
  readonly port: number;
  /** Every line received, all sessions (may carry a password: never print it). */
  readonly received: () => string[];
  readonly connections: () => number;
  close(): Promise<void>;
}

/** Headers of the one message a hostile POP3 maildrop holds; the run header makes it the run's own. */
export function ownMessage(runId: string | undefined): string {
  return `X-Mailprobe-Run: ${runId ?? 'unknown'}\r\nMessage-ID: <hostile-1@mailprobe.invalid>\r\nSubject: hostile\r\n\r\nbody\r\n`;
}

interface SessionState {
  /** The client's next line goes here instead of the command table. */
  pending?: (line: string) => void | Promise<void>;
  swallowing: boolean;
  firstTag?: string;
}

type Script = (io: HostileIo, verb: string, args: string) => void | Promise<void>;

export async function startHostileServer(options: HostileServerOptions): Promise<HostileServer> {
  if (options.stallTlsHandshake) return startStalledTls();
  if (options.tls !== 'none' && options.keys === undefined) throw new Error(`hostile ${options.protocol}: tls ${options.tls} needs keys`);
  const states = new Map<number, SessionState>();
  const stateOf = (s: FakeSession): SessionState => {
    let st = states.get(s.id);
    if (st === undefined) states.set(s.id, (st = { swallowing: false }));
    return st;
  };
  const script = SCRIPTS[options.protocol](options.tls, options.deliver ?? (() => undefined));
  const ioFor = (session: FakeSession, line: string, tag: string, verb: string, args: string): HostileIo => {
    const io: HostileIo = {
      session,
      line,
      tag,
      runId: options.runId ?? (() => undefined),
      nextLine: (handler) => void (stateOf(session).pending = handler),
      swallow: () => void (stateOf(session).swallowing = true),
      faithful: async (firstLine) => {
        if (firstLine === undefined) return script(io, verb, args);
        await script({ ...io, session: withFirstLine(session, firstLine) }, verb, args);
      },
    };
    return io;
  };
  const faultFor = (session: FakeSession, verb: string): Behaviour | undefined => {
    const fault = options.faults[verb] ?? (verb === 'GREETING' ? undefined : options.faults['*']);
    if (fault === undefined || verb === 'GREETING' || options.onlyClient === undefined) return fault;
    const first = stateOf(session).firstTag;
    return first !== undefined && options.onlyClient(first) ? fault : undefined;
  };

  const server = await FakeLineServer.start({
    ...(options.tls === 'tls' ? { implicitTls: options.keys! } : {}),
    ...(options.tls === 'starttls' ? { starttls: options.keys! } : {}),
    greeting: (session) => {
      const io = ioFor(session, '', '', 'GREETING', '');
      const fault = options.onlyConnection === undefined || options.onlyConnection === session.id ? options.faults.GREETING : undefined;
      return fault ? fault(io) : script(io, 'GREETING', '');
    },
    fallback: (session, _args, line) => {
      const st = stateOf(session);
      if (st.swallowing) return;
      const pending = st.pending;
      if (pending !== undefined) {
        delete st.pending;
        return pending(line);
      }
      let tag = '';
      let rest = line;
      if (options.protocol === 'imap') {
        const space = line.indexOf(' ');
        tag = space === -1 ? line : line.slice(0, space);
        rest = space === -1 ? '' : line.slice(space + 1);
        st.firstTag ??= tag;
      }
      const space = rest.indexOf(' ');
      let verb = (space === -1 ? rest : rest.slice(0, space)).toUpperCase();
      let args = space === -1 ? '' : rest.slice(space + 1);
      // IMAP "UID FETCH …": the fault table names the command after UID.
      if (options.protocol === 'imap' && verb === 'UID') {
        const sub = args.indexOf(' ');
        verb = (sub === -1 ? args : args.slice(0, sub)).toUpperCase();
        args = sub === -1 ? '' : args.slice(sub + 1);
      }
      const io = ioFor(session, line, tag, verb, args);
      const fault = faultFor(session, verb);
      return fault ? fault(io) : script(io, verb, args);
    },
  });
  return {
    port: server.port,
    received: () => server.received,
    connections: () => server.sessions.length,
    close: () => server.close(),
  };
}

/** The session, but its next write has its first line (before CRLF) rewritten by `rewrite`. */
function withFirstLine(session: FakeSession, rewrite: (line: string) => string): FakeSession {
  let done = false;
  const write = (data: string | Buffer): Promise<void> => {
    if (done) return session.write(data);
    done = true;
    const text = typeof data === 'string' ? data : data.toString('latin1');
    const end = text.indexOf('\r\n');
    return session.write(end === -1 ? text : `${rewrite(text.slice(0, end))}${text.slice(end)}`);
  };
  return Object.assign(Object.create(session) as FakeSession, { write });
}

/** A listener that accepts TCP, reads whatever comes (the ClientHello) and never writes a byte. */
async function startStalledTls(): Promise<HostileServer> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok());
  });
  return {
    port: (server.address() as AddressInfo).port,
    received: () => [],
    connections: () => sockets.size,
    close: () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy();
        server.close(() => ok());
      }),
  };
}

// ---- the protocol scripts: correct answers, just enough for mailprobe's clients ----

const SCRIPTS: Record<HostileProtocol, (tls: TlsMode, deliver: (raw: string) => void) => Script> = { pop3: pop3Script, imap: imapScript, smtp: smtpScript };

/** RFC 1939 / RFC 2449 POP3 with one message of the run's own; SASL PLAIN so the AUTH token is on the wire. */
function pop3Script(tls: TlsMode): Script {
  return async (io, verb, args) => {
    const s = io.session;
    const message = (): string => ownMessage(io.runId());
    switch (verb) {
      case 'GREETING':
        return s.write('+OK hostile POP3 ready\r\n');
      case 'CAPA':
        return s.write(`+OK\r\nUSER\r\nUIDL\r\nTOP\r\nSASL PLAIN\r\nRESP-CODES\r\n${tls === 'starttls' && !s.secure ? 'STLS\r\n' : ''}.\r\n`);
      case 'STLS':
        return s.startTls('+OK begin TLS\r\n');
      case 'USER':
        return s.write('+OK\r\n');
      case 'PASS':
        return s.write('+OK logged in\r\n');
      case 'AUTH':
        if (args.includes(' ')) return s.write('+OK logged in\r\n');
        io.nextLine(() => s.write('+OK logged in\r\n'));
        return s.write('+ \r\n');
      case 'STAT':
        return s.write(`+OK 1 ${message().length}\r\n`);
      case 'LIST':
        return s.write(args ? `+OK 1 ${message().length}\r\n` : `+OK 1 message\r\n1 ${message().length}\r\n.\r\n`);
      case 'UIDL':
        return s.write(args ? '+OK 1 hostile-uid-1\r\n' : '+OK\r\n1 hostile-uid-1\r\n.\r\n');
      case 'TOP':
        return s.write(`+OK\r\n${message().split('\r\n\r\n')[0]}\r\n\r\n.\r\n`);
      case 'RETR':
        return s.write(`+OK ${message().length} octets\r\n${message()}.\r\n`);
      case 'NOOP':
      case 'RSET':
      case 'DELE':
        return s.write('+OK\r\n');
      case 'QUIT':
        await s.write('+OK bye\r\n');
        return s.end();
      default:
        return s.write('-ERR unknown command\r\n');
    }
  };
}

/** RFC 9051 IMAP, enough for imapflow's connect/login/EXAMINE/LIST and mailprobe's raw client. LOGIN only (no AUTH=), so the quoted password is on the wire. */
function imapScript(tls: TlsMode): Script {
  const caps = (secure: boolean): string =>
    tls === 'starttls' && !secure ? 'IMAP4rev1 LITERAL+ STARTTLS LOGINDISABLED' : 'IMAP4rev1 LITERAL+ UIDPLUS MOVE NAMESPACE ID';
  return async (io, verb, args) => {
    const s = io.session;
    const t = io.tag;
    switch (verb) {
      case 'GREETING':
        return s.write(`* OK [CAPABILITY ${caps(s.secure)}] hostile IMAP ready\r\n`);
      case 'CAPABILITY':
        return s.write(`* CAPABILITY ${caps(s.secure)}\r\n${t} OK CAPABILITY completed\r\n`);
      case 'STARTTLS':
        return s.startTls(`${t} OK begin TLS\r\n`);
      case 'LOGIN':
        return s.write(`${t} OK [CAPABILITY ${caps(true)}] logged in\r\n`);
      case 'AUTHENTICATE':
        return s.write(`${t} NO [AUTHENTICATIONFAILED] use LOGIN\r\n`);
      case 'ID':
        return s.write(`* ID NIL\r\n${t} OK ID completed\r\n`);
      case 'NAMESPACE':
        return s.write(`* NAMESPACE (("" "/")) NIL NIL\r\n${t} OK NAMESPACE completed\r\n`);
      case 'ENABLE':
        return s.write(`* ENABLED\r\n${t} OK ENABLE completed\r\n`);
      case 'LIST':
      case 'LSUB':
        return s.write(
          /""\s*""\s*$/.test(args)
            ? `* ${verb} (\\Noselect) "/" ""\r\n${t} OK ${verb} completed\r\n`
            : `* ${verb} (\\HasNoChildren) "/" INBOX\r\n${t} OK ${verb} completed\r\n`,
        );
      case 'SELECT':
      case 'EXAMINE':
        return s.write(
          '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n* 0 EXISTS\r\n* 0 RECENT\r\n* OK [PERMANENTFLAGS ()] read-only\r\n' +
            `* OK [UIDVALIDITY 1700000000] UIDs valid\r\n* OK [UIDNEXT 1] Predicted next UID\r\n${t} OK [${verb === 'EXAMINE' ? 'READ-ONLY' : 'READ-WRITE'}] ${verb} completed\r\n`,
        );
      case 'STATUS':
        return s.write(`* STATUS INBOX (MESSAGES 0 UIDNEXT 1 UIDVALIDITY 1700000000)\r\n${t} OK STATUS completed\r\n`);
      case 'SEARCH':
        return s.write(`* SEARCH\r\n${t} OK SEARCH completed\r\n`);
      case 'FETCH':
      case 'NOOP':
      case 'CHECK':
      case 'CLOSE':
      case 'UNSELECT':
        return s.write(`${t} OK ${verb} completed\r\n`);
      case 'LOGOUT':
        await s.write(`* BYE logging out\r\n${t} OK LOGOUT completed\r\n`);
        return s.end();
      default:
        return s.write(`${t} BAD unknown command\r\n`);
    }
  };
}

/** RFC 5321 ESMTP with AUTH PLAIN/LOGIN, enough for mailprobe's SMTP client to send one message: the shared faithful dialogue. */
function smtpScript(tls: TlsMode, deliver: (raw: string) => void): Script {
  return (io, verb) => {
    if (verb === 'GREETING') return io.session.write('220 hostile.test ESMTP ready\r\n');
    const dialogue: SmtpDialogue = {
      name: 'hostile.test',
      sizeLimit: 10_485_760,
      starttls: tls === 'starttls',
      next: (_session, handler) => io.nextLine(handler),
      onMessage: (wire) => deliver(`${unstuffLines(wire).join('\r\n')}\r\n`),
    };
    return smtpFaithful(dialogue, io.session, verb, io.line);
  };
}
