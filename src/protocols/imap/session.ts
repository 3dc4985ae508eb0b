import type { ImapFlow, ImapFlowOptions } from 'imapflow';
import { admitted, type ConnectGate } from '../../transport/budget.js';
import type { Security } from '../../core/protocols.js';
import { messageIdOfMessage } from '../../core/run-identity.js';
import { quoted } from '../../core/text.js';
import { imapGreetingStatus, wrongProtocolError } from '../../transport/greeting-kind.js';
import { ImapflowTransport } from '../../transport/imapflow-transport.js';
import { resolveLimits, type BufferMeter, type Limits } from '../../transport/limits.js';
import type { Transcript } from '../../transport/transcript.js';
import { ImapReplyError, ImapSessionError } from './errors.js';
import { imapflowLimits, limitError } from './imapflow-limits.js';
import { numberViolation } from './number-grammar.js';
import { asSessionError, connectFailure, notImapGreeting } from './open-failure.js';
import {
  fetchedFlags,
  fetchedSource,
  listedMailbox,
  namespaceOf,
  selectedMailbox,
  type AppendResult,
  type FetchedFlags,
  type FetchedSource,
  type ListedMailbox,
  type MoveResult,
  type Namespace,
  type SelectedMailbox,
} from './results.js';
import { SessionDeadlines } from './session-deadlines.js';
import type { Timeouts as ConnectionTimeouts } from '../../transport/timeouts.js';

/**
 * An IMAP session ("device") through imapflow, made deterministic for a
 * conformance tool: no automatic IDLE, no automatic ENABLE, every protocol
 * line in the transcript, and every refusal surfaced as an error with the
 * server's own words, even where imapflow would only return `false`.
 */
export interface ImapSessionOptions {
  readonly host: string;
  readonly port: number;
  readonly security: Security;
  readonly tls: { readonly verify: boolean; readonly ca?: string; readonly servername?: string };
  /** The connection phases' timeouts, and how long to wait for a push. */
  readonly timeouts: ConnectionTimeouts & { readonly push: number };
  readonly user: string;
  readonly password: string;
  readonly transcript: Transcript;
  readonly session: string;
  readonly signal?: AbortSignal;
  /** ENABLE these (CONDSTORE, QRESYNC) after login, only when a scenario asks; imapflow sends the ENABLE. */
  readonly enable?: readonly string[];
  /** mailprobe's bounds on server input (src/transport/limits.ts), passed on to imapflow's parser. */
  readonly limits?: Partial<Limits>;
  /** Where the bytes imapflow holds unparsed are counted; the process-wide meter unless a test gives its own. */
  readonly meter?: BufferMeter;
  /** The run's connection budget for this host: asked before imapflow connects, given back when the socket closes. */
  readonly gate?: ConnectGate;
}

/** imapflow's internal command runner, as list() itself calls it for LIST with a pattern. */
interface PatternList {
  run(command: 'LIST', reference: string, pattern: string, options?: { listOnly?: boolean }): ReturnType<ImapFlow['list']>;
}

/** What ended a session, shared by the session and the callbacks set up before it exists. */
interface SessionState {
  /** The first cause that ended the session. */
  readonly failure: Error | undefined;
  /** Rejects with `failure` once there is one, so a pending command ends with it at once. */
  readonly ended: Promise<never>;
  /** Records the cause (the first one wins). */
  end(error: Error): void;
}

function sessionState(): SessionState {
  let reject: (error: Error) => void = () => {};
  const ended = new Promise<never>((_resolve, r) => {
    reject = r;
  });
  // Nobody may be waiting when the session ends: that is no unhandled rejection.
  ended.catch(() => undefined);
  let failure: Error | undefined;
  return {
    get failure() {
      return failure;
    },
    ended,
    end(error) {
      failure ??= error;
      reject(failure);
    },
  };
}

/** Changes the server told this session about, unasked, since the last drain. */
export interface Notifications {
  readonly exists: Array<{ path: string; count: number; prevCount: number; at: number }>;
  readonly expunge: Array<{ path: string; seq?: number; uid?: number; at: number }>;
  readonly flags: Array<{ path: string; seq: number; uid?: number; flags: string[]; modseq?: string; at: number }>;
}

