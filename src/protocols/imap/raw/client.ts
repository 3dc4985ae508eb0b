import { connect, type ConnectOptions } from '../../../transport/connect.js';
import { SerialQueue } from '../../../transport/serial-queue.js';
import type { Connection, PhaseTimings } from '../../../transport/connection.js';
import { TransportError, type Phase } from '../../../transport/errors.js';
import { silentGreeting } from '../../../transport/greeting-kind.js';
import { limitExceeded } from '../../../transport/limits.js';
import type { ReplyBudget } from '../../../transport/reply-budget.js';
import { timerDelay } from '../../../transport/timeouts.js';
import type { TlsInfo } from '../../../transport/tls.js';
import { REDACTED, type Transcript } from '../../../transport/transcript.js';
import { astring, astringPart, wireLines, type CommandPart } from './encode.js';
import { ImapRawProtocolError } from './errors.js';
import { ResponseFramer } from './framer.js';
import { readGreeting, type ImapGreeting } from './greeting.js';
import { effectiveImapLimits, type EffectiveImapLimits, type ImapRawLimits } from './limits.js';
import { QuietableTranscript } from './quiet-transcript.js';
import { capabilityList, parseResponse, type ImapResponse, type ParsedResponse, type UntaggedResponse } from './response.js';

export interface ImapRawConnectOptions extends ConnectOptions {
  /**
   * Send CAPABILITY after the greeting when the greeting carried no
   * [CAPABILITY] code. Default true. With security "starttls" CAPABILITY is
   * always sent before STARTTLS, and again after it unless this is false.
   */
  readonly capability?: boolean;
  /** IMAP-only bounds (see limits.ts); the transport's `limits` apply as well. */
  readonly imapLimits?: Partial<ImapRawLimits>;
}

/** What to send in answer to a "+" continuation request (AUTHENTICATE). */
export type ContinuationAnswer = string | { readonly line: string; readonly secret: boolean };

export interface ImapCommandOptions {
  /** Text of the command that is secret; the transcript shows [redacted] in its place. */
  readonly secret?: string;
  /** Per-line read timeout for this command; default the connection's command timeout. */
  readonly timeoutMs?: number;
  /**
   * Answers "+" continuation requests that are not for our own literals
   * (AUTHENTICATE challenges). Without it such a request is EIMAP_CONTINUATION.
   */
  readonly onContinuation?: (text: string) => ContinuationAnswer | Promise<ContinuationAnswer>;
  /**
   * "auto" (default): non-synchronizing literals ("{n+}") when LITERAL+ is
   * advertised, or LITERAL- and n ≤ 4096 (RFC 7888); "sync": always wait for
   * the server's "+" before sending literal octets.
   */
  readonly literals?: 'auto' | 'sync';
}

export interface TimedUntaggedResponse extends UntaggedResponse {
  /** When it was read, in ms since the Unix epoch (Date.now()). */
  readonly at: number;
}

export interface ImapIdleOptions {
  /** End IDLE (send DONE) as soon as an untagged response matches. */
  readonly until?: (response: UntaggedResponse) => boolean;
  /** End IDLE this many ms after the server's "+", whether or not anything matched. */
  readonly timeoutMs: number;
}

export interface ImapIdleResult {
  /** The tagged response to IDLE; its `untagged` holds every untagged response read. */
  readonly response: ImapResponse;
  /** Untagged responses read during the command, each with the time it was read. */
  readonly events: TimedUntaggedResponse[];
  /** When the server's "+" was read (ms since the epoch); undefined if IDLE was refused. */
  readonly idleStartedAt: number | undefined;
  /**
   * "matched": `until` matched; "timeout": timeoutMs passed; "server": the
   * server sent its tagged response before DONE; "refused": NO/BAD instead of "+".
   */
  readonly ended: 'matched' | 'timeout' | 'server' | 'refused';
}

/** Part of a command that is written as is but shown as [redacted] in the transcript. */
export interface SecretPart {
  readonly secret: string;
}

