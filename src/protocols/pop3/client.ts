import { connect, type ConnectOptions } from '../../transport/connect.js';
import { SerialQueue } from '../../transport/serial-queue.js';
import type { Connection, PhaseTimings } from '../../transport/connection.js';
import { TransportError, type Phase } from '../../transport/errors.js';
import type { ReplyBudget, ReplyKind } from '../../transport/reply-budget.js';
import type { TlsInfo } from '../../transport/tls.js';
import { REDACTED } from '../../transport/transcript.js';
import { Pop3ProtocolError, Pop3ReplyError } from './errors.js';
import { readBody, readBodyTo, readListing } from './multiline.js';
import { apopTimestamp, parseDropListing, parseScanListing, parseStatusLine, parseUidListing, type Pop3StatusLine } from './reply.js';
import { capabilityName } from '../../core/text.js';

export interface Pop3ConnectOptions extends ConnectOptions {
  /** Ask CAPA after the greeting (and again after STLS). Default true. */
  readonly capa?: boolean;
}

export type Pop3LoginMethod = 'user' | 'plain' | 'auto';

/** RFC 5034 §4: an AUTH command with its initial response must fit in 255 octets. */
const MAX_AUTH_LINE = 255;

/**
 * mailprobe's own POP3 client (RFC 1939, 2449, 2595, 5034) on the transport
 * layer. One command at a time: calls made concurrently are queued, since POP3
 * has no pipelining unless advertised. The exceptions are topMany and scanMany,
 * the message search, which pipeline only when CAPA lists PIPELINING.
 */
export class Pop3Client {
  /** The greeting text, whole ("+OK Dovecot ready. <1.2@host>"). */
  readonly greeting: string;
  /** The APOP timestamp from the greeting, if the server offered one. */
  readonly apopTimestamp: string | undefined;
  readonly #connection: Connection;
  #capabilities: string[] = [];
  #capaSupported: boolean | undefined;
  #capaRefusal: Pop3ReplyError | undefined;
  #utf8Mode = false;
  readonly #queue = new SerialQueue();
  /** Messages marked as deleted in this session (DELE answered +OK, no RSET since). */
  readonly #deleted = new Set<number>();
  /**
   * The highest message number as of a STAT that was this session's last command, so that a search for the
   * run's message right after a scenario's own STAT does not ask again; any other command forgets it.
   */
  #highestFromLastStat: number | undefined;

  private constructor(connection: Connection, greeting: string) {
    this.#connection = connection;
    this.greeting = greeting;
    this.apopTimestamp = apopTimestamp(greeting);
  }

  /** DNS → TCP → (TLS) → greeting → CAPA; for "starttls": CAPA → STLS → TLS → CAPA again. */
  static async connect(options: Pop3ConnectOptions): Promise<Pop3Client> {
    const connection = await connect({ ...options, protocol: 'pop3' });
    try {
      // A port that does not speak POP3 (another protocol, TLS first, silence) is named by the transport.
      const line = await connection.readGreeting({ protocol: 'pop3' });
      const text = line.bytes.toString('utf8');
      const status = parseGreeting(connection, text);
      if (!status.ok) throw new Pop3ReplyError('(greeting)', status.text, status.responseCode);
      const client = new Pop3Client(connection, text);
      const askCapa = options.capa !== false;
      if (askCapa || options.security === 'starttls') await client.capa();
      if (options.security === 'starttls') {
        if (client.capaSupported === true && !client.hasCapability('STLS')) {
          throw new TransportError(
            'ESTARTTLS',
            'starttls',
            `${connection.endpoint} does not advertise STLS in its CAPA reply, so the connection cannot be secured; ` +
              'use security: tls on the POP3S port (995), or security: none if plaintext is really intended',
            { host: connection.host, port: connection.port },
          );
        }
        try {
          await client.stls();
        } catch (error) {
          if (!(error instanceof Pop3ReplyError)) throw error;
          throw new TransportError('ESTARTTLS', 'starttls', `${connection.endpoint} refused STLS: ${error.message}`, {
            host: connection.host,
            port: connection.port,
            command: 'STLS',
            cause: error,
          });
        }
        if (askCapa) await client.capa();
      }
      return client;
    } catch (error) {
      connection.destroy();
      throw error;
    }
  }

