import { ImapSessionError } from './errors.js';

/**
 * Deadlines for everything an imapflow session waits for after the socket is
 * up: the greeting, and the complete answer to every command imapflow sends,
 * its own (CAPABILITY, STARTTLS, LOGIN/AUTHENTICATE, ENABLE, ID, NAMESPACE)
 * and the scenario's. This is the one place an imapflow command is timed:
 * ImapSession.call adds no timer of its own, it ends when `abort` ends the
 * session. imapflow only has an inactivity timer after the greeting,
 * which a server that trickles bytes keeps happy for ever; these are totals,
 * per reply, fed from the lines imapflow logs. On expiry `abort` is called,
 * which destroys the socket (see ImapflowTransport.abort).
 *
 * IDLE is the one wait with no deadline here: once the server has answered
 * "+", the push timeout of the scenario bounds it, and DONE starts the
 * deadline of the tagged answer.
 */
export interface SessionDeadlineOptions {
  readonly greetingMs: number;
  readonly commandMs: number;
  /** "127.0.0.1:143", for messages. */
  readonly where: string;
  /** Plain-text sessions get the hint that an implicit-TLS port says nothing. */
  readonly plainText: boolean;
  readonly abort: (error: ImapSessionError) => void;
  /**
   * Octets per second a literal may arrive at (limits.minTransferRate): an
   * answer that carries literals is a transfer and gets one more second per
   * this many octets announced, like the raw client's transfers.
   */
  readonly minTransferRate: number;
}

export class SessionDeadlines {
  /** The phase the session is in: greeting, auth, starttls or command. */
  phase = 'greeting';
  #timer: NodeJS.Timeout | undefined;
  #deadlineAt = 0;
  #expiry: { phase: string; message: string } | undefined;
  #granted = 0;
  #pending: string | undefined;
  #idling = false;
  #greeted = false;
  #stopped = false;

  constructor(readonly options: SessionDeadlineOptions) {}

  /** Whether the server's greeting has arrived. */
  get greeted(): boolean {
    return this.#greeted;
  }

  /** The socket is up: the greeting is due within the greeting timeout. */
  connected(): void {
    const { greetingMs, where, plainText } = this.options;
    const hint = plainText ? '; if this port expects implicit TLS, use security: tls' : '';
    this.#arm('greeting', greetingMs, `no complete IMAP greeting from ${where} within ${greetingMs} ms${hint}`);
  }

  /** A line the client sent, as imapflow logs it ("3 LOGIN alice (* value hidden *)", "DONE"). */
  client(line: string): void {
    if (this.#idling && line === 'DONE') {
      this.#idling = false;
      this.#start('IDLE (DONE)', 'command');
      return;
    }
    // A literal or SASL continuation belongs to the command already waiting.
    if (this.#pending !== undefined || !this.#greeted) return;
    const words = line.split(' ');
    const verb = (words[1] ?? '').toUpperCase();
    const name = verb === 'UID' ? `UID ${(words[2] ?? '').toUpperCase()}` : verb;
    this.#start(name, verb === 'LOGIN' || verb === 'AUTHENTICATE' ? 'auth' : verb === 'STARTTLS' ? 'starttls' : 'command');
  }

  /** A line the server sent, as imapflow logs it. */
  server(line: string): void {
    if (!this.#greeted) {
      if (/^\* (OK|PREAUTH|BYE)\b/i.test(line)) {
        this.#greeted = true;
        this.phase = 'command';
        this.#disarm();
      }
      return;
    }
    if (line.startsWith('+')) {
      if (this.#pending === 'IDLE') {
        // Idling: the scenario's push timeout bounds this wait, not the command timeout.
        this.#idling = true;
        this.#pending = undefined;
        this.#disarm();
      }
      return;
    }
    if (line.startsWith('*')) return;
    this.#pending = undefined;
    this.#disarm();
  }

  /**
   * A literal of `octets` was announced in the answer being waited for: the
   * answer becomes a transfer, and its deadline moves on by the time the
   * minimum rate allows for those octets. Returns the milliseconds granted.
   */
  literal(octets: number): number {
    if (this.#timer === undefined || this.#expiry === undefined || octets <= 0) return 0;
    const ms = Math.ceil((octets / this.options.minTransferRate) * 1000);
    this.#granted += octets;
    const { phase, message } = this.#expiry;
    this.#arm(phase, this.#deadlineAt + ms - Date.now(), message, this.#deadlineAt + ms);
    return ms;
  }

  stop(): void {
    this.#stopped = true;
    this.#disarm();
  }

  #start(command: string, phase: string): void {
    const { commandMs, where } = this.options;
    this.#pending = command;
    this.phase = phase;
    this.#granted = 0;
    this.#arm(phase, commandMs, `${where} sent no complete answer to ${command} within ${commandMs} ms`);
  }

  #arm(phase: string, ms: number, message: string, deadlineAt = Date.now() + ms): void {
    if (this.#stopped) return;
    this.#disarm();
    this.phase = phase;
    this.#deadlineAt = deadlineAt;
    this.#expiry = { phase, message };
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        const rate =
          this.#granted > 0
            ? ` (plus 1 s per ${this.options.minTransferRate} octets for the ${this.#granted} literal octets announced: the transfer fell below the minimum rate)`
            : '';
        this.options.abort(new ImapSessionError('ETIMEOUT', `${message}${rate}`, phase));
      },
      Math.max(0, ms),
    );
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#expiry = undefined;
  }
}