export type ImapCommandPart = CommandPart | SecretPart;

/** A command ready to send: text lines separated by literals. */
interface Segment {
  readonly wire: string;
  readonly shown: string;
  /** The literal that follows this segment's "{n}" marker. */
  readonly literal?: { readonly bytes: Buffer; readonly sync: boolean };
}

/** One command of a pipeline: its response, and when it was written and answered (performance.now()). */
export interface ImapPipelined {
  readonly response: ImapResponse;
  readonly sentAt: number;
  readonly answeredAt: number;
}

interface Exchange {
  readonly tag: string;
  /** The command's first line as the transcript shows it ("A002 LOGIN alice [redacted]"). */
  readonly display: string;
  readonly phase: Phase;
  readonly timeoutMs: number | undefined;
  /** The deadline of the whole response; a literal makes it a transfer (held to the minimum rate). */
  readonly budget: ReplyBudget;
  readonly untagged: UntaggedResponse[];
  /** Octets read for this command so far (text and literals). */
  octets: number;
  /** LOGOUT expects BYE; STARTTLS's tagged OK must not update capabilities (sent before TLS). */
  readonly expectBye: boolean;
  readonly trustCodes: boolean;
}

/** RFC 7888 §4: LITERAL- allows non-synchronizing literals up to 4096 octets. */
const LITERAL_MINUS_MAX = 4096;

/**
 * A raw tagged-command IMAP client (RFC 3501 / RFC 9051) on the transport
 * layer, for wire-level checks that imapflow hides: it sends exactly what it
 * is given, returns tagged NO/BAD instead of throwing, and keeps every
 * untagged response. One command at a time (calls are queued): no pipelining.
 */
export class ImapRawClient {
  readonly greeting: ImapGreeting;
  readonly #connection: Connection;
  readonly #transcript: QuietableTranscript;
  readonly #limits: EffectiveImapLimits;
  readonly #framer: ResponseFramer;
  #capabilities: string[] = [];
  #preTlsCapabilities: string[] | undefined;
  #tagCounter = 0;
  #exchange: Exchange | undefined;
  readonly #queue = new SerialQueue();

  private constructor(connection: Connection, transcript: QuietableTranscript, limits: EffectiveImapLimits, framer: ResponseFramer, greeting: ImapGreeting) {
    this.#connection = connection;
    this.#transcript = transcript;
    this.#limits = limits;
    this.#framer = framer;
    this.greeting = greeting;
    if (greeting.code !== undefined && /^CAPABILITY\b/i.test(greeting.code)) this.#capabilities = capabilityList(greeting.code);
  }