  /** CAPA lines as the server sent them ("SASL PLAIN LOGIN", "TOP", …). */
  get capabilities(): string[] {
    return [...this.#capabilities];
  }

  /** false when the server answered CAPA with -ERR; undefined before CAPA was sent. */
  get capaSupported(): boolean | undefined {
    return this.#capaSupported;
  }

  /** The last CAPA's -ERR, with its response code ([SYS/TEMP] is not "no CAPA"); undefined after a +OK. */
  get capaRefusal(): Pop3ReplyError | undefined {
    return this.#capaRefusal;
  }

  /** Whether a capability's first word was advertised, case-insensitively. */
  hasCapability(name: string): boolean {
    const wanted = name.toUpperCase();
    return this.#capabilities.some((line) => capabilityName(line) === wanted);
  }

  /** Mechanisms from the "SASL" capability line, upper-cased. */
  get saslMechanisms(): string[] {
    const line = this.#capabilities.find((l) => /^SASL(?: |$)/i.test(l));
    return line === undefined
      ? []
      : line
          .split(' ')
          .slice(1)
          .filter((m) => m !== '')
          .map((m) => m.toUpperCase());
  }

  get tlsInfo(): TlsInfo | undefined {
    return this.#connection.tls;
  }

  get timings(): Readonly<PhaseTimings> {
    return this.#connection.timings;
  }

  /** The underlying connection (bare-LF count, endpoint) for diagnostics. */
  get connection(): Connection {
    return this.#connection;
  }

  get closed(): boolean {
    return this.#connection.closed;
  }

  /** CAPA (RFC 2449). A -ERR means no CAPA support: returns [] and sets capaSupported = false. */
  capa(): Promise<string[]> {
    return this.#serial(async () => {
      const budget = this.#budget('CAPA', 'reply');
      const status = await this.#send('CAPA', { budget });
      if (!status.ok) {
        this.#capaSupported = false;
        this.#capaRefusal = new Pop3ReplyError('CAPA', status.text, status.responseCode);
        this.#capabilities = [];
        return [];
      }
      this.#capabilities = await readListing(this.#connection, 'CAPA', budget);
      this.#capaSupported = true;
      this.#capaRefusal = undefined;
      return this.capabilities;
    });
  }

  /** STLS (RFC 2595 §4) and the TLS handshake. Capabilities are forgotten, as the RFC requires. */
  stls(): Promise<TlsInfo> {
    return this.#serial(async () => {
      if (this.#connection.tls !== undefined) {
        throw new Pop3ProtocolError('EPOP3_STATE', 'STLS refused locally: TLS is already active on this connection', 'STLS');
      }
      await this.#ok('STLS', { phase: 'starttls' });
      const info = await this.#connection.upgradeToTls();
      this.#capabilities = [];
      this.#capaSupported = undefined;
      return info;
    });
  }

  /**
   * UTF8 (RFC 6856): asks for the session's UTF-8 mode, sent in the
   * AUTHORIZATION state before the login, as a UTF-8-capable client does. A
   * server that offers it may show a client that never sent it a notice in
   * place of a message with UTF-8 header fields (Courier does), so a reader
   * that skipped it would miss mail that arrived. A refusal is no failure of
   * the server: the session stays in ASCII mode, and the transcript says so.
   * Returns whether the server took it.
   */
  utf8(): Promise<boolean> {
    return this.#serial(async () => {
      const status = await this.#send('UTF8');
      this.#utf8Mode = status.ok;
      if (!status.ok) this.#connection.info(`the server refused UTF8 (${status.text}); the session stays in ASCII mode`);
      return status.ok;
    });
  }

  /**
   * Authenticate. "auto" uses AUTH PLAIN when CAPA lists it under SASL, USER/PASS
   * otherwise. The password is marked secret at the source: the transcript shows
   * "PASS [redacted]" and "AUTH PLAIN [redacted]".
   */
  login(user: string, password: string, method: Pop3LoginMethod = 'auto'): Promise<void> {
    return this.#serial(async () => {
      for (const [what, value] of [
        ['user name', user],
        ['password', password],
      ] as const) {
        if (/[\r\n\0]/.test(value)) {
          throw new Pop3ProtocolError('EPOP3_ARGUMENT', `the ${what} contains CR, LF or NUL, which cannot be sent`);
        }
      }
      const chosen = method === 'auto' ? (this.saslMechanisms.includes('PLAIN') ? 'plain' : 'user') : method;
      if (chosen === 'user') {
        await this.#ok(`USER ${user}`);
        await this.#ok(`PASS ${password}`, { secret: password, display: `PASS ${REDACTED}` });
      } else {
        await this.#authPlain(user, password);
      }
    });
  }

  /**
   * USER alone, answered but never followed by PASS: how a plain port shows
   * whether it would take a password in clear (a +OK asks for PASS next)
   * without any password being sent. Returns the reply instead of throwing.
   */
  userOnly(user: string): Promise<Pop3StatusLine> {
    return this.#serial(async () => {
      if (/[\r\n\0]/.test(user)) throw new Pop3ProtocolError('EPOP3_ARGUMENT', 'the user name contains CR, LF or NUL, which cannot be sent');
      return this.#send(`USER ${user}`);
    });
  }

  stat(): Promise<{ count: number; size: number }> {
    return this.#serial(async () => {
      const status = await this.#ok('STAT');
      const drop = parseDropListing(status.text, 'STAT');
      this.#highestFromLastStat = drop.count + this.#deleted.size;
      return drop;
    });
  }

  list(): Promise<Array<{ msg: number; size: number }>> {
    return this.#serial(async () => {
      // A listing grows with the maildrop: a transfer, held to the minimum rate.
      const budget = this.#budget('LIST', 'transfer');
      await this.#ok('LIST', { budget });
      const lines = await readListing(this.#connection, 'LIST', budget);
      return lines.map((line) => parseScanListing(line, 'LIST'));
    });
  }

  listOne(msg: number): Promise<{ msg: number; size: number }> {
    return this.#serial(async () => {
      const command = `LIST ${messageNumber(msg)}`;
      return parseScanListing((await this.#ok(command)).text, command);
    });
  }

  uidl(): Promise<Array<{ msg: number; uid: string }>> {
    return this.#serial(async () => {
      // A listing grows with the maildrop: a transfer, held to the minimum rate.
      const budget = this.#budget('UIDL', 'transfer');
      await this.#ok('UIDL', { budget });
      const lines = await readListing(this.#connection, 'UIDL', budget);
      return lines.map((line) => parseUidListing(line, 'UIDL'));
    });
  }

  uidlOne(msg: number): Promise<{ msg: number; uid: string }> {
    return this.#serial(async () => {
      const command = `UIDL ${messageNumber(msg)}`;
      return parseUidListing((await this.#ok(command)).text, command);
    });
  }

  /** Header block plus the first `lines` body lines, byte-exact. */
  top(msg: number, lines: number): Promise<Buffer> {
    return this.#serial(async () => {
      if (!Number.isSafeInteger(lines) || lines < 0) {
        throw new Pop3ProtocolError('EPOP3_ARGUMENT', `TOP line count must be a non-negative integer, got ${String(lines)}`);
      }
      const command = `TOP ${messageNumber(msg)} ${lines}`;
      const budget = this.#budget(command, 'transfer');
      await this.#ok(command, { budget });
      return readBody(this.#connection, command, budget);
    });
  }

  /**
   * `TOP n lines` for each of `msgs`, in order, as one unit of the queue. When
   * CAPA lists PIPELINING (RFC 2449 §6.6) every command is written before the
   * first reply is read, so a search through many messages costs one round
   * trip per batch instead of one per message; otherwise they go one at a time.
   * Every reply is read even after a -ERR, so the replies stay in step with
   * their commands; each entry is the header block, or that refusal.
   */
  topMany(msgs: readonly number[], lines: number): Promise<Array<Buffer | Pop3ReplyError>> {
    return this.#serial(async () => {
      if (!Number.isSafeInteger(lines) || lines < 0) {
        throw new Pop3ProtocolError('EPOP3_ARGUMENT', `TOP line count must be a non-negative integer, got ${String(lines)}`);
      }
      const commands = msgs.map((msg) => `TOP ${messageNumber(msg)} ${lines}`);
      return this.#pipeline(commands, 'transfer', (command, budget) => readBody(this.#connection, command, budget));
    });
  }

  /**
   * `LIST n`, and `UIDL n` when `withUid`, for each of `msgs`, pipelined as topMany is: the search's look at the
   * newest messages of a big maildrop, which costs a few lines where LIST and UIDL of the whole maildrop cost
   * two lines per message. An entry is undefined when LIST n was refused (no such message, or one marked as
   * deleted, RFC 1939 §5); its uid is undefined when UIDL n was refused. The entry keeps the number asked about:
   * the header read that follows (TOP n 0) is what identifies the message.
   */
  scanMany(msgs: readonly number[], withUid: boolean): Promise<Array<{ msg: number; size: number; uid: string | undefined } | undefined>> {
    return this.#serial(async () => {
      const commands = msgs.flatMap((msg) => (withUid ? [`LIST ${messageNumber(msg)}`, `UIDL ${messageNumber(msg)}`] : [`LIST ${messageNumber(msg)}`]));
      const replies = await this.#pipeline(commands, 'reply', async (_command, _budget, status) => status.text);
      const perMessage = withUid ? 2 : 1;
      return msgs.map((msg, i) => {
        const [listed, uidl] = [replies[i * perMessage], withUid ? replies[i * perMessage + 1] : undefined];
        if (listed === undefined || listed instanceof Pop3ReplyError) return undefined;
        const size = parseScanListing(listed, commands[i * perMessage] as string).size;
        const uid = uidl === undefined || uidl instanceof Pop3ReplyError ? undefined : parseUidListing(uidl, commands[i * perMessage + 1] as string).uid;
        return { msg, size, uid };
      });
    });
  }

  /**
   * Sends `commands` and reads each reply in order, as one unit of the queue: all written before the first reply
   * is read when CAPA lists PIPELINING (RFC 2449 §6.6), one at a time otherwise. Every reply is read even after
   * a -ERR, so the replies stay in step with their commands; each entry is what `readRest` made of a positive
   * reply, or the refusal.
   */
  async #pipeline<T>(
    commands: readonly string[],
    kind: ReplyKind,
    readRest: (command: string, budget: ReplyBudget, status: Pop3StatusLine) => Promise<T>,
  ): Promise<Array<T | Pop3ReplyError>> {
    const pipelined = this.pipelining;
    if (pipelined) for (const command of commands) this.#connection.writeLine(command, { command });
    const replies: Array<T | Pop3ReplyError> = [];
    for (const command of commands) {
      if (!pipelined) this.#connection.writeLine(command, { command });
      // Each reply's deadline starts when its turn to be read comes, not when it was sent.
      const budget = this.#budget(command, kind);
      const reply = await this.#connection.readLine({ phase: 'command', command, budget });
      const status = this.#parse(reply.bytes.toString('utf8'), command);
      replies.push(status.ok ? await readRest(command, budget, status) : new Pop3ReplyError(command, status.text, status.responseCode));
    }
    return replies;
  }

  /** Whether the server took UTF8 (RFC 6856): it may then show header blocks it hides from ASCII sessions. */
  get utf8Mode(): boolean {
    return this.#utf8Mode;
  }

  /** Whether CAPA lists PIPELINING: commands may be sent without waiting for each reply (RFC 2449 §6.6). */
  get pipelining(): boolean {
    return this.hasCapability('PIPELINING');
  }

  /** The whole message, byte-exact after dot-unstuffing. */
  retr(msg: number): Promise<Buffer> {
    return this.#serial(async () => {
      const command = `RETR ${messageNumber(msg)}`;
      const budget = this.#budget(command, 'transfer');
      await this.#ok(command, { budget });
      return readBody(this.#connection, command, budget);
    });
  }

  /**
   * RETR, the message handed to `sink` in pieces as it is read (multiline.ts readBodyTo): for a copy on disk. Each
   * piece is lent until the sink's promise resolves, then filled again: a sink that keeps one must copy it.
   */
  retrTo(msg: number, sink: (piece: Buffer) => Promise<void>): Promise<{ readonly octets: number; readonly lines: number }> {
    return this.#serial(async () => {
      const command = `RETR ${messageNumber(msg)}`;
      const budget = this.#budget(command, 'transfer');
      await this.#ok(command, { budget });
      return readBodyTo(this.#connection, command, budget, sink);
    });
  }

  dele(msg: number): Promise<void> {
    return this.#serial(async () => {
      await this.#ok(`DELE ${messageNumber(msg)}`);
      this.#deleted.add(msg);
    });
  }

  rset(): Promise<void> {
    return this.#serial(async () => {
      await this.#ok('RSET');
      this.#deleted.clear();
    });
  }

  /**
   * The highest message number of this session: STAT counts only messages not marked as deleted (RFC 1939 §5),
   * while the numbers of the marked ones stay taken (§4: numbers do not change within a session).
   */
  async highestMessageNumber(): Promise<number> {
    return this.#highestFromLastStat ?? (await this.stat()).count + this.#deleted.size;
  }

  noop(): Promise<void> {
    return this.#serial(async () => void (await this.#ok('NOOP')));
  }

  /** QUIT: the server commits deletions (UPDATE state), then the connection closes. */
  quit(): Promise<void> {
    return this.#serial(async () => {
      let status: Pop3StatusLine;
      try {
        status = await this.#send('QUIT');
      } finally {
        await this.#connection.close();
      }
      if (!status.ok) throw new Pop3ReplyError('QUIT', status.text, status.responseCode);
    });
  }

  /**
   * Destroy the socket without QUIT: the "connection lost" case. A server must
   * then not delete messages marked with DELE (RFC 1939 §6).
   */
  drop(): void {
    if (!this.#connection.closed) this.#connection.info('connection dropped by mailprobe without QUIT');
    this.#connection.destroy();
  }

  // --- internals --------------------------------------------------------------

  #serial<T>(run: () => Promise<T>): Promise<T> {
    return this.#queue.run(() => {
      this.#highestFromLastStat = undefined;
      return run();
    });
  }

  /** The deadline of one reply, status line and multi-line block together. */
  #budget(command: string, kind: ReplyKind): ReplyBudget {
    return this.#connection.replyBudget(command, kind);
  }

  async #send(line: string, options: SendOptions = {}): Promise<Pop3StatusLine> {
    const command = options.display ?? line;
    const phase = options.phase ?? 'command';
    this.#connection.writeLine(line, {
      command,
      ...(options.secret === undefined ? {} : { secret: options.secret }),
    });
    const budget = options.budget ?? this.#budget(command, 'reply');
    const reply = await this.#connection.readLine({ phase, command, budget });
    return this.#parse(reply.bytes.toString('utf8'), command);
  }

  async #ok(line: string, options: SendOptions = {}): Promise<Pop3StatusLine> {
    const status = await this.#send(line, options);
    if (!status.ok) throw new Pop3ReplyError(options.display ?? line, status.text, status.responseCode);
    return status;
  }

  #parse(text: string, command: string): Pop3StatusLine {
    try {
      return parseStatusLine(text, command);
    } catch (error) {
      // We cannot tell whether a multi-line block follows, so later replies
      // could be misread: the connection is no longer usable.
      this.#connection.destroy();
      throw error;
    }
  }

  async #authPlain(user: string, password: string): Promise<void> {
    const token = Buffer.from(`\0${user}\0${password}`, 'utf8').toString('base64');
    const display = `AUTH PLAIN ${REDACTED}`;
    const secret = { secret: token, command: display };
    let reply: string;
    if (`AUTH PLAIN ${token}`.length <= MAX_AUTH_LINE) {
      this.#connection.writeLine(`AUTH PLAIN ${token}`, secret);
      reply = await this.#readText(display);
    } else {
      this.#connection.writeLine('AUTH PLAIN', { command: 'AUTH PLAIN' });
      reply = await this.#readText('AUTH PLAIN');
      if (!isContinuation(reply)) {
        const status = this.#parse(reply, 'AUTH PLAIN');
        throw new Pop3ReplyError('AUTH PLAIN', status.text, status.responseCode);
      }
      this.#connection.writeLine(token, secret);
      reply = await this.#readText(display);
    }
    if (isContinuation(reply)) {
      // Some servers ignore the initial response and send an empty challenge.
      this.#connection.info('server sent a SASL continuation despite the initial response; answering it');
      this.#connection.writeLine(token, secret);
      reply = await this.#readText(display);
    }
    const status = this.#parse(reply, display);
    if (!status.ok) throw new Pop3ReplyError(display, status.text, status.responseCode);
  }

  async #readText(command: string): Promise<string> {
    const line = await this.#connection.readLine({ phase: 'command', command, budget: this.#budget(command, 'reply') });
    return line.bytes.toString('utf8');
  }
}

interface SendOptions {
  readonly secret?: string;
  readonly display?: string;
  readonly phase?: Phase;
  /** The reply's deadline when a multi-line block follows; default a one-line reply's. */
  readonly budget?: ReplyBudget;
}

function isContinuation(line: string): boolean {
  return line === '+' || line.startsWith('+ ');
}

function messageNumber(msg: number): number {
  if (!Number.isSafeInteger(msg) || msg < 1) {
    throw new Pop3ProtocolError('EPOP3_ARGUMENT', `a POP3 message number is a positive integer, got ${String(msg)}`);
  }
  return msg;
}

function parseGreeting(connection: Connection, text: string): Pop3StatusLine {
  try {
    return parseStatusLine(text, '(greeting)');
  } catch (error) {
    connection.destroy();
    throw error;
  }
}