/**
 * imapflow, with its logger, charset tables and MIME parser (about 17 MB), loads with the first IMAP session, so
 * a run of POP3 and SMTP alone never loads it (issue 12, cold start). A run with IMAP sessions loads it before
 * its first scenario (the module's preload, called by runner/run.ts), so that no scenario's time holds the load.
 */
export function loadImapflow(): Promise<typeof import('imapflow')> {
  imapflow ??= import('imapflow');
  return imapflow;
}
let imapflow: Promise<typeof import('imapflow')> | undefined;

export class ImapSession {
  #lastRefusal: { line: string; at: number } | undefined;
  readonly #notifications: Notifications = { exists: [], expunge: [], flags: [] };
  #greeting = '';
  #idle: Promise<unknown> | undefined;
  readonly #state: SessionState;
  readonly #transport: ImapflowTransport;
  readonly #limits: Limits;
  #info: (text: string) => void = () => {};

  /** The imapflow client: driven only through `call` and the named commands below, never by actions. */
  readonly #client: ImapFlow;

  private constructor(
    readonly name: string,
    client: ImapFlow,
    state: SessionState,
    transport: ImapflowTransport,
    limits: Limits,
  ) {
    this.#client = client;
    this.#state = state;
    this.#transport = transport;
    this.#limits = limits;
  }