  /**
   * DNS → TCP → (TLS) → greeting → CAPABILITY (unless the greeting carried it);
   * for "starttls": CAPABILITY → STARTTLS → TLS → CAPABILITY again.
   */
  static async connect(options: ImapRawConnectOptions): Promise<ImapRawClient> {
    const transcript = new QuietableTranscript(options.transcript);
    const connection = await connect({ ...options, transcript, protocol: 'imap' });
    try {
      const limits = effectiveImapLimits(connection.limits, options.imapLimits);
      let client: ImapRawClient | undefined;
      const framer = new ResponseFramer({
        log: (text) => transcript.server(connection.session, text),
        checkLiteral: (size, octets) => checkLiteral(connection, limits, size, octets, client === undefined ? undefined : client.#exchange),
      });
      const greeting = await readGreeting(connection, framer);
      client = new ImapRawClient(connection, transcript, limits, framer, greeting);
      if (options.security === 'starttls') {
        await client.#secure(options.capability !== false);
      } else if (options.capability !== false && client.#capabilities.length === 0) {
        await client.capability();
      }
      return client;
    } catch (error) {
      connection.destroy();
      throw (await silentGreeting(error, options, 'imap')) ?? error;
    }
  }

  /** Capabilities as last advertised (CAPABILITY response or [CAPABILITY] code); [] after STARTTLS until asked again. */
  get capabilities(): string[] {
    return [...this.#capabilities];
  }

  /** What the plaintext session advertised before STARTTLS (LOGINDISABLED checks); undefined without STARTTLS. */
  get preTlsCapabilities(): string[] | undefined {
    return this.#preTlsCapabilities === undefined ? undefined : [...this.#preTlsCapabilities];
  }

  /** Case-insensitive; "AUTH=PLAIN" matches as a whole word. */
  hasCapability(name: string): boolean {
    const wanted = name.toUpperCase();
    return this.#capabilities.some((c) => c.toUpperCase() === wanted);
  }

  get closed(): boolean {
    return this.#connection.closed;
  }

  get tlsInfo(): TlsInfo | undefined {
    return this.#connection.tls;
  }

  get timings(): Readonly<PhaseTimings> {
    return this.#connection.timings;
  }

  /** The caller's transcript (the connection holds a forwarding wrapper). */
  get transcript(): Transcript {
    return this.#transcript.inner;
  }

  /** The underlying connection, for diagnostics (bare-LF count, endpoint). */
  get connection(): Connection {
    return this.#connection;
  }

  /**
   * Send one tagged command and read until its tagged response. `text` is the
   * command without its tag; pass parts to send literals (a Buffer part) or to
   * mark a part secret. NO and BAD are returned; a BYE, a malformed response or
   * a lost connection throws.
   */
  command(text: string | readonly ImapCommandPart[], options: ImapCommandOptions = {}): Promise<ImapResponse> {
    return this.#serial(() => this.#run(typeof text === 'string' ? [text] : text, options));
  }

  /** CAPABILITY; throws EIMAP_REFUSED on NO/BAD and EIMAP_MALFORMED when OK came without the list. */
  capability(): Promise<string[]> {
    return this.#serial(async () => {
      const response = await this.#run(['CAPABILITY'], {});
      if (response.status !== 'OK') throw refused('CAPABILITY', response);
      const found = response.untagged.filter((u) => u.kind === 'CAPABILITY');
      if (found.length === 0) {
        throw new ImapRawProtocolError(
          'EIMAP_MALFORMED',
          `${this.#connection.endpoint} answered CAPABILITY with OK but no untagged CAPABILITY response (RFC 3501 §6.1.1)`,
          { command: `${response.tag} CAPABILITY` },
        );
      }
      return this.capabilities;
    });
  }

