import type { Security } from '../core/protocols.js';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { TransportError, endpoint, starttlsInjectionError, type Phase } from './errors.js';
import { silentGreeting, wrongProtocolError, type MailProtocol } from './greeting-kind.js';
import { handshake } from './handshake.js';
import { bufferedBytes, limitExceeded, type Limits } from './limits.js';
import { LineReader, type Line } from './line-reader.js';
import { abortedError } from './phase.js';
import { ReplyBudget, type ReplyKind } from './reply-budget.js';
import { timerDelay, type Timeouts } from './timeouts.js';
import { describeTls, type TlsInfo, type TlsOptions } from './tls.js';
import type { ClientLineOptions, Transcript } from './transcript.js';

export type { Security } from '../core/protocols.js';

/** Milliseconds spent in each connect phase; absent when the phase did not run. */
export interface PhaseTimings {
  dns?: number;
  tcp?: number;
  tls?: number;
  greeting?: number;
}

export interface ReadLineOptions {
  /** "greeting" uses the greeting timeout; anything else the command timeout. */
  readonly phase: Phase;
  /** The command this line answers, already redacted ("PASS [redacted]"). */
  readonly command?: string;
  /** Overrides the phase's timeout for this one read. */
  readonly timeoutMs?: number;
  /**
   * The deadline of the whole reply this line belongs to (connection.replyBudget).
   * Without it only the per-line inactivity timeout applies.
   */
  readonly budget?: ReplyBudget;
  /** false: do not copy the line into the transcript (message bodies). */
  readonly log?: boolean;
}

export interface ConnectionInit {
  readonly socket: Socket | TLSSocket;
  readonly host: string;
  readonly port: number;
  readonly address: string;
  readonly security: Security;
  readonly tlsOptions: TlsOptions | undefined;
  readonly tls: TlsInfo | undefined;
  readonly timings: PhaseTimings;
  readonly timeouts: Timeouts;
  readonly limits: Limits;
  readonly transcript: Transcript;
  readonly session: string;
  readonly signal: AbortSignal | undefined;
}

interface Waiter {
  readonly resolve: (line: Line) => void;
  readonly reject: (error: unknown) => void;
  readonly options: ReadLineOptions;
  /** Re-armed until the inactivity timeout or the reply's budget runs out. */
  timer: NodeJS.Timeout;
}

const CRLF = Buffer.from('\r\n');

/** Octets a line occupied on the wire, its ending included. */
function wireOctets(line: Line): number {
  return line.bytes.length + (line.ending === 'crlf' ? 2 : 1);
}

/**
 * One established connection: a socket (plain or TLS), a line reader on its
 * bytes, and the transcript every line is written to. Protocol clients read
 * and write lines through it and never touch the socket.
 *
 * After a timeout, a limit or an abort the socket is destroyed: a reply that
 * arrived late would otherwise be taken as the answer to the next command.
 */
export class Connection {
  readonly host: string;
  readonly port: number;
  /** The address actually connected to (DNS result). */
  readonly address: string;
  readonly security: Security;
  readonly timings: PhaseTimings;
  readonly timeouts: Timeouts;
  readonly limits: Limits;
  readonly transcript: Transcript;
  readonly session: string;

  #socket: Socket | TLSSocket;
  #tls: TlsInfo | undefined;
  readonly #tlsOptions: TlsOptions | undefined;
  readonly #signal: AbortSignal | undefined;
  readonly #reader: LineReader;
  readonly #queue: Line[] = [];
  #waiter: Waiter | undefined;
  #paused = false;
  #gone = false;
  #closedByUs = false;
  #socketError: Error | undefined;
  #failure: TransportError | undefined;
  #discardedBytes = 0;
  #bareLfNoted = false;
  #upgrading = false;
  /** The socket corked for this tick's writes, if any (see #send). */
  #corked: Socket | TLSSocket | undefined;