  static async open(options: ImapSessionOptions): Promise<ImapSession> {
    // Loaded, then the budget asked, before any of imapflow's or mailprobe's clocks start: neither is a server's delay.
    const { ImapFlow } = await loadImapflow();
    const { transcript, session } = options;
    const release = await admitted(options.gate, options.signal);
    const limits = resolveLimits(options.limits);
    const where = `${options.host}:${options.port}`;
    let holder: ImapSession | undefined;
    let greeting = '';
    let lastRefusal: { line: string; at: number } | undefined;
    // The first cause that ended this session, in mailprobe's terms (a deadline, a limit, a
    // malformed number): imapflow then only reports "connection not available".
    const state = sessionState();
    const fail = (error: Error): void => {
      state.end(error);
      transport.abort(error);
      // Once logged in, the session is closed at once too, not when imapflow notices the socket.
      holder?.drop();
    };
    const deadlines = new SessionDeadlines({
      greetingMs: options.timeouts.greeting,
      commandMs: options.timeouts.command,
      where,
      plainText: options.security !== 'tls',
      abort: fail,
      minTransferRate: limits.minTransferRate,
    });
    const transport = new ImapflowTransport({
      onClosed: release,
      host: options.host,
      port: options.port,
      security: options.security,
      onInfo: (text) => transcript.info(session, text),
      tls: {
        verify: options.tls.verify,
        ...(options.tls.ca ? { ca: options.tls.ca } : {}),
        ...(options.tls.servername ? { servername: options.tls.servername } : {}),
      },
      timeouts: options.timeouts,
      ...(options.meter ? { meter: options.meter } : {}),
      maxResponseBytes: imapflowLimits(limits).maxResponseSize,
      onOverflow: () => fail(limitError({ code: 'ResponseTooLarge' }, deadlines.phase, where, limits)!),
      onConnected: () => deadlines.connected(),
      onLiteral: (octets) => {
        deadlines.literal(octets);
      },
      onNul: (line) => {
        if (!deadlines.greeted) return; // a greeting of NUL bytes is a port that does not speak IMAP (onFirstLine)
        const shown = JSON.stringify(line.toString('latin1').replace(/\r?\n$/, ''));
        fail(new ImapSessionError('EIMAP_MALFORMED', `${where} sent a response line with a NUL octet: ${shown}`, deadlines.phase, NUL_RULE));
      },
      // A port that answers with something other than an IMAP greeting is named at once,
      // rather than when the greeting deadline runs out.
      onFirstLine: (first) => {
        const wrong = wrongProtocolError('imap', first, { host: options.host, port: options.port }) ?? notImapGreeting(first, options);
        if (wrong !== undefined) fail(asSessionError(wrong));
      },
    });
    const record = (entry: { src?: string; msg?: string; err?: unknown }) => {
      if (typeof entry?.msg !== 'string') return;
      if (entry.src === 'c') {
        transcript.client(session, entry.msg);
        deadlines.client(entry.msg);
      } else if (entry.src === 's') {
        transcript.server(session, entry.msg);
        if (!greeting && imapGreetingStatus(entry.msg) !== undefined) greeting = entry.msg;
        if (/^[A-Za-z0-9.]+ (NO|BAD)\b/.test(entry.msg)) {
          lastRefusal = { line: entry.msg, at: Date.now() };
          if (holder) holder.#lastRefusal = lastRefusal;
        }
        // A number outside its RFC range ends the session as a failed syntax check, before
        // imapflow can drop it silently and leave the value undefined.
        const wrong = numberViolation(entry.msg);
        if (wrong !== undefined) {
          const shown = quoted(entry.msg, 120);
          fail(new ImapSessionError('EIMAP_MALFORMED', `${where} sent ${shown}: ${wrong.problem}`, deadlines.phase, wrong.rule));
        }
        deadlines.server(entry.msg);
      }
    };
    // imapflow logs a server line it cannot parse as an error: it belongs in the transcript too.
    const recordUnparsed = (entry: { src?: string; msg?: string }) => {
      if (entry?.src === 's') record(entry);
    };
    const logger = { trace: record, debug: record, info: () => {}, warn: () => {}, error: recordUnparsed, fatal: () => {} };
    const client = new ImapFlow({
      host: options.host,
      port: options.port,
      secure: options.security === 'tls',
      // mailprobe opens and owns the sockets: its own timeout per phase, destroyed on any deadline.
      transport,
      // STARTTLS is required before LOGIN on a starttls endpoint (else imapflow would warn and log in
      // in clear when the offer is missing or stripped), and never attempted on a plain one.
      ...(options.security === 'starttls' ? { doSTARTTLS: true } : options.security === 'none' ? { doSTARTTLS: false } : {}),
      // Certificate checks (verify, ca, servername) are the transport's: it makes every TLS socket.
      ...(options.tls.servername ? { servername: options.tls.servername } : {}),
      auth: { user: options.user, pass: options.password },
      logger: logger as ImapFlowOptions['logger'],
      disableAutoIdle: true,
      // imapflow's automatic ENABLE (CONDSTORE, and QRESYNC when asked) only when the scenario wants it.
      disableAutoEnable: !(options.enable && options.enable.length > 0),
      qresync: options.enable?.some((e) => e.toUpperCase() === 'QRESYNC') ?? false,
      // Conformance runs compare bytes: no compression layer between us and the server.
      disableCompression: true,
      // BINARY[] would hand back decoded content; a byte-for-byte check needs BODY.PEEK[].
      disableBinary: true,
      clientInfo: { name: 'mailprobe' },
      // Backstops only: the transport and SessionDeadlines fire first, with the phase named.
      connectionTimeout: options.timeouts.dns + options.timeouts.tcp + options.timeouts.tls + BACKSTOP_MS,
      greetingTimeout: options.timeouts.greeting + BACKSTOP_MS,
      // An inactivity bound only: every reply has a total deadline (SessionDeadlines). IDLE waits
      // are bounded by the scenario (timeouts.push), so the socket may stay quiet that long.
      socketTimeout: Math.max(options.timeouts.command, options.timeouts.push) + 5_000,
      ...imapflowLimits(limits),
    });
    const onAbort = () => {
      state.end(new ImapSessionError('EABORTED', `cancelled during ${deadlines.phase}`, deadlines.phase));
      client.close();
      transport.dispose();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    // One run signal serves many sessions: let go of it when this one closes.
    client.once('close', () => {
      options.signal?.removeEventListener('abort', onAbort);
      deadlines.stop();
      transport.dispose();
    });
    client.on('error', (err: unknown) => {
      // Errors surface on the pending command; without a listener node would throw. A size limit
      // is named here, with the phase it happened in, and the socket goes at once: imapflow has
      // stopped reading, and bytes still arriving would only be counted as held.
      const limit = limitError(err, deadlines.phase, where, limits);
      if (limit !== undefined) fail(limit);
    });
    try {
      await client.connect();
    } catch (err) {
      release();
      deadlines.stop();
      transport.dispose();
      options.signal?.removeEventListener('abort', onAbort);
      throw await connectFailure(err, options, transport, deadlines, state.failure, limits);
    }
    if (options.security === 'starttls' && !client.secureConnection) {
      client.close();
      throw new ImapSessionError(
        'ESTARTTLS',
        `${options.host}:${options.port} did not upgrade to TLS with STARTTLS (not offered?), so the session would send the password in clear; use security: tls on the IMAPS port, or security: none if plaintext is really intended`,
        'starttls',
      );
    }
    const wrapper = new ImapSession(session, client, state, transport, limits);
    holder = wrapper;
    wrapper.#greeting = greeting;
    wrapper.#info = (text) => transcript.info(session, text);
    wrapper.#lastRefusal = lastRefusal;
    wrapper.#watch();
    return wrapper;
  }

  get greeting(): string {
    return this.#greeting;
  }

  get capabilities(): string[] {
    return [...this.#client.capabilities.keys()].map((c) => c.toUpperCase());
  }

  has(capability: string): boolean {
    return this.#client.capabilities.has(capability.toUpperCase());
  }

  get closed(): boolean {
    return !this.#client.usable;
  }

  /** The last NO/BAD this session saw, as a refusal of `command` (e.g. a CAPABILITY imapflow only logged). */
  lastRefusalAs(command: string): ImapReplyError | undefined {
    return this.#lastRefusal === undefined ? undefined : parseRefusal(command, this.#lastRefusal.line);
  }

  /** Returns and forgets the notifications collected since the last call. */
  drain(): Notifications {
    const copy: Notifications = {
      exists: this.#notifications.exists.splice(0),
      expunge: this.#notifications.expunge.splice(0),
      flags: this.#notifications.flags.splice(0),
    };
    return copy;
  }

  /**
   * Runs an imapflow call and turns a refusal into an ImapReplyError with the
   * server's words. imapflow returns `false` from some commands (STORE, MOVE,
   * EXPUNGE, NOOP) instead of throwing; the refusal line is then read from the
   * transcript of this session.
   */
  async call<T>(command: string, fn: (client: ImapFlow) => Promise<T>): Promise<Exclude<T, false>> {
    // A session a deadline, a limit or a malformed answer ended stays ended, for that reason.
    if (this.#state.failure !== undefined) throw this.#state.failure;
    const since = Date.now();
    let result: T;
    try {
      // Every reply is timed once, in SessionDeadlines, from the line imapflow writes to its
      // tagged answer (imapflow's own commands too, literals at the minimum rate): what ends
      // the session there (a deadline, a limit, a malformed number, Ctrl-C) ends this call at
      // once, with that cause, and the socket is already gone.
      result = await Promise.race([fn(this.#client), this.#state.ended]);
    } catch (err) {
      if (this.#state.failure !== undefined) throw this.#state.failure;
      throw err instanceof ImapSessionError ? err : this.#translate(command, err);
    }
    if (this.#state.failure !== undefined) throw this.#state.failure;
    if (result === false) {
      const refusal = this.#lastRefusal && this.#lastRefusal.at >= since ? this.#lastRefusal.line : undefined;
      throw refusal
        ? parseRefusal(command, refusal)
        : new ImapReplyError(command, 'NO', 'the command did not complete (imapflow reported failure without a server reply)');
    }
    return result as Exclude<T, false>;
  }

  // The named commands: everything an action asks of an IMAP session. Each names its
  // command for the deadline and the error as the wire shows it, and hands back
  // mailprobe's plain types (results.ts), never imapflow's objects.

  /** The personal namespace NAMESPACE reported at login, if any. */
  get namespace(): Namespace | undefined {
    return namespaceOf(this.#client.namespace);
  }

  /** The mailbox SELECT or EXAMINE opened last, as it stands now (EXISTS moves on with the server's pushes). */
  get selected(): SelectedMailbox | undefined {
    const mailbox = this.#client.mailbox;
    return mailbox ? selectedMailbox(mailbox) : undefined;
  }

  /**
   * Every mailbox with its subscription state (imapflow sends LIST, then LSUB or
   * LIST RETURN (SUBSCRIBED)); `listOnly` sends the LIST alone. `label` names it in errors.
   * `pattern` lists only the names it matches (`LIST "" pattern`, RFC 9051 §6.3.9) instead of "*".
   */
  async list(options: { readonly listOnly?: boolean; readonly label?: string; readonly pattern?: string } = {}): Promise<ListedMailbox[]> {
    const listOptions = options.listOnly ? { listOnly: true } : undefined;
    const { pattern } = options;
    // imapflow sends its namespace prefix as LIST's reference ("INBOX." on Courier), and the
    // server reads the pattern relative to it (RFC 9051 §6.3.9): a pattern that already holds
    // the prefix would ask for "INBOX.INBOX.mailprobe-…" and find nothing, so it goes without.
    const prefix = this.#client.namespace?.prefix ?? '';
    const relative = pattern !== undefined && prefix !== '' && pattern.startsWith(prefix) ? pattern.slice(prefix.length) : pattern;
    const listed = await this.call(options.label ?? 'LIST', (c) =>
      // imapflow's list() always asks for "*"; its run('LIST', reference, pattern) is the same
      // command (RETURN options, LSUB with the same pattern) for one pattern. Not in its types.
      relative === undefined ? c.list(listOptions) : (c as unknown as PatternList).run('LIST', '', relative, listOptions),
    );
    return listed.map(listedMailbox);
  }

  /** STATUS (MESSAGES) of a mailbox by name: cleanup asks it whether a refused DELETE left the folder there. */
  async status(path: string): Promise<{ readonly messages?: number }> {
    const status = await this.call(`STATUS ${path}`, (c) => c.status(path, { messages: true }));
    return status.messages !== undefined ? { messages: status.messages } : {};
  }

  /** SELECT (read/write) or EXAMINE (read-only). */
  async open(path: string, readOnly: boolean): Promise<SelectedMailbox> {
    return selectedMailbox(await this.call(`${readOnly ? 'EXAMINE' : 'SELECT'} ${path}`, (c) => c.mailboxOpen(path, { readOnly })));
  }

  async createMailbox(path: string): Promise<void> {
    await this.call(`CREATE ${path}`, (c) => c.mailboxCreate(path));
  }

  async renameMailbox(from: string, to: string): Promise<void> {
    await this.call(`RENAME ${from} ${to}`, (c) => c.mailboxRename(from, to));
  }

  async deleteMailbox(path: string): Promise<void> {
    await this.call(`DELETE ${path}`, (c) => c.mailboxDelete(path));
  }

  async subscribe(path: string): Promise<void> {
    await this.call(`SUBSCRIBE ${path}`, (c) => c.mailboxSubscribe(path));
  }

  async unsubscribe(path: string): Promise<void> {
    await this.call(`UNSUBSCRIBE ${path}`, (c) => c.mailboxUnsubscribe(path));
  }

  async noop(label = 'NOOP'): Promise<void> {
    await this.call(label, (c) => c.noop());
  }

  /** UID FETCH uid (FLAGS), with MODSEQ when the server has CONDSTORE; undefined when there is no such message. */
  async fetchFlags(uid: number): Promise<FetchedFlags | undefined> {
    const modseq = this.has('CONDSTORE') ? { modseq: true } : {};
    const message = await this.call(
      `UID FETCH ${uid} (FLAGS)`,
      async (c) => (await c.fetchOne(String(uid), { uid: true, flags: true, ...modseq }, { uid: true })) || undefined,
    );
    return message ? fetchedFlags(message) : undefined;
  }

  /** UID FETCH uid (UID): the message's sequence number now; undefined when there is no such message. */
  async fetchSeq(uid: number): Promise<{ readonly uid: number; readonly seq: number } | undefined> {
    const message = await this.call(`UID FETCH ${uid} (UID)`, async (c) => (await c.fetchOne(String(uid), { uid: true }, { uid: true })) || undefined);
    return message ? { uid: message.uid, seq: message.seq } : undefined;
  }

  /** UID FETCH uid (BODY.PEEK[] FLAGS): the bytes, without setting \Seen; undefined when there is no such message. */
  async fetchSource(uid: number): Promise<FetchedSource | undefined> {
    const message = await this.call(
      `UID FETCH ${uid} (BODY.PEEK[] FLAGS)`,
      async (c) => (await c.fetchOne(String(uid), { uid: true, source: true, flags: true }, { uid: true })) || undefined,
    );
    return message ? fetchedSource(message) : undefined;
  }

  /**
   * The message to `sink` in pieces, never whole: UID FETCH uid (RFC822.SIZE),
   * then UID FETCH uid (BODY.PEEK[]<offset.chunk>) until the server returns less
   * than asked (RFC 9051 §6.4.5: a partial fetch returns at most the octets asked
   * for), as imapflow's download() does. imapflow buffers one literal whole, so a
   * piece costs at most `chunkOctets` in memory. PEEK: \Seen is never set; the
   * FLAGS are read after the pieces, so a server that sets it anyway shows it.
   * maxMessageBytes bounds the total, whatever RFC822.SIZE claimed.
   */
  async fetchSourceTo(
    uid: number,
    sink: (piece: Buffer) => Promise<void>,
    chunkOctets = 1024 * 1024,
  ): Promise<{ readonly uid: number; readonly size: number; readonly octets: number; readonly flags: string[]; readonly pieces: number } | undefined> {
    const meta = await this.call(
      `UID FETCH ${uid} (RFC822.SIZE)`,
      async (c) => (await c.fetchOne(String(uid), { uid: true, size: true }, { uid: true })) || undefined,
    );
    if (!meta) return undefined;
    const size = meta.size ?? 0;
    let octets = 0;
    let pieces = 0;
    for (;;) {
      const start = octets;
      const message = await this.call(
        `UID FETCH ${uid} (BODY.PEEK[]<${start}.${chunkOctets}>)`,
        async (c) => (await c.fetchOne(String(uid), { uid: true, source: { start, maxLength: chunkOctets } }, { uid: true })) || undefined,
      );
      const piece = message?.source ?? Buffer.alloc(0);
      if (piece.length > chunkOctets) {
        throw new ImapSessionError(
          'EIMAP_PARTIAL',
          `the server returned ${piece.length} octets for BODY.PEEK[]<${start}.${chunkOctets}>, more than the ${chunkOctets} asked for (RFC 9051 §6.4.5)`,
          'command',
        );
      }
      octets += piece.length;
      if (octets > this.#limits.maxMessageBytes) {
        throw new ImapSessionError(
          'ELIMIT',
          `a message of ${octets}+ octets, more than the limit maxMessageBytes (${this.#limits.maxMessageBytes}) allows`,
          'command',
        );
      }
      if (piece.length > 0) {
        pieces++;
        await sink(piece);
      }
      if (piece.length < chunkOctets) break;
    }
    const after = await this.fetchFlags(uid);
    return { uid: meta.uid, size, octets, flags: [...(after?.flags ?? [])], pieces };
  }

  /**
   * UID FETCH uids (BODY.PEEK[HEADER.FIELDS (fields)]); `each` gets every message
   * as it arrives, so what came before a refusal is kept.
   */
  async fetchHeaderFields(uids: readonly number[], fields: readonly string[], each: (message: { uid: number; headers: Buffer }) => void): Promise<void> {
    const range = uids.join(',');
    await this.call(`UID FETCH ${range} (BODY.PEEK[HEADER.FIELDS (${fields.join(' ')})])`, async (c) => {
      for await (const message of c.fetch(range, { uid: true, headers: [...fields] }, { uid: true })) {
        each({ uid: message.uid, headers: message.headers ?? Buffer.alloc(0) });
      }
      return true;
    });
  }

  /** UID SEARCH HEADER …, one criterion per header (all must match). */
  async searchHeaders(headers: Readonly<Record<string, string>>): Promise<number[]> {
    const hits = await this.call('UID SEARCH', (c) => c.search({ header: { ...headers } }, { uid: true }));
    return [...(hits || [])];
  }

  /** UID SEARCH UID uid: whether this session still sees the message. */
  async searchUid(uid: number): Promise<number[]> {
    const hits = await this.call(`UID SEARCH UID ${uid}`, (c) => c.search({ uid: String(uid) }, { uid: true }));
    return [...(hits || [])];
  }

  /** APPEND, with APPENDUID when the server gives it. */
  async append(path: string, raw: Buffer, flags: readonly string[]): Promise<AppendResult> {
    // imapflow logs the literal as "(* N B literal *)" only: say which message it is, as SMTP's data line does.
    this.#info(appendNote(raw));
    const result = await this.call(`APPEND ${path}`, (c) => c.append(path, raw, [...flags]));
    const uidValidity = result.uidValidity === undefined || result.uidValidity === null ? undefined : String(result.uidValidity);
    return { ...(result.uid !== undefined ? { uid: result.uid } : {}), ...(uidValidity !== undefined ? { uidValidity } : {}) };
  }

  /** UID STORE uid +FLAGS (flags). */
  async addFlags(uid: number, flags: readonly string[]): Promise<void> {
    await this.call(`UID STORE ${uid} +FLAGS`, (c) => c.messageFlagsAdd(String(uid), [...flags], { uid: true }));
  }

  /** UID STORE uid -FLAGS (flags). */
  async removeFlags(uid: number, flags: readonly string[]): Promise<void> {
    await this.call(`UID STORE ${uid} -FLAGS`, (c) => c.messageFlagsRemove(String(uid), [...flags], { uid: true }));
  }

  /**
   * UID STORE +FLAGS (\Deleted), then UID EXPUNGE of exactly these UIDs with
   * UIDPLUS, else a plain EXPUNGE (which takes every \Deleted message along:
   * callers outside the run's own folders insist on UIDPLUS first).
   */
  async expunge(uids: readonly number[]): Promise<void> {
    const range = uids.join(',');
    const expunge = this.has('UIDPLUS') ? 'UID EXPUNGE' : 'EXPUNGE';
    await this.call(`UID STORE ${range} +FLAGS (\\Deleted) and ${expunge}`, (c) => c.messageDelete(range, { uid: true }));
  }

  /**
   * UID MOVE (RFC 6851), never emulated: imapflow would quietly send COPY, STORE
   * and EXPUNGE to a server without MOVE, which is no answer to the question a
   * conformance check asks. Without MOVE announced this refuses to send anything.
   */
  async move(uid: number, destination: string): Promise<MoveResult> {
    if (!this.has('MOVE')) {
      throw new ImapSessionError('EMOVE_MISSING', `UID MOVE ${uid} ${destination}: the server does not announce MOVE, and MOVE is never emulated`, 'command');
    }
    const result = await this.call(`UID MOVE ${uid} ${destination}`, (c) => c.messageMove(String(uid), destination, { uid: true }));
    return result?.uidMap ? { uidMap: new Map(result.uidMap) } : {};
  }

  /**
   * Starts IDLE on the selected mailbox and returns at once; the server's
   * pushes land in the notifications. Any later command ends the IDLE (imapflow
   * sends DONE first).
   */
  startIdle(): number {
    const started = Date.now();
    this.#idle = this.#client.idle().catch(() => undefined);
    return started;
  }

  /** Waits until the server pushes an EXISTS after `since` (ms epoch), or the timeout passes. */
  async waitForExists(since: number, timeoutMs: number, signal?: AbortSignal): Promise<{ at: number; count: number } | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.#notifications.exists.find((e) => e.at >= since && e.count > e.prevCount);
      if (hit) return { at: hit.at, count: hit.count };
      if (Date.now() >= deadline || signal?.aborted || this.closed) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Ends an IDLE started by startIdle (by NOOP, which makes imapflow send DONE). */
  async stopIdle(): Promise<void> {
    if (!this.#idle) return;
    await this.noop('NOOP (ends IDLE)').catch(() => undefined);
    await this.#idle;
    this.#idle = undefined;
  }

  async logout(): Promise<void> {
    if (this.closed) return;
    await this.#client.logout().catch(() => this.#client.close());
  }

  drop(): void {
    this.#client.close();
    this.#transport.dispose();
  }

  #watch(): void {
    this.#client.on('exists', (e: { path: string; count: number; prevCount: number }) =>
      this.#notifications.exists.push({ path: e.path, count: e.count, prevCount: e.prevCount, at: Date.now() }),
    );
    this.#client.on('expunge', (e: { path: string; seq?: number; uid?: number }) =>
      this.#notifications.expunge.push({
        path: e.path,
        ...(e.seq !== undefined ? { seq: e.seq } : {}),
        ...(e.uid !== undefined ? { uid: e.uid } : {}),
        at: Date.now(),
      }),
    );
    this.#client.on('flags', (e: { path: string; seq: number; uid?: number; flags: Set<string>; modseq?: bigint }) =>
      this.#notifications.flags.push({
        path: e.path,
        seq: e.seq,
        ...(e.uid !== undefined ? { uid: e.uid } : {}),
        flags: [...e.flags],
        ...(e.modseq !== undefined ? { modseq: String(e.modseq) } : {}),
        at: Date.now(),
      }),
    );
  }

  #translate(command: string, err: unknown): Error {
    const e = err as {
      responseStatus?: string;
      responseText?: string;
      serverResponseCode?: string;
      response?: unknown;
      code?: string;
      message?: string;
      executedCommand?: string;
    };
    if (e.responseStatus === 'NO' || e.responseStatus === 'BAD') {
      const line = this.#lastRefusal?.line;
      if (line) return parseRefusal(e.executedCommand ?? command, line);
      return new ImapReplyError(e.executedCommand ?? command, e.responseStatus, e.responseText ?? e.message ?? '', e.serverResponseCode);
    }
    if (e.code === 'NoConnection' || e.code === 'EConnectionClosed' || e.responseStatus === 'BYE') {
      return new ImapSessionError('ECLOSED', `the connection closed during ${command}: ${e.message ?? ''}`.trim(), 'command');
    }
    const limit = limitError(err, 'command', `${this.#client.host}:${this.#client.port}`, this.#limits);
    if (limit !== undefined) return limit;
    if (e.code === 'ETIMEOUT' || e.code === 'ETIMEDOUT' || e.code === 'CONNECT_TIMEOUT') {
      return new ImapSessionError('ETIMEOUT', `timed out during ${command}`, 'command');
    }
    return err instanceof Error ? err : new Error(String(err));
  }
}

/** "A12 NO [TRYCREATE] Mailbox doesn't exist" → ImapReplyError. */
function parseRefusal(command: string, line: string): ImapReplyError {
  const match = /^\S+ (NO|BAD)\s*(?:\[([^\]\s]+)[^\]]*\])?\s*(.*)$/i.exec(line);
  if (!match) return new ImapReplyError(command, 'NO', line);
  return new ImapReplyError(command, match[1]!.toUpperCase() as 'NO' | 'BAD', match[3] ?? '', match[2]);
}

const NUL_RULE = 'RFC 3501 §9 (kept by RFC 9051 §9), note 3: "The ASCII NUL character, %x00, MUST NOT be used at any time"';

/** How long imapflow's own timers wait beyond mailprobe's, which fire first and name the phase. */
const BACKSTOP_MS = 1_000;

/** The transcript's line for an APPEND's literal: its size and Message-ID, never its content. */
export function appendNote(raw: Buffer): string {
  const id = messageIdOfMessage(raw);
  return `[literal: ${raw.length} octets${id === undefined ? '' : `, Message-ID ${id}`}; not shown]`;
}