  /**
   * LOGIN (RFC 3501 §6.2.3). The password is secret at the source: the
   * transcript shows "A002 LOGIN alice [redacted]" (a password that needs a
   * literal is never logged at all). Refused locally while LOGINDISABLED is
   * advertised, since the password would then go over a connection the server
   * itself calls unsafe; `allowLoginDisabled` is for a check that the server
   * rejects it (send a throwaway password).
   */
  login(user: string, password: string, options: { allowLoginDisabled?: boolean } = {}): Promise<ImapResponse> {
    return this.#serial(async () => {
      for (const [what, value] of [
        ['user name', user],
        ['password', password],
      ] as const) {
        if (/[\r\n\0]/.test(value)) {
          throw new ImapRawProtocolError('EIMAP_ARGUMENT', `the ${what} contains CR, LF or NUL, which cannot be sent in LOGIN`);
        }
      }
      if (this.hasCapability('LOGINDISABLED') && options.allowLoginDisabled !== true) {
        throw new ImapRawProtocolError(
          'EIMAP_STATE',
          `LOGIN refused locally: ${this.#connection.endpoint} advertises LOGINDISABLED (RFC 3501 §6.2.3); use STARTTLS or the IMAPS port first`,
          { command: 'LOGIN' },
        );
      }
      const quoted = astring(password);
      const secretPart: ImapCommandPart = quoted === undefined ? Buffer.from(password, 'utf8') : { secret: quoted };
      return this.#run(['LOGIN ', astringPart(user), ' ', secretPart], {});
    });
  }

  noop(): Promise<ImapResponse> {
    return this.command('NOOP');
  }

  /**
   * SELECT. The name goes as an atom, a quoted string or (non-ASCII) a UTF-8
   * literal; encoding it in modified UTF-7 (RFC 3501 §5.1.3) is the caller's job
   * when the server lacks UTF8=ACCEPT.
   */
  select(mailbox: string): Promise<ImapResponse> {
    return this.command(['SELECT ', astringPart(mailbox)]);
  }

  /** APPEND with the message as a literal ("{n+}" with LITERAL+, else after the server's "+"). */
  append(mailbox: string, message: Buffer, options: { flags?: readonly string[] } & ImapCommandOptions = {}): Promise<ImapResponse> {
    const flags = options.flags === undefined ? '' : ` (${options.flags.join(' ')})`;
    return this.command(['APPEND ', astringPart(mailbox), `${flags} `, message], options);
  }

  /**
   * STARTTLS (RFC 3501 §6.2.1) and, on OK, the TLS handshake. Refuses to go on
   * if the server sent anything after its OK (CVE-2011-0411). Capabilities
   * are forgotten, as the RFC requires; ask again with capability().
   */
  starttls(): Promise<ImapResponse> {
    return this.#serial(async () => {
      if (this.#connection.tls !== undefined) {
        throw new ImapRawProtocolError('EIMAP_STATE', 'STARTTLS refused locally: TLS is already active on this connection', {
          command: 'STARTTLS',
        });
      }
      const response = await this.#run(['STARTTLS'], {}, { phase: 'starttls', trustCodes: false });
      if (response.status !== 'OK') return response;
      await this.#connection.upgradeToTls();
      this.#preTlsCapabilities = this.#capabilities;
      this.#capabilities = [];
      return response;
    });
  }

  /**
   * IDLE (RFC 2177): send IDLE, wait for "+", collect untagged responses until
   * `until` matches or `timeoutMs` passes, send DONE and read the tagged
   * response. Each untagged response carries the time it was read, for push
   * latency measurements.
   */
  idle(options: ImapIdleOptions): Promise<ImapIdleResult> {
    return this.#serial(() => this.#idle(options));
  }

  /**
   * Several commands in flight at once (RFC 9051 §5.5): all are written, then
   * every tagged response is matched to its command by tag, in whatever order
   * the server completes them. Only for commands that do not depend on each
   * other's results (the caller's job: e.g. UID FETCH and UID STORE of
   * distinct messages); text only, no literals. Untagged responses cannot be
   * tied to one command in a pipeline: each goes to the oldest command still
   * in flight (a FETCH response names its UID for the caller to match). Each
   * result carries when its command was written and when its tagged response
   * was read (performance.now()), so latency is measured from its own send.
   */
  pipeline(commands: readonly string[], options: ImapCommandOptions = {}): Promise<ImapPipelined[]> {
    return this.#serial(async () => {
      for (const text of commands) {
        if (/[\r\n]/.test(text)) throw new ImapRawProtocolError('EIMAP_ARGUMENT', 'command text must not contain CR or LF (send such values as literals)');
      }
      const exchanges: Exchange[] = commands.map((text) => {
        const tag = this.#nextTag();
        const display = `${tag} ${text}`;
        return {
          tag,
          display,
          phase: 'command',
          timeoutMs: options.timeoutMs,
          budget: this.#connection.replyBudget(display, 'reply', Math.max(this.#connection.timeouts.command, options.timeoutMs ?? 0)),
          untagged: [],
          octets: 0,
          expectBye: false,
          trustCodes: true,
        };
      });
      const sentAt: number[] = [];
      const results: ImapPipelined[] = new Array(exchanges.length);
      const inFlight = [...exchanges];
      try {
        for (const exchange of exchanges) {
          this.#exchange = exchange;
          this.#write([exchange.display], [exchange.display]);
          sentAt.push(performance.now());
        }
        while (inFlight.length > 0) {
          const oldest = inFlight[0] as Exchange;
          this.#exchange = oldest;
          const parsed = await this.#read(oldest);
          if (parsed.type === 'untagged') {
            this.#untagged(oldest, parsed.response);
            continue;
          }
          if (parsed.type === 'continuation') throw this.#unexpectedContinuation(oldest, parsed.raw);
          const at = inFlight.findIndex((e) => e.tag === parsed.tag);
          if (at < 0) {
            this.#connection.destroy();
            throw new ImapRawProtocolError(
              'EIMAP_TAG',
              `${this.#connection.endpoint} answered with tag ${JSON.stringify(parsed.tag)}, which none of the ${inFlight.length} commands in flight has`,
              { command: oldest.display, response: parsed.raw },
            );
          }
          const [done] = inFlight.splice(at, 1) as [Exchange];
          const i = exchanges.indexOf(done);
          results[i] = { response: this.#finish(done, parsed), sentAt: sentAt[i] as number, answeredAt: performance.now() };
        }
        return results;
      } finally {
        this.#exchange = undefined;
      }
    });
  }

  /** LOGOUT: expects "* BYE" then the tagged OK; the connection is closed either way. */
  logout(): Promise<ImapResponse> {
    return this.#serial(async () => {
      try {
        return await this.#run(['LOGOUT'], {}, { expectBye: true });
      } finally {
        await this.#connection.close();
      }
    });
  }

  /** Destroy the socket without LOGOUT: the "connection lost" case. */
  drop(): void {
    if (!this.#connection.closed) this.#connection.info('connection dropped by mailprobe without LOGOUT');
    this.#connection.destroy();
  }

  // --- internals --------------------------------------------------------------

  #serial<T>(run: () => Promise<T>): Promise<T> {
    return this.#queue.run(run);
  }

  async #secure(askAgain: boolean): Promise<void> {
    const connection = this.#connection;
    const details = { host: connection.host, port: connection.port };
    if (this.greeting.status === 'PREAUTH') {
      // RFC 3501 §6.2.1: STARTTLS is only valid in the not-authenticated state.
      throw new TransportError(
        'ESTARTTLS',
        'starttls',
        `${connection.endpoint} greeted with PREAUTH, so STARTTLS is not possible; use security: tls on the IMAPS port (993)`,
        details,
      );
    }
    await this.capability();
    if (!this.hasCapability('STARTTLS')) {
      throw new TransportError(
        'ESTARTTLS',
        'starttls',
        `${connection.endpoint} does not advertise STARTTLS in its CAPABILITY response, so the connection cannot be secured; ` +
          'use security: tls on the IMAPS port (993), or security: none if plaintext is really intended',
        details,
      );
    }
    const response = await this.starttls();
    if (response.status !== 'OK') {
      throw new TransportError('ESTARTTLS', 'starttls', `${connection.endpoint} refused STARTTLS: ${response.status} ${response.text}`.trimEnd(), {
        ...details,
        command: `${response.tag} STARTTLS`,
      });
    }
    if (askAgain) await this.capability();
  }

  #nextTag(): string {
    this.#tagCounter++;
    return `A${String(this.#tagCounter).padStart(3, '0')}`;
  }

  #segments(parts: readonly ImapCommandPart[], literals: 'auto' | 'sync'): Segment[] {
    const segments: Segment[] = [];
    let wire = '';
    let shown = '';
    for (const part of parts) {
      if (typeof part === 'string' || !Buffer.isBuffer(part)) {
        const text = typeof part === 'string' ? part : part.secret;
        if (/[\r\n]/.test(text)) {
          // Never let a value smuggle a second command onto the wire.
          throw new ImapRawProtocolError('EIMAP_ARGUMENT', 'command text must not contain CR or LF (send such values as literals)');
        }
        wire += text;
        shown += typeof part === 'string' ? text : REDACTED;
        // The exact secret text goes to the run's redactor too, in case the server echoes it.
        if (typeof part !== 'string') this.#transcript.inner.secret(text);
        continue;
      }
      const sync = literals === 'sync' || !this.#nonSyncAllowed(part.length);
      const marker = `{${part.length}${sync ? '' : '+'}}`;
      segments.push({ wire: wire + marker, shown: shown + marker, literal: { bytes: part, sync } });
      wire = '';
      shown = '';
    }
    segments.push({ wire, shown });
    return segments;
  }

  #nonSyncAllowed(size: number): boolean {
    return this.hasCapability('LITERAL+') || (this.hasCapability('LITERAL-') && size <= LITERAL_MINUS_MAX);
  }

  async #run(
    parts: readonly ImapCommandPart[],
    options: ImapCommandOptions,
    mode: { phase?: Phase; expectBye?: boolean; trustCodes?: boolean } = {},
  ): Promise<ImapResponse> {
    const tag = this.#nextTag();
    const segments = this.#segments([`${tag} `, ...parts], options.literals ?? 'auto');
    const first = segments[0] as Segment;
    const secret = options.secret;
    if (secret !== undefined) this.#transcript.inner.secret(secret);
    const hide = (text: string): string => (secret === undefined || secret === '' ? text : text.split(secret).join(REDACTED));
    const display = hide(first.shown);
    // Refuse unsendable literals before the first byte goes out.
    const literalLines = segments.map((segment, i) => {
      const previous = segments[i - 1]?.literal;
      if (previous === undefined) return [segment.wire];
      return wireLines(Buffer.concat([previous.bytes, Buffer.from(segment.wire, 'utf8')]), display);
    });
    const exchange: Exchange = {
      tag,
      display,
      phase: mode.phase ?? 'command',
      timeoutMs: options.timeoutMs,
      budget: this.#connection.replyBudget(display, 'reply', Math.max(this.#connection.timeouts.command, options.timeoutMs ?? 0)),
      untagged: [],
      octets: 0,
      expectBye: mode.expectBye === true,
      trustCodes: mode.trustCodes !== false,
    };
    this.#exchange = exchange;
    try {
      this.#write([first.wire], [display]);
      for (let i = 1; i < segments.length; i++) {
        const literal = (segments[i - 1] as Segment).literal as NonNullable<Segment['literal']>;
        if (literal.sync) {
          // Synchronizing literal: the server says "+" (go ahead) or refuses with a tagged response.
          for (;;) {
            const parsed = await this.#read(exchange);
            if (parsed.type === 'continuation') break;
            if (parsed.type === 'tagged') return this.#finish(exchange, parsed);
            this.#untagged(exchange, parsed.response);
          }
        }
        const segment = segments[i] as Segment;
        const shown = [`[literal: ${literal.bytes.length} octets]`, ...(segment.shown === '' ? [] : [hide(segment.shown)])];
        this.#write(literalLines[i] as string[], shown);
      }
      for (;;) {
        const parsed = await this.#read(exchange);
        if (parsed.type === 'tagged') return this.#finish(exchange, parsed);
        if (parsed.type === 'untagged') {
          this.#untagged(exchange, parsed.response);
          continue;
        }
        if (options.onContinuation === undefined) throw this.#unexpectedContinuation(exchange, parsed.raw);
        const answer = await options.onContinuation(parsed.text);
        const line = typeof answer === 'string' ? answer : answer.line;
        const secret = typeof answer !== 'string' && answer.secret;
        if (/[\r\n]/.test(line)) throw new ImapRawProtocolError('EIMAP_ARGUMENT', 'a continuation answer must not contain CR or LF');
        if (secret) this.#transcript.inner.secret(line);
        this.#write([line], [secret ? REDACTED : line]);
      }
    } finally {
      this.#exchange = undefined;
    }
  }

  async #idle(options: ImapIdleOptions): Promise<ImapIdleResult> {
    const tag = this.#nextTag();
    const { command } = this.#connection.timeouts;
    const exchange: Exchange = {
      tag,
      display: `${tag} IDLE`,
      phase: 'command',
      timeoutMs: undefined,
      // The "+" within the command timeout, the idle itself, then the answer to DONE.
      budget: this.#connection.replyBudget(`${tag} IDLE`, 'reply', command + options.timeoutMs + command),
      untagged: [],
      octets: 0,
      expectBye: false,
      trustCodes: true,
    };
    const events: TimedUntaggedResponse[] = [];
    let idleStartedAt: number | undefined;
    let deadline = 0;
    let matched = false;
    let doneSent = false;
    let ended: ImapIdleResult['ended'] | undefined;
    let timer: NodeJS.Timeout | undefined;
    const done = (why: 'matched' | 'timeout'): void => {
      if (doneSent || idleStartedAt === undefined) return;
      doneSent = true;
      ended = why;
      clearTimeout(timer);
      try {
        this.#write(['DONE'], ['DONE']);
      } catch {
        // The connection is gone; the pending read rejects with the reason.
      }
    };
    this.#exchange = exchange;
    try {
      this.#write([exchange.display], [exchange.display]);
      for (;;) {
        // While idling, a read may legitimately wait until the deadline; the
        // command timeout then bounds the server's answer to DONE.
        const timeoutMs = idleStartedAt !== undefined && !doneSent ? Math.max(0, deadline - Date.now()) + this.#connection.timeouts.command : undefined;
        const parsed = await this.#read(exchange, timeoutMs);
        if (parsed.type === 'tagged') {
          const response = this.#finish(exchange, parsed);
          return { response, events, idleStartedAt, ended: idleStartedAt === undefined ? 'refused' : (ended ?? 'server') };
        }
        if (parsed.type === 'continuation') {
          if (idleStartedAt !== undefined) throw this.#unexpectedContinuation(exchange, parsed.raw);
          idleStartedAt = Date.now();
          deadline = idleStartedAt + options.timeoutMs;
          if (matched) done('matched');
          else timer = setTimeout(() => done('timeout'), timerDelay(options.timeoutMs));
          continue;
        }
        const at = Date.now();
        this.#untagged(exchange, parsed.response);
        events.push({ ...parsed.response, at });
        if (!matched && options.until?.(parsed.response) === true) {
          matched = true;
          done('matched');
        }
      }
    } finally {
      clearTimeout(timer);
      this.#exchange = undefined;
    }
  }

  /** Send lines (already split) and log `shown` for them: literal octets never reach the transcript. */
  #write(lines: readonly string[], shown: readonly string[]): void {
    const command = this.#exchange?.display;
    this.#transcript.quietly(() => {
      for (const line of lines) this.#connection.writeLine(line, command === undefined ? {} : { command });
    });
    for (const text of shown) this.#transcript.inner.client(this.#connection.session, text);
  }

  async #read(exchange: Exchange, timeoutMs = exchange.timeoutMs): Promise<ParsedResponse> {
    for (;;) {
      let line;
      try {
        line = await this.#connection.readLine({
          phase: exchange.phase,
          command: exchange.display,
          log: false,
          budget: exchange.budget,
          ...(timeoutMs === undefined ? {} : { timeoutMs }),
        });
      } catch (error) {
        // The connection is gone (timeout, close, limit): a response cut short is dropped.
        this.#framer.discard();
        throw error;
      }
      const framed = this.#framer.push(line);
      if (framed === undefined) continue;
      exchange.octets += framed.octets;
      if (exchange.octets > this.#limits.maxCommandBytes) {
        throw this.#limit(exchange, `responses of ${exchange.octets} octets`, this.#limits.maxCommandBytes);
      }
      try {
        return parseResponse(framed, exchange.display);
      } catch (error) {
        // The stream can no longer be trusted to be in step with our commands.
        this.#connection.destroy();
        throw error;
      }
    }
  }

  #untagged(exchange: Exchange, response: UntaggedResponse): void {
    exchange.untagged.push(response);
    if (exchange.untagged.length > this.#limits.maxUntaggedPerCommand) {
      throw this.#limit(exchange, `${exchange.untagged.length} untagged responses`, this.#limits.maxUntaggedPerCommand);
    }
    if (response.kind === 'CAPABILITY') {
      this.#capabilities = capabilityList(response.raw.slice(2));
    } else if (response.kind === 'OK' && exchange.trustCodes && response.code !== undefined && /^CAPABILITY\b/i.test(response.code)) {
      this.#capabilities = capabilityList(response.code);
    } else if (response.kind === 'BYE' && !exchange.expectBye) {
      this.#connection.destroy();
      throw new ImapRawProtocolError(
        'EIMAP_BYE',
        `${this.#connection.endpoint} sent BYE while mailprobe waited for the reply to ${exchange.display}: ${response.text ?? ''}`.trimEnd(),
        { command: exchange.display, response: response.raw },
      );
    }
  }

  #finish(exchange: Exchange, parsed: Extract<ParsedResponse, { type: 'tagged' }>): ImapResponse {
    if (parsed.tag !== exchange.tag) {
      this.#connection.destroy();
      throw new ImapRawProtocolError(
        'EIMAP_TAG',
        `${this.#connection.endpoint} answered with tag ${JSON.stringify(parsed.tag)} while ${exchange.tag} was the only command in flight`,
        { command: exchange.display, response: parsed.raw },
      );
    }
    if (parsed.status === 'OK' && exchange.trustCodes && parsed.code !== undefined && /^CAPABILITY\b/i.test(parsed.code)) {
      this.#capabilities = capabilityList(parsed.code);
    }
    return {
      tag: parsed.tag,
      status: parsed.status,
      ...(parsed.code === undefined ? {} : { code: parsed.code }),
      text: parsed.text,
      untagged: exchange.untagged,
    };
  }

  #unexpectedContinuation(exchange: Exchange, raw: string): ImapRawProtocolError {
    // The server now waits for data we do not have: the session cannot go on.
    this.#connection.destroy();
    return new ImapRawProtocolError(
      'EIMAP_CONTINUATION',
      `${this.#connection.endpoint} sent a continuation request that ${exchange.display} has no answer for`,
      { command: exchange.display, response: raw },
    );
  }

  #limit(exchange: Exchange, what: string, limit: number): TransportError {
    const error = limitExceeded(exchange.phase, what, limit, {
      host: this.#connection.host,
      port: this.#connection.port,
      command: exchange.display,
    });
    this.#connection.destroy(error);
    return error;
  }
}