  constructor(init: ConnectionInit) {
    this.host = init.host;
    this.port = init.port;
    this.address = init.address;
    this.security = init.security;
    this.timings = init.timings;
    this.timeouts = init.timeouts;
    this.limits = init.limits;
    this.transcript = init.transcript;
    this.session = init.session;
    this.#socket = init.socket;
    this.#tls = init.tls;
    // A new connection under this session's name: its lines are in the clear unless it opened with TLS.
    this.transcript.secured(this.session, init.tls !== undefined);
    this.#tlsOptions = init.tlsOptions;
    this.#signal = init.signal;
    this.#reader = new LineReader(init.limits.maxLineLength, (length) =>
      limitExceeded(this.#waiter?.options.phase ?? 'command', `a line of ${length}+ octets`, init.limits.maxLineLength, {
        host: this.host,
        port: this.port,
        ...(this.#waiter?.options.command === undefined ? {} : { command: this.#waiter.options.command }),
      }),
    );
    this.#attach(this.#socket);
    this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** TLS details once TLS is up (implicit or after STARTTLS). */
  get tls(): TlsInfo | undefined {
    return this.#tls;
  }

  get closed(): boolean {
    return this.#gone;
  }

  /** Lines the server ended with a bare LF instead of CRLF (lenient, but noted). */
  get bareLineFeeds(): number {
    return this.#reader.bareLineFeeds;
  }

  /** "127.0.0.1:110" for messages. */
  get endpoint(): string {
    return endpoint(this.host, this.port);
  }

  info(text: string): void {
    this.transcript.info(this.session, text);
  }

  /** Send one line; CRLF is added. Secrets are marked for the transcript here. */
  writeLine(text: string, options: ClientLineOptions & { readonly command?: string } = {}): void {
    if (this.#gone || this.#socket.destroyed) {
      throw this.#closedError({ phase: 'command', ...(options.command === undefined ? {} : { command: options.command }) }, 'before');
    }
    if (/[\r\n]/.test(text)) {
      // Never let a value smuggle a second command onto the wire.
      throw new TypeError('a protocol line must not contain CR or LF');
    }
    this.transcript.client(this.session, text, options);
    this.#send(Buffer.concat([Buffer.from(text, 'utf8'), CRLF]));
  }

  /**
   * Write, coalescing what is written in the same tick: the socket is corked at
   * the first write and uncorked on the next tick, so an APPEND's command and
   * literal lines, or a pipelined batch, leave as one write (one TLS record, one
   * syscall) instead of one per line. Order and content are unchanged.
   */
  #send(chunk: Buffer, done?: (error?: Error | null) => void): void {
    const socket = this.#socket;
    if (this.#corked !== socket) {
      socket.cork();
      this.#corked = socket;
      process.nextTick(() => this.#uncork(socket));
    }
    socket.write(chunk, done);
  }

  #uncork(socket: Socket | TLSSocket): void {
    if (this.#corked !== socket) return;
    this.#corked = undefined;
    socket.uncork();
  }