/** Outside any command (exchange undefined) the only response read is the greeting. */
function checkLiteral(connection: Connection, limits: EffectiveImapLimits, size: string, responseOctets: number, exchange: Exchange | undefined): void {
  const octets = Number(size);
  const phase: Phase = exchange?.phase ?? 'greeting';
  const details = { host: connection.host, port: connection.port, command: exchange?.display ?? '(greeting)' };
  let error: TransportError | undefined;
  if (!Number.isSafeInteger(octets) || octets > limits.maxLiteralBytes) {
    error = limitExceeded(phase, `a literal of ${size} octets`, limits.maxLiteralBytes, details);
  } else if ((exchange?.octets ?? 0) + responseOctets + octets > limits.maxCommandBytes) {
    error = limitExceeded(phase, `responses of ${(exchange?.octets ?? 0) + responseOctets + octets}+ octets`, limits.maxCommandBytes, details);
  }
  if (error === undefined) {
    // A literal is a transfer: from now on the response is held to the minimum rate, not a fixed deadline.
    exchange?.budget.becomeTransfer();
    return;
  }
  connection.destroy(error);
  throw error;
}

function refused(command: string, response: ImapResponse): ImapRawProtocolError {
  return new ImapRawProtocolError('EIMAP_REFUSED', `server refused ${command}: ${response.tag} ${response.status} ${response.text}`.trimEnd(), {
    command: `${response.tag} ${command}`,
  });
}