  /**
   * Send raw bytes that are not a protocol line (SMTP message data, already
   * framed by the caller) without copying them into the transcript, and wait
   * until the socket has taken them all. A transfer: it must end within
   * `baseMs` (default the command timeout) plus 1 s per limits.minTransferRate
   * octets, else ETIMEOUT, naming the rate, and the socket is destroyed.
   */
  writeBytes(data: Buffer, options: { readonly phase: Phase; readonly command: string; readonly baseMs?: number }): Promise<void> {
    const details = { host: this.host, port: this.port, command: options.command };
    if (this.#gone || this.#socket.destroyed) return Promise.reject(this.#closedError({ phase: options.phase, command: options.command }, 'before'));
    // The same allowance as a transfer read: the whole of `data` counts from the start, sent or not.
    const budget = this.replyBudget(options.command, 'transfer', options.baseMs);
    budget.consumed(data.length);
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const timer = setTimeout(
        () => {
          if (done) return;
          done = true;
          const error = new TransportError(
            'ETIMEOUT',
            options.phase,
            `${this.endpoint} did not take ${options.command} at the minimum rate of ${budget.minRate} bytes/s: ` +
              `${data.length} octets not sent within ${Math.round(performance.now() - budget.startedAt)} ms ` +
              `(a transfer may take ${budget.baseMs} ms plus 1 s per ${budget.minRate} octets)`,
            details,
          );
          this.destroy(error);
          reject(error);
        },
        timerDelay(budget.deadline() - budget.startedAt),
      );
      this.#send(data, (error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (error === undefined || error === null) resolve();
        else reject(this.#failure ?? this.#closedError({ phase: options.phase, command: options.command }, 'while'));
      });
    });
  }

  /**
   * Read the server greeting with the greeting timeout, recording its time.
   * `budget`: the deadline of a greeting of several lines (SMTP), counted from
   * its first; `log: false` when the caller copies the line to the transcript.
   *
   * With `protocol`, what the greeting says about the port is decided here,
   * once, for every client: a first line of another protocol, of TLS, or of
   * no protocol's shape is EWRONG_PROTOCOL (greeting-kind's
   * wrongProtocolError), and silence on a plain-text port that answers a TLS
   * handshake says the port wants TLS first (silentGreeting). The connection
   * is dropped on either.
   */
  async readGreeting(options: Pick<ReadLineOptions, 'budget' | 'log'> & { readonly protocol?: MailProtocol } = {}): Promise<Line> {
    const { protocol, ...read } = options;
    const started = performance.now();
    let line: Line;
    try {
      line = await this.readLine({ phase: 'greeting', ...read });
    } catch (error) {
      if (protocol === undefined) throw error;
      this.destroy();
      throw (await silentGreeting(error, this, protocol)) ?? error;
    }
    this.timings.greeting = Math.round(performance.now() - started);
    const wrong = protocol === undefined ? undefined : wrongProtocolError(protocol, line.bytes, this);
    if (wrong !== undefined) {
      this.destroy(wrong);
      throw wrong;
    }
    return line;
  }

  /**
   * The deadline of one reply: pass it to every readLine of that reply. A
   * "reply" must end within `baseMs` (default: the command timeout); a
   * "transfer" gets that plus 1 s per limits.minTransferRate octets.
   */
  replyBudget(command: string, kind: ReplyKind, baseMs = this.timeouts.command): ReplyBudget {
    return new ReplyBudget({ command, kind, baseMs, minRate: this.limits.minTransferRate });
  }

  /** The next complete line from the server. Rejects promptly if the socket goes away. */
  async readLine(options: ReadLineOptions): Promise<Line> {
    return this.#taken(await this.#nextLine(options), options);
  }

  /**
   * The next line when one has already arrived, as readLine gives it, else
   * undefined (then readLine waits for it). Why: a multi-line reply read only
   * by readLine costs a few promises a line, and a 25 MB RETR is 300,000
   * lines. Past the reply's deadline it is undefined too, so that readLine
   * rejects.
   */
  readArrivedLine(options: ReadLineOptions): Line | undefined {
    if (this.#waiter !== undefined || this.#queue.length === 0 || this.#pastBudget(options)) return undefined;
    const line = this.#dequeueAndResume();
    return line === undefined ? undefined : this.#taken(line, options);
  }

  #taken(line: Line, options: ReadLineOptions): Line {
    options.budget?.consumed(wireOctets(line));
    if (options.log !== false) this.transcript.server(this.session, line.bytes.toString('utf8'));
    return line;
  }

  #pastBudget(options: ReadLineOptions): boolean {
    const budget = options.budget;
    return budget !== undefined && !this.#gone && performance.now() >= budget.deadline(this.#reader.bufferedBytes);
  }

  #nextLine(options: ReadLineOptions): Promise<Line> {
    if (this.#waiter !== undefined) {
      return Promise.reject(new Error('Connection.readLine called while another read is pending'));
    }
    // Checked even when a line is queued: a flood that never ends the reply must not outlive it.
    const budget = options.budget;
    if (budget !== undefined && this.#pastBudget(options)) {
      const error = this.#replyExpired(budget, options);
      this.destroy(error);
      return Promise.reject(error);
    }
    const queued = this.#dequeueAndResume();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#failure !== undefined && !this.#gone) return Promise.reject(this.#failure);
    if (this.#gone) return Promise.reject(this.#closedError(options, 'while'));
    const timeoutMs = options.timeoutMs ?? (options.phase === 'greeting' ? this.timeouts.greeting : this.timeouts.command);
    const idleDeadline = performance.now() + timeoutMs;
    return new Promise<Line>((resolve, reject) => {
      const expire = (error: TransportError): void => {
        this.#waiter = undefined;
        this.destroy(error);
        reject(error);
      };
      // Whichever ends first: no line for timeoutMs, or the reply's budget. A
      // transfer's budget grows with the octets of the line in progress, so the
      // timer is re-armed rather than trusted once.
      const check = (): NodeJS.Timeout | undefined => {
        const now = performance.now();
        const replyEnds = budget?.deadline(this.#reader.bufferedBytes) ?? Infinity;
        if (idleDeadline <= now && idleDeadline <= replyEnds) return void expire(this.#timeoutError(options, timeoutMs));
        if (replyEnds <= now) return void expire(this.#replyExpired(budget as ReplyBudget, options, now));
        return setTimeout(
          () => {
            const next = check();
            if (next !== undefined && this.#waiter !== undefined) this.#waiter.timer = next;
          },
          timerDelay(Math.min(idleDeadline, replyEnds) - now),
        );
      };
      const timer = check();
      if (timer === undefined) return;
      this.#waiter = { resolve, reject, options, timer };
      if (this.#paused) this.#resume();
    });
  }

  #dequeue(): Line | undefined {
    const line = this.#queue.shift();
    if (line !== undefined) bufferedBytes.release(line.bytes.length);
    return line;
  }

  /** A queued line, reading on from the socket once the queue is down to half of what paused it. */
  #dequeueAndResume(): Line | undefined {
    const line = this.#dequeue();
    if (line !== undefined && this.#paused && this.#queue.length < this.limits.maxQueuedLines / 2) this.#resume();
    return line;
  }

  /** Lines nobody will read any more (closed by us): their bytes are no longer held. */
  #dropQueue(): void {
    for (const line of this.#queue.splice(0)) bufferedBytes.release(line.bytes.length);
  }

  /**
   * Before a STARTTLS handshake: refuses when the server sent bytes after its
   * go-ahead, which came in plaintext but would be read as if protected
   * (CVE-2011-0411), or when the connection is gone.
   */
  #readyForTls(): void {
    const pending = this.#pendingBytes();
    if (pending > 0) {
      const error = starttlsInjectionError(this.host, this.port, pending);
      this.destroy(error);
      throw error;
    }
    if (this.#gone) throw this.#closedError({ phase: 'starttls' }, 'before');
  }

  /**
   * STARTTLS: hand the socket to TLS after the server accepted the command.
   * Refuses if the server sent anything after its go-ahead: those bytes came
   * in plaintext but would be read as if protected (CVE-2011-0411).
   */
  async upgradeToTls(): Promise<TlsInfo> {
    this.#readyForTls();
    const plain = this.#socket as Socket;
    this.#upgrading = true;
    this.#uncork(plain);
    this.#detach(plain);
    // The TLS socket reports errors from now on; keep the plain socket from
    // throwing an unhandled 'error' event in the meantime.
    plain.on('error', () => undefined);
    const started = performance.now();
    try {
      const secure = await handshake({
        socket: plain,
        host: this.host,
        port: this.port,
        tls: this.#tlsOptions,
        timeoutMs: this.timeouts.tls,
        phase: 'starttls',
        signal: this.#signal,
      });
      this.timings.tls = Math.round(performance.now() - started);
      this.#socket = secure;
      this.#attach(secure);
      this.#tls = describeTls(secure, 'starttls', this.host, this.#tlsOptions);
      this.transcript.secured(this.session, true);
      this.info(tlsSummary(this.#tls));
      return this.#tls;
    } catch (error) {
      this.#gone = true;
      this.#failure = error as TransportError;
      plain.destroy();
      this.#signal?.removeEventListener('abort', this.#onAbort);
      throw error;
    } finally {
      this.#upgrading = false;
    }
  }

  /**
   * STARTTLS when the caller runs the handshake itself (the probe, with TLS
   * options of its own for each handshake): after the server's go-ahead, hands
   * over the plain socket and ends this Connection, which reads nothing more.
   * Refuses, as upgradeToTls does, when the server sent bytes after its
   * go-ahead (CVE-2011-0411): they would be taken for part of the handshake.
   */
  releaseForTls(): Socket {
    this.#readyForTls();
    if (this.#tls !== undefined) throw new Error('releaseForTls: the connection is already under TLS');
    const plain = this.#socket as Socket;
    this.#uncork(plain);
    this.#detach(plain);
    this.#gone = true;
    this.#closedByUs = true;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    return plain;
  }

  /** Bytes received and not yet read: lines queued, and a partial line. */
  #pendingBytes(): number {
    return this.#queue.reduce((n, l) => n + l.bytes.length + (l.ending === 'crlf' ? 2 : 1), 0) + this.#reader.bufferedBytes;
  }

  /** Graceful close: end our side and wait (bounded) for the socket to close. */
  close(): Promise<void> {
    if (this.#gone) return Promise.resolve();
    this.#closedByUs = true;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(
        () => {
          this.#socket.destroy();
          this.#dropQueue();
          resolve();
        },
        Math.min(this.timeouts.command, 2_000),
      );
      this.#socket.once('close', () => {
        clearTimeout(timer);
        this.#dropQueue();
        resolve();
      });
      this.#socket.end();
    });
  }

  /** Abrupt close (no protocol goodbye). A pending read rejects with `reason` or ECLOSED. */
  destroy(reason?: TransportError): void {
    if (reason !== undefined && this.#failure === undefined) this.#failure = reason;
    if (reason === undefined) this.#closedByUs = true;
    // What was written this tick goes out first, as it would have without the cork.
    this.#uncork(this.#socket);
    this.#socket.destroy();
    this.#onGone();
    // After an error the lines before it may still be read; after our own close nobody will.
    if (reason === undefined) this.#dropQueue();
  }

  // --- socket plumbing -------------------------------------------------------

  #attach(socket: Socket | TLSSocket): void {
    socket.on('data', this.#onData);
    socket.on('end', this.#onGone);
    socket.on('close', this.#onGone);
    socket.on('error', this.#onError);
  }

  #detach(socket: Socket | TLSSocket): void {
    socket.off('data', this.#onData);
    socket.off('end', this.#onGone);
    socket.off('close', this.#onGone);
    socket.off('error', this.#onError);
  }

  readonly #onData = (chunk: Buffer): void => {
    try {
      this.#reader.push(chunk, (line) => {
        this.#queue.push(line);
        bufferedBytes.hold(line.bytes.length);
        if (line.ending === 'lf' && !this.#bareLfNoted) {
          this.#bareLfNoted = true;
          this.info('server ended a line with a bare LF instead of CRLF (accepted; counted in bareLineFeeds)');
        }
      });
    } catch (error) {
      this.#deliver();
      const failure = error as TransportError;
      const waiter = this.#waiter;
      this.destroy(failure);
      if (waiter !== undefined) {
        this.#waiter = undefined;
        clearTimeout(waiter.timer);
        waiter.reject(failure);
      }
      return;
    }
    this.#deliver();
    if (!this.#paused && this.#queue.length >= this.limits.maxQueuedLines) {
      this.#paused = true;
      this.#socket.pause();
    }
  };

  readonly #onError = (error: Error): void => {
    this.#socketError ??= error;
  };

  readonly #onGone = (): void => {
    if (this.#upgrading) return;
    if (!this.#gone) {
      this.#gone = true;
      this.#discardedBytes = this.#reader.bufferedBytes;
      this.#reader.reset();
      this.#signal?.removeEventListener('abort', this.#onAbort);
    }
    const waiter = this.#waiter;
    if (waiter === undefined || this.#queue.length > 0) return;
    this.#waiter = undefined;
    clearTimeout(waiter.timer);
    waiter.reject(this.#failure ?? this.#closedError(waiter.options, 'while'));
  };

  readonly #onAbort = (): void => {
    const phase = this.#waiter?.options.phase ?? 'command';
    const error = abortedError(phase, this.#signal);
    const waiter = this.#waiter;
    this.#waiter = undefined;
    this.destroy(error);
    if (waiter !== undefined) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  };

  #deliver(): void {
    const waiter = this.#waiter;
    if (waiter === undefined) return;
    const line = this.#dequeue();
    if (line === undefined) return;
    this.#waiter = undefined;
    clearTimeout(waiter.timer);
    waiter.resolve(line);
  }

  #resume(): void {
    this.#paused = false;
    this.#socket.resume();
  }

  /**
   * A reply past its deadline. When not one octet of it has arrived the
   * server was silent, and is told so as the inactivity timeout would (the
   * two are the same length, and the budget starts first): "no complete
   * reply … its lines kept coming" would not be true.
   */
  #replyExpired(budget: ReplyBudget, options: ReadLineOptions, now = performance.now()): TransportError {
    if (budget.octets === 0 && this.#reader.bufferedBytes === 0 && this.#queue.length === 0) return this.#timeoutError(options, budget.baseMs);
    return budget.exceeded(this.endpoint, options.phase, { host: this.host, port: this.port }, now);
  }

  #timeoutError(options: ReadLineOptions, timeoutMs: number): TransportError {
    const details = { host: this.host, port: this.port, ...(options.command === undefined ? {} : { command: options.command }) };
    if (options.phase === 'greeting') {
      // An implicit-TLS port waits for our ClientHello and says nothing to a plain-text client.
      const hint =
        this.security === 'tls'
          ? ' (the server accepted the connection but said nothing)'
          : ' (the server accepted TCP but said nothing; if this port expects implicit TLS, use security: tls)';
      return new TransportError('ETIMEOUT', 'greeting', `no greeting from ${this.endpoint} within ${timeoutMs} ms${hint}`, details);
    }
    const what = options.command === undefined ? 'a reply' : `the reply to ${options.command}`;
    return new TransportError('ETIMEOUT', options.phase, `${this.endpoint} sent no line of ${what} within ${timeoutMs} ms`, details);
  }

  #closedError(options: ReadLineOptions, when: 'while' | 'before'): TransportError {
    const details = {
      host: this.host,
      port: this.port,
      ...(options.command === undefined ? {} : { command: options.command }),
      ...((this.#failure ?? this.#socketError) ? { cause: this.#failure ?? this.#socketError } : {}),
    };
    const what = options.phase === 'greeting' ? 'the greeting' : options.command === undefined ? 'a reply' : `the reply to ${options.command}`;
    let message: string;
    if (this.#failure !== undefined) {
      message = `the connection to ${this.endpoint} was closed after an earlier error (${this.#failure.message})`;
    } else if (this.#closedByUs) {
      message = `the connection to ${this.endpoint} is closed (closed by mailprobe)`;
    } else if (when === 'before') {
      message = `the connection to ${this.endpoint} is closed; could not send ${options.command ?? 'the command'}`;
    } else {
      const how =
        this.#socketError === undefined
          ? 'closed the connection'
          : `dropped the connection (${(this.#socketError as NodeJS.ErrnoException).code ?? this.#socketError.message})`;
      message = `${this.endpoint} ${how} while mailprobe waited for ${what}`;
      if (this.#discardedBytes > 0) message += `; ${this.#discardedBytes} octets of an unterminated line were discarded`;
    }
    return new TransportError('ECLOSED', options.phase, message, details);
  }
}

export function tlsSummary(info: TlsInfo): string {
  const verification = info.authorized
    ? `certificate verified for ${info.checkedName}`
    : info.verify
      ? `certificate NOT verified (${info.authorizationError ?? 'unknown reason'})`
      : `certificate NOT verified, verification disabled (insecure)${info.authorizationError === undefined ? '' : `: ${info.authorizationError}`}`;
  return `TLS established (${info.mode}): ${info.protocol ?? '?'} ${info.cipher}; ${verification}`;
}
